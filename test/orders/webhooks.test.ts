import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildLocalWebhook, signStripePayload } from "../../src/payments";
import { createTenant, registerUser } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { onSaleEvent } from "../sales/support";
import { buy, inventoryStub } from "./support";

const WEBHOOK = "/v1/webhooks/stripe";
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A pending EUR 30.00 order and what a Stripe event about it needs. */
async function pendingOrder() {
  const tenant = await createTenant();
  const { event, tier } = await onSaleEvent(tenant, { priceMinor: 3000, capacity: 5 });
  const buyer = await registerUser(tenant);
  const res = await buy(buyer.tokens.accessToken, event.id, tier.id, 1);
  expect(res.status, res.text).toBe(201);
  expect(res.body.status).toBe("pending");
  const intent = {
    id: res.body.payment.intentId as string,
    amountMinor: 3000,
    currency: "EUR",
    metadata: { tenant_id: tenant.id, event_id: event.id, order_id: res.body.id as string },
  };
  return { tenant, event, tier, buyer, order: res.body, intent };
}

function post(body: string, signature?: string) {
  return call("POST", WEBHOOK, { rawBody: body, headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) } });
}

async function signed(intent: Parameters<typeof buildLocalWebhook>[0]["intent"], opts: { eventId?: string; type?: "payment_intent.succeeded" | "payment_intent.payment_failed"; at?: number } = {}) {
  return buildLocalWebhook({
    type: opts.type ?? "payment_intent.succeeded",
    intent,
    webhookSecret: env.PAYMENT_WEBHOOK_SECRET,
    nowSeconds: opts.at ?? nowSeconds(),
    ...(opts.eventId ? { eventId: opts.eventId } : {}),
  });
}

describe("payment webhook", () => {
  it("pays the order named by a correctly signed payment_intent.succeeded", async () => {
    const { tenant, event, buyer, order, intent } = await pendingOrder();
    const hook = await signed(intent);
    const res = await post(hook.body, hook.signature);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ received: true, outcome: "paid" });
    const now = await call("GET", `/v1/events/${event.id}/orders/${order.id}`, { token: buyer.tokens.accessToken });
    expect(now.body.status).toBe("paid");
    expect(now.body.tickets).toHaveLength(1);
    expect((await inventoryStub(tenant.id, event.id).counts())[0]).toMatchObject({ held: 0, sold: 1 });
  });

  it("refuses a bad signature, a tampered body, a missing header and a foreign secret; nothing is paid", async () => {
    const { tenant, event, intent } = await pendingOrder();
    const hook = await signed(intent);
    expectProblem(await post(hook.body), 400, "WEBHOOK_SIGNATURE_INVALID");
    expectProblem(await post(hook.body, "t=123,v1=deadbeef"), 400, "WEBHOOK_SIGNATURE_INVALID");
    expectProblem(await post(hook.body, "garbage"), 400, "WEBHOOK_SIGNATURE_INVALID");
    const tampered = hook.body.replace('"amount":3000', '"amount":1');
    expect(tampered).not.toBe(hook.body);
    expectProblem(await post(tampered, hook.signature), 400, "WEBHOOK_SIGNATURE_INVALID");
    const foreign = await signStripePayload(hook.body, "whsec_someone-elses-secret-xxxxxxxxxxxx", nowSeconds());
    const res = await post(hook.body, foreign);
    expectProblem(res, 400, "WEBHOOK_SIGNATURE_INVALID");
    expect(res.body.reason).toBe("no_signature_match");
    expect((await inventoryStub(tenant.id, event.id).counts())[0]).toMatchObject({ held: 1, sold: 0 });
  });

  it("refuses a stale or future timestamp even with a valid signature", async () => {
    const { tenant, event, intent } = await pendingOrder();
    for (const at of [nowSeconds() - 301, nowSeconds() + 301]) {
      const hook = await signed(intent, { at });
      const res = await post(hook.body, hook.signature);
      expectProblem(res, 400, "WEBHOOK_SIGNATURE_INVALID");
      expect(res.body.reason).toBe("timestamp_outside_tolerance");
    }
    const inTolerance = await signed(intent, { at: nowSeconds() - 200 });
    expect((await post(inTolerance.body, inTolerance.signature)).body.outcome).toBe("paid");
    expect((await inventoryStub(tenant.id, event.id).counts())[0]).toMatchObject({ sold: 1 });
  });

  it("acts on each Stripe event id once: a redelivery is acknowledged as duplicate and issues nothing", async () => {
    const { tenant, event, buyer, order, intent } = await pendingOrder();
    const hook = await signed(intent, { eventId: "evt_local_duplicate_1" });
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => post(hook.body, hook.signature)));
    const outcomes = results.map((r) => r.body.outcome).sort();
    expect(outcomes).toEqual(["duplicate", "duplicate", "duplicate", "duplicate", "paid"]);
    // A different event about the same intent (Stripe can send several) finds the order paid.
    const second = await signed(intent, { eventId: "evt_local_duplicate_2" });
    expect((await post(second.body, second.signature)).body.outcome).toBe("already_paid");
    const now = await call("GET", `/v1/events/${event.id}/orders/${order.id}`, { token: buyer.tokens.accessToken });
    expect(now.body.tickets).toHaveLength(1);
    expect((await inventoryStub(tenant.id, event.id).counts())[0]).toMatchObject({ held: 0, sold: 1 });
  });

  it("acknowledges unknown orders, foreign metadata and other event types without effect", async () => {
    const { tenant, event, intent } = await pendingOrder();
    const unknownOrder = await signed({ ...intent, metadata: { ...intent.metadata, order_id: crypto.randomUUID() } });
    expect((await post(unknownOrder.body, unknownOrder.signature)).body).toEqual({ received: true, outcome: "unknown_order" });
    const unknownEvent = await signed({ ...intent, metadata: { ...intent.metadata, event_id: crypto.randomUUID() } });
    expect((await post(unknownEvent.body, unknownEvent.signature)).body.outcome).toBe("unknown_order");
    const otherTenant = await createTenant();
    const foreign = await signed({ ...intent, metadata: { ...intent.metadata, tenant_id: otherTenant.id } });
    expect((await post(foreign.body, foreign.signature)).body.outcome).toBe("unknown_order");
    const noMeta = await signed({ ...intent, metadata: {} });
    expect((await post(noMeta.body, noMeta.signature)).body.outcome).toBe("unknown_order");
    const refund = await buildLocalWebhook({ type: "charge.refunded", intent, webhookSecret: env.PAYMENT_WEBHOOK_SECRET, nowSeconds: nowSeconds() });
    // A refund notice for an order with no refund requested changes nothing.
    expect((await post(refund.body, refund.signature)).body.outcome).toBe("no_refund_pending");
    expect((await inventoryStub(tenant.id, event.id).counts())[0]).toMatchObject({ held: 1, sold: 0 });
  });

  it("never pays for a different amount, currency or intent", async () => {
    const { tenant, event, intent } = await pendingOrder();
    const less = await signed({ ...intent, amountMinor: 2999 });
    expect((await post(less.body, less.signature)).body.outcome).toBe("amount_mismatch");
    const currency = await signed({ ...intent, currency: "USD" });
    expect((await post(currency.body, currency.signature)).body.outcome).toBe("amount_mismatch");
    const otherIntent = await signed({ ...intent, id: "pi_local_someotherintent" });
    expect((await post(otherIntent.body, otherIntent.signature)).body.outcome).toBe("intent_mismatch");
    const failed = await signed(intent, { type: "payment_intent.payment_failed" });
    expect((await post(failed.body, failed.signature)).body.outcome).toBe("payment_failed");
    expect((await inventoryStub(tenant.id, event.id).counts())[0]).toMatchObject({ held: 1, sold: 0 });
  });

  it("refuses a signed body that is not a Stripe event", async () => {
    const body = JSON.stringify({ hello: "world" });
    const res = await post(body, await signStripePayload(body, env.PAYMENT_WEBHOOK_SECRET, nowSeconds()));
    expectProblem(res, 400, "VALIDATION_FAILED");
  });
});
