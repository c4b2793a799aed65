import { describe, expect, it } from "vitest";
import { buildLocalWebhook, LocalPaymentProvider } from "../../src/payments/local";
import { type CreateIntentRequest, intentMetadata, PaymentProviderError } from "../../src/payments/provider";
import { STRIPE_API_VERSION } from "../../src/payments/stripe";
import { isPaymentIntentEvent, isRefundEvent, parseStripeEvent, verifyStripeSignature } from "../../src/payments/stripe-signature";

const SECRET = "whsec_local_dev_secret_for_tests_0001";
const NOW = 1_750_000_000;

function intentReq(overrides: Partial<CreateIntentRequest> = {}): CreateIntentRequest {
  return {
    tenantId: "tenant-1",
    eventId: "event-1",
    orderId: "order-1",
    amountMinor: 1999,
    currency: "GBP",
    idempotencyKey: "checkout-order-1",
    ...overrides,
  };
}

describe("LocalPaymentProvider", () => {
  it("derives a Stripe-shaped intent deterministically from the idempotency key", async () => {
    const provider = new LocalPaymentProvider({ webhookSecret: SECRET });
    const ref = await provider.createIntent(intentReq());
    expect(provider.name).toBe("local");
    expect(ref.provider).toBe("local");
    expect(ref.status).toBe("requires_payment_method");
    expect(ref.intentId).toMatch(/^pi_local_[0-9a-f]{24}$/);
    expect(ref.clientSecret).toMatch(new RegExp(`^${ref.intentId}_secret_[0-9a-f]{40}$`));

    // Same key → same intent, from this or any other instance (a retry after an isolate restart).
    expect(await provider.createIntent(intentReq())).toEqual(ref);
    expect(await new LocalPaymentProvider({ webhookSecret: SECRET }).createIntent(intentReq())).toEqual(ref);
  });

  it("gives a different intent for another key or another secret", async () => {
    const provider = new LocalPaymentProvider({ webhookSecret: SECRET });
    const a = await provider.createIntent(intentReq());
    const b = await provider.createIntent(intentReq({ idempotencyKey: "checkout-order-2" }));
    const c = await new LocalPaymentProvider({ webhookSecret: `${SECRET}x` }).createIntent(intentReq());
    expect(new Set([a.intentId, b.intentId, c.intentId]).size).toBe(3);
    expect(new Set([a.clientSecret, b.clientSecret, c.clientSecret]).size).toBe(3);
  });

  it("refuses the same bad input as the Stripe provider", async () => {
    const provider = new LocalPaymentProvider({ webhookSecret: SECRET });
    for (const overrides of [{ currency: "gbp" }, { amountMinor: 0 }, { amountMinor: 1.5 }, { idempotencyKey: "" }, { orderId: "" }]) {
      await expect(provider.createIntent(intentReq(overrides)), JSON.stringify(overrides)).rejects.toMatchObject({
        retryable: false,
        providerCode: "invalid_request",
      });
    }
    await expect(provider.cancelIntent("not-an-intent", "k")).rejects.toBeInstanceOf(PaymentProviderError);
    await expect(provider.refund({ intentId: "pi_local_1", amountMinor: -1, idempotencyKey: "k" })).rejects.toBeInstanceOf(PaymentProviderError);
  });

  it("cancels without fuss and refunds with a deterministic local refund id", async () => {
    const provider = new LocalPaymentProvider({ webhookSecret: SECRET });
    const ref = await provider.createIntent(intentReq());
    await expect(provider.cancelIntent(ref.intentId, "cancel-1")).resolves.toBeUndefined();
    const refund = await provider.refund({ intentId: ref.intentId, amountMinor: 500, idempotencyKey: "refund-1", metadata: { why: "test" } });
    expect(refund).toEqual({ refundId: expect.stringMatching(/^re_local_[0-9a-f]{24}$/), status: "succeeded" });
    expect(await provider.refund({ intentId: ref.intentId, amountMinor: 500, idempotencyKey: "refund-1" })).toEqual(refund);
    expect((await provider.refund({ intentId: ref.intentId, amountMinor: 500, idempotencyKey: "refund-2" })).refundId).not.toBe(refund.refundId);
  });

  it("mints ids that are useless as webhook signatures, whatever key a caller chooses", async () => {
    // If ids were HMAC(signing secret, key), choosing key = `${t}.${body}` would make
    // the id and client secret together spell out a valid v1 signature for that body.
    const provider = new LocalPaymentProvider({ webhookSecret: SECRET });
    const body = '{"id":"evt_forged","object":"event"}';
    const ref = await provider.createIntent(intentReq({ idempotencyKey: `${NOW}.${body}` }));
    const leaked = ref.intentId.slice("pi_local_".length) + ref.clientSecret.slice(`${ref.intentId}_secret_`.length);
    expect(leaked).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyStripeSignature(body, `t=${NOW},v1=${leaked}`, SECRET, NOW)).toEqual({ ok: false, reason: "no_signature_match" });
  });

  it("needs a webhook secret", () => {
    expect(() => new LocalPaymentProvider({ webhookSecret: "" })).toThrow();
  });
});

describe("buildLocalWebhook", () => {
  async function localIntent() {
    const req = intentReq();
    const ref = await new LocalPaymentProvider({ webhookSecret: SECRET }).createIntent(req);
    return { id: ref.intentId, amountMinor: req.amountMinor, currency: req.currency, metadata: intentMetadata(req) };
  }

  it("builds a signed payment_intent.succeeded that passes the real verification and parsing path", async () => {
    const intent = await localIntent();
    const { body, signature } = await buildLocalWebhook({ type: "payment_intent.succeeded", intent, webhookSecret: SECRET, nowSeconds: NOW });

    expect(await verifyStripeSignature(body, signature, SECRET, NOW + 1)).toEqual({ ok: true, timestamp: NOW });
    expect(await verifyStripeSignature(body, signature, `${SECRET}x`, NOW)).toEqual({ ok: false, reason: "no_signature_match" });
    expect(await verifyStripeSignature(body, signature, SECRET, NOW + 301)).toEqual({ ok: false, reason: "timestamp_outside_tolerance" });

    const parsed = parseStripeEvent(body);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || !isPaymentIntentEvent(parsed.event)) throw new Error("expected a payment_intent event");
    const event = parsed.event;
    expect(event.id).toMatch(/^evt_local_[0-9a-f]+$/);
    expect(event).toMatchObject({ object: "event", type: "payment_intent.succeeded", created: NOW, livemode: false, api_version: STRIPE_API_VERSION });
    expect(event.data.object).toMatchObject({
      id: intent.id,
      object: "payment_intent",
      amount: 1999,
      amount_received: 1999,
      currency: "gbp",
      status: "succeeded",
      metadata: { tenant_id: "tenant-1", event_id: "event-1", order_id: "order-1" },
    });
    expect(event.data.object["latest_charge"]).toMatch(/^ch_local_/);
  });

  it("builds payment_intent.payment_failed the way Stripe reports a decline", async () => {
    const intent = await localIntent();
    const { body, signature } = await buildLocalWebhook({ type: "payment_intent.payment_failed", intent, webhookSecret: SECRET, nowSeconds: NOW });
    expect((await verifyStripeSignature(body, signature, SECRET, NOW)).ok).toBe(true);
    const parsed = parseStripeEvent(body);
    if (!parsed.ok || !isPaymentIntentEvent(parsed.event)) throw new Error("expected a payment_intent event");
    expect(parsed.event.data.object).toMatchObject({ status: "requires_payment_method", amount_received: 0 });
    expect(parsed.event.data.object["last_payment_error"]).toMatchObject({ type: "card_error", code: "card_declined" });
  });

  it("builds charge.refunded with a Charge object pointing back at the intent", async () => {
    const intent = await localIntent();
    const full = await buildLocalWebhook({ type: "charge.refunded", intent, webhookSecret: SECRET, nowSeconds: NOW });
    expect((await verifyStripeSignature(full.body, full.signature, SECRET, NOW)).ok).toBe(true);
    const parsed = parseStripeEvent(full.body);
    if (!parsed.ok || !isRefundEvent(parsed.event)) throw new Error("expected a refund event");
    expect(parsed.event.data.object).toMatchObject({
      object: "charge",
      payment_intent: intent.id,
      amount: 1999,
      amount_refunded: 1999,
      currency: "gbp",
      refunded: true,
    });

    const partial = await buildLocalWebhook({ type: "charge.refunded", intent, webhookSecret: SECRET, nowSeconds: NOW, refundedAmountMinor: 500 });
    expect(JSON.parse(partial.body).data.object).toMatchObject({ amount_refunded: 500, refunded: false });
    await expect(
      buildLocalWebhook({ type: "charge.refunded", intent, webhookSecret: SECRET, nowSeconds: NOW, refundedAmountMinor: 2000 }),
    ).rejects.toThrow();
  });

  it("uses a given event id (to exercise de-duplication) and a fresh one otherwise", async () => {
    const intent = await localIntent();
    const args = { type: "payment_intent.succeeded" as const, intent, webhookSecret: SECRET, nowSeconds: NOW };
    const fixed = await buildLocalWebhook({ ...args, eventId: "evt_local_fixed" });
    expect(JSON.parse(fixed.body).id).toBe("evt_local_fixed");
    const a = JSON.parse((await buildLocalWebhook(args)).body).id;
    const b = JSON.parse((await buildLocalWebhook(args)).body).id;
    expect(a).not.toBe(b);
    await expect(buildLocalWebhook({ ...args, eventId: "not an event id" })).rejects.toThrow();
  });

  it("signs exactly the body it returns (re-serialising breaks the signature)", async () => {
    const intent = await localIntent();
    const { body, signature } = await buildLocalWebhook({ type: "payment_intent.succeeded", intent, webhookSecret: SECRET, nowSeconds: NOW });
    const reserialised = JSON.stringify(JSON.parse(body), null, 2);
    expect(await verifyStripeSignature(reserialised, signature, SECRET, NOW)).toEqual({ ok: false, reason: "no_signature_match" });
  });
});
