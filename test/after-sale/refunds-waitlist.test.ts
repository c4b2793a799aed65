import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventInventory } from "../../durable-objects/event-inventory";
import { buildLocalWebhook } from "../../src/payments";
import { call, expectProblem } from "../helpers/http";
import { onSaleEvent, placeHold } from "../sales/support";
import { deliver } from "../events-status/queues";
import { buy, createTenant, drainInventory, inventoryStub, payLocally, refund, registerUser } from "./support";

const waitlistPath = (eventId: string) => `/v1/events/${eventId}/waitlist`;

describe("refunds", () => {
  it("a refund gives the seats back and the waitlist's first entry gets the offer", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 2 });
    const buyer = await registerUser(tenant);
    const order = (await buy(buyer.tokens.accessToken, event.id, tier.id, 2)).body;
    const first = await registerUser(tenant);
    const second = await registerUser(tenant);
    const join1 = await call("POST", waitlistPath(event.id), { token: first.tokens.accessToken, body: { tierId: tier.id, quantity: 1 } });
    expect(join1.status, join1.text).toBe(201);
    expect(join1.body).toMatchObject({ status: "waiting", position: 1 });
    const join2 = await call("POST", waitlistPath(event.id), { token: second.tokens.accessToken, body: { tierId: tier.id, quantity: 1 } });
    expect(join2.body.position).toBe(2);
    expectProblem(await call("POST", waitlistPath(event.id), { token: first.tokens.accessToken, body: { tierId: tier.id, quantity: 1 } }), 409, "WAITLIST_DUPLICATE");

    const res = await refund(tenant.owner.tokens.accessToken, event.id, order.id, { ticketIds: [order.tickets[0].id] });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ amountMinor: 0, status: "not_needed", ticketIds: [order.tickets[0].id] });
    const counts = (await inventoryStub(tenant.id, event.id).counts())[0]!;
    // The freed seat is held for the first in line at once.
    expect(counts).toMatchObject({ sold: 1, held: 1 });
    const mine = await call("GET", waitlistPath(event.id), { token: first.tokens.accessToken });
    expect(mine.body.items[0]).toMatchObject({ status: "offered", holdId: expect.any(String) });
    const theirs = await call("GET", waitlistPath(event.id), { token: second.tokens.accessToken });
    expect(theirs.body.items[0]).toMatchObject({ status: "waiting", position: 1 });

    // The offer is checked out like any hold: the entry is promoted.
    const checkout = await call("POST", `/v1/events/${event.id}/orders`, { token: first.tokens.accessToken, headers: { "idempotency-key": crypto.randomUUID() }, body: { holdId: mine.body.items[0].holdId } });
    expect(checkout.status, checkout.text).toBe(201);
    expect((await call("GET", waitlistPath(event.id), { token: first.tokens.accessToken })).body.items[0].status).toBe("promoted");

    // Every step is in the audit log.
    await drainInventory(tenant.id, event.id);
    const audit = await env.DB.prepare("SELECT action FROM audit_log WHERE tenant_id = ? AND action LIKE 'waitlist.%' ORDER BY created_at").bind(tenant.id).all<{ action: string }>();
    expect(audit.results.map((r) => r.action)).toEqual(expect.arrayContaining(["waitlist.joined", "waitlist.offered", "waitlist.promoted"]));
  });

  it("refunds paid tickets through the provider once; the webhook confirms; the buyer sees it", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 1000, capacity: 5 });
    const buyer = await registerUser(tenant);
    const order = (await buy(buyer.tokens.accessToken, event.id, tier.id, 3)).body;
    await payLocally(buyer.tokens.accessToken, event.id, order.id);
    const paid = (await call("GET", `/v1/events/${event.id}/orders/${order.id}`, { token: buyer.tokens.accessToken })).body;
    const stub = inventoryStub(tenant.id, event.id);
    // Count the provider refunds the outbox asks for (kept on the instance for later reads).
    await runInDurableObject(stub, (instance: EventInventory) => {
      const real = instance.effects;
      const seen: string[] = [];
      (instance as unknown as { seenRefunds: string[] }).seenRefunds = seen;
      instance.effects = { ...real, refundPayment: async (req) => (seen.push(req.idempotencyKey), real.refundPayment(req)) };
    });

    const key = crypto.randomUUID();
    const owner = tenant.owner.tokens.accessToken;
    const r1 = await refund(owner, event.id, order.id, { ticketIds: [paid.tickets[0].id] }, key);
    expect(r1.status, r1.text).toBe(201);
    expect(r1.body).toMatchObject({ amountMinor: 1000, status: "requested" });
    // A retry with the same key replays; nothing is refunded twice.
    const again = await refund(owner, event.id, order.id, { ticketIds: [paid.tickets[0].id] }, key);
    expect(again.body.id).toBe(r1.body.id);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expectProblem(await refund(owner, event.id, order.id, { ticketIds: [paid.tickets[0].id] }), 409, "REFUND_NOT_ALLOWED");
    expectProblem(await refund(owner, event.id, order.id, { amountMinor: 2001 }), 422, "REFUND_AMOUNT_INVALID");
    const goodwill = await refund(owner, event.id, order.id, { amountMinor: 500 });
    expect(goodwill.body).toMatchObject({ amountMinor: 500, ticketIds: [] });

    await drainInventory(tenant.id, event.id);
    await drainInventory(tenant.id, event.id);
    const providerCalls = await runInDurableObject(stub, (instance: EventInventory) => (instance as unknown as { seenRefunds: string[] }).seenRefunds);
    expect(providerCalls).toEqual([`refund-${r1.body.id}`, `refund-${goodwill.body.id}`]);
    const list = await call("GET", `/v1/events/${event.id}/orders/${order.id}/refunds`, { token: owner });
    // The local provider confirms at once; both refunds are done.
    expect(list.body.items.map((r: { status: string }) => r.status)).toEqual(["succeeded", "succeeded"]);
    expect((await stub.counts())[0]).toMatchObject({ sold: 2 });

    // Stripe's charge.refunded for the total is recorded once and changes nothing more.
    const hook = await buildLocalWebhook({
      type: "charge.refunded",
      intent: { id: paid.payment.intentId, amountMinor: 3000, currency: "EUR", metadata: { tenant_id: tenant.id, event_id: event.id, order_id: order.id } },
      webhookSecret: env.PAYMENT_WEBHOOK_SECRET,
      nowSeconds: Math.floor(Date.now() / 1000),
      refundedAmountMinor: 1500,
    });
    const post = () => call("POST", "/v1/webhooks/stripe", { rawBody: hook.body, headers: { "content-type": "application/json", "stripe-signature": hook.signature } });
    expect((await post()).body.outcome).toBe("no_refund_pending");
    expect((await post()).body.outcome).toBe("duplicate");

    const mine = await call("GET", `/v1/me/orders/${order.id}`, { token: buyer.tokens.accessToken });
    expect(mine.body).toMatchObject({ status: "partially_refunded", refundedMinor: 1500 });
    expect(mine.body.refunds.map((r: { amountMinor: number; status: string }) => [r.amountMinor, r.status])).toEqual([
      [1000, "succeeded"],
      [500, "succeeded"],
    ]);
    expect(mine.body.tickets.find((t: { id: string }) => t.id === paid.tickets[0].id).status).toBe("refunded");
    const recorded = await env.DB.prepare("SELECT count(*) AS n FROM refunds WHERE order_id = ? AND status = 'succeeded'").bind(order.id).first<{ n: number }>();
    expect(recorded!.n).toBe(2);

    // The buyer is told once per refund, however often the notice arrives.
    const notice = {
      kind: "order.refunded",
      tenantId: tenant.id,
      eventId: event.id,
      orderId: order.id,
      refundId: r1.body.id,
      buyerId: buyer.id,
      amountMinor: 1000,
      currency: "EUR",
      ticketNumbers: [paid.tickets[0].number],
      reason: "customer asked",
      cancelled: false,
    };
    await deliver([{ id: "r1", body: notice }, { id: "r2", body: notice }]);
    const emails = await env.DB.prepare("SELECT recipient, body FROM sent_emails WHERE id = ?").bind(`order-refunded:${r1.body.id}`).all<{ recipient: string; body: string }>();
    expect(emails.results).toHaveLength(1);
    expect(emails.results[0]).toMatchObject({ recipient: buyer.email });
    expect(emails.results[0]!.body).toContain("€10.00");
  });
});

describe("waitlist", () => {
  it("refuses to queue while seats are free; an unanswered offer passes to the next; leaving works", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 1 });
    const a = await registerUser(tenant);
    expectProblem(await call("POST", waitlistPath(event.id), { token: a.tokens.accessToken, body: { tierId: tier.id, quantity: 1 } }), 409, "WAITLIST_TIER_AVAILABLE");
    const hold = await placeHold(a.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }]);
    const b = await registerUser(tenant);
    const c = await registerUser(tenant);
    const eb = (await call("POST", waitlistPath(event.id), { token: b.tokens.accessToken, body: { tierId: tier.id, quantity: 1 } })).body;
    await call("POST", waitlistPath(event.id), { token: c.tokens.accessToken, body: { tierId: tier.id, quantity: 1 } });

    // a's hold expires: b is offered; b lets the offer lapse: c is offered.
    const stub = inventoryStub(tenant.id, event.id);
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE holds SET expires_at = 1 WHERE hold_id = ?", hold.body.id));
    await runInDurableObject(stub, (_i, state) => state.storage.setAlarm(Date.now() - 1));
    await runDurableObjectAlarm(stub);
    const bNow = (await call("GET", waitlistPath(event.id), { token: b.tokens.accessToken })).body.items[0];
    expect(bNow.status).toBe("offered");
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE holds SET expires_at = 1 WHERE hold_id = ?", bNow.holdId));
    await runInDurableObject(stub, (_i, state) => state.storage.setAlarm(Date.now() - 1));
    await runDurableObjectAlarm(stub);
    expect((await call("GET", waitlistPath(event.id), { token: b.tokens.accessToken })).body.items[0].status).toBe("expired");
    const cNow = (await call("GET", waitlistPath(event.id), { token: c.tokens.accessToken })).body.items[0];
    expect(cNow.status).toBe("offered");

    // c leaves: the offer's seat is free again, nobody else waits.
    const left = await call("DELETE", `${waitlistPath(event.id)}/${cNow.id}`, { token: c.tokens.accessToken });
    expect(left.body.status).toBe("left");
    expect((await stub.counts())[0]).toMatchObject({ held: 0, sold: 0 });
    expectProblem(await call("DELETE", `${waitlistPath(event.id)}/${eb.id}`, { token: c.tokens.accessToken }), 404, "WAITLIST_ENTRY_NOT_FOUND");

    await drainInventory(tenant.id, event.id);
    const audit = await env.DB.prepare("SELECT action FROM audit_log WHERE tenant_id = ? AND action LIKE 'waitlist.%'").bind(tenant.id).all<{ action: string }>();
    const actions = audit.results.map((r) => r.action);
    for (const a of ["waitlist.joined", "waitlist.offered", "waitlist.expired", "waitlist.left"]) expect(actions).toContain(a);
  });
});

describe("a refund the provider refuses for good", () => {
  it("is marked failed for an admin instead of being retried forever", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 800, capacity: 5 });
    const buyer = await registerUser(tenant);
    const order = (await buy(buyer.tokens.accessToken, event.id, tier.id, 1)).body;
    await payLocally(buyer.tokens.accessToken, event.id, order.id);
    const stub = inventoryStub(tenant.id, event.id);
    await runInDurableObject(stub, async (instance: EventInventory) => {
      const { PaymentProviderError } = await import("../../src/payments/provider");
      instance.effects = {
        ...instance.effects,
        refundPayment: async () => {
          throw new PaymentProviderError("charge is disputed (injected)", false, "charge_disputed");
        },
      };
    });
    const owner = tenant.owner.tokens.accessToken;
    const res = await refund(owner, event.id, order.id, { amountMinor: 300 });
    expect(res.status, res.text).toBe(201);
    const report = await drainInventory(tenant.id, event.id);
    expect(report.pending).toBe(0);
    const list = await call("GET", `/v1/events/${event.id}/orders/${order.id}/refunds`, { token: owner });
    expect(list.body.items).toEqual([expect.objectContaining({ amountMinor: 300, status: "failed" })]);
    await drainInventory(tenant.id, event.id);
    const d1 = await env.DB.prepare("SELECT status FROM refunds WHERE id = ?").bind(res.body.id).first<{ status: string }>();
    expect(d1!.status).toBe("failed");
  });
});
