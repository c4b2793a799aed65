import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant, registerUser } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { onSaleEvent, placeHold, releaseHold } from "../sales/support";
import { verifyTicketCode, publicTicketKeys } from "../../src/tickets/code";
import { buy, checkout, drainInventory, inventoryStub } from "./support";

describe("checkout of a free hold", () => {
  it("pays at once and issues numbered tickets with signed codes", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 10 });
    const buyer = await registerUser(tenant);
    const res = await buy(buyer.tokens.accessToken, event.id, tier.id, 3);
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("location")).toBe(`/v1/events/${event.id}/orders/${res.body.id}`);
    expect(res.body).toMatchObject({ status: "paid", totalMinor: 0, payment: null, expiresAt: null });
    expect(res.body.tickets).toHaveLength(3);
    const numbers = res.body.tickets.map((t: { number: number }) => t.number);
    expect(new Set(numbers).size).toBe(3);
    const keys = publicTicketKeys(JSON.parse(env.TICKET_SIGNING_KEYS));
    for (const t of res.body.tickets) {
      expect(t.status).toBe("valid");
      const verified = await verifyTicketCode(t.code, keys, { tenantId: tenant.id, eventId: event.id });
      expect(verified).toMatchObject({ ok: true, claims: { tkt: t.id, n: t.number, tier: tier.id, cv: 1 } });
    }
  });

  it("replays the same order for the same key, and refuses a second checkout of the hold", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0 });
    const buyer = await registerUser(tenant);
    const token = buyer.tokens.accessToken;
    const hold = await placeHold(token, event.id, [{ tierId: tier.id, quantity: 2 }]);
    const key = crypto.randomUUID();
    const first = await checkout(token, event.id, hold.body.id, key);
    const again = await checkout(token, event.id, hold.body.id, key);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.tickets).toEqual(first.body.tickets);

    const other = await checkout(token, event.id, hold.body.id);
    expectProblem(other, 409, "HOLD_CONVERTED");
    expect(other.body.orderId).toBe(first.body.id);
    expectProblem(await call("POST", `/v1/events/${event.id}/orders`, { token, headers: { "idempotency-key": key }, body: { holdId: crypto.randomUUID() } }), 422, "IDEMPOTENCY_KEY_REUSED");
  });

  it("refuses missing, foreign, released and expired holds with their own codes", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0 });
    const a = await registerUser(tenant);
    const b = await registerUser(tenant);
    expectProblem(await checkout(a.tokens.accessToken, event.id, crypto.randomUUID()), 404, "HOLD_NOT_FOUND");
    const hold = await placeHold(a.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }]);
    expectProblem(await checkout(b.tokens.accessToken, event.id, hold.body.id), 404, "HOLD_NOT_FOUND");
    await releaseHold(a.tokens.accessToken, event.id, hold.body.id);
    expectProblem(await checkout(a.tokens.accessToken, event.id, hold.body.id), 409, "HOLD_RELEASED");
    expectProblem(await call("POST", `/v1/events/${event.id}/orders`, { token: a.tokens.accessToken, body: { holdId: hold.body.id } }), 400, "IDEMPOTENCY_KEY_MISSING");
  });

  it("records the order and tickets in D1 once the outbox drains; counts agree", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 5 });
    const buyer = await registerUser(tenant);
    const res = await buy(buyer.tokens.accessToken, event.id, tier.id, 2);
    await drainInventory(tenant.id, event.id);
    const mine = await call("GET", "/v1/me/orders", { token: buyer.tokens.accessToken });
    expect(mine.status, mine.text).toBe(200);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({ id: res.body.id, status: "paid" });
    expect(mine.body.items[0].tickets.map((t: { code: string }) => t.code)).toEqual(res.body.tickets.map((t: { code: string }) => t.code));
    const tickets = await call("GET", "/v1/me/tickets", { token: buyer.tokens.accessToken });
    expect(tickets.body.items).toHaveLength(2);
    const counts = await inventoryStub(tenant.id, event.id).counts();
    expect(counts[0]).toMatchObject({ sold: 2, held: 0 });
    const staff = await call("GET", `/v1/events/${event.id}/orders`, { token: tenant.owner.tokens.accessToken });
    expect(staff.status, staff.text).toBe(200);
    expect(staff.body.items[0]).toMatchObject({ id: res.body.id, buyerId: buyer.id });
  });
});

describe("checkout of a paid hold with the local provider", () => {
  it("is pending with a payment intent, and paid through the signed webhook path", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 2500, capacity: 10 });
    const buyer = await registerUser(tenant);
    const token = buyer.tokens.accessToken;
    const res = await buy(token, event.id, tier.id, 2);
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ status: "pending", totalMinor: 5000, tickets: [] });
    expect(res.body.payment).toMatchObject({ provider: "local", intentId: expect.stringMatching(/^pi_local_/) });
    expect(res.body.expiresAt).not.toBeNull();

    const paid = await call("POST", "/v1/payments/local/confirm", { token, body: { eventId: event.id, orderId: res.body.id } });
    expect(paid.status, paid.text).toBe(200);
    expect(paid.body).toEqual({ received: true, outcome: "paid" });
    const order = await call("GET", `/v1/events/${event.id}/orders/${res.body.id}`, { token });
    expect(order.body.status).toBe("paid");
    expect(order.body.tickets).toHaveLength(2);
    const counts = await inventoryStub(tenant.id, event.id).counts();
    expect(counts[0]).toMatchObject({ sold: 2, held: 0 });
  });
});
