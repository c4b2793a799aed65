import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventInventory } from "../../durable-objects/event-inventory";
import type { SaleEffects } from "../../src/inventory/effects";
import { createTenant, registerUser } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { onSaleEvent, placeHold } from "../sales/support";
import { buy, checkout, drainInventory, fastForward, inventoryStub } from "./support";

/**
 * Effects that fail every call while `outage.down` (D1 and the queues unreachable), then do
 * the real thing; each call (a whole batch) is counted.
 */
function flakyEffects(real: SaleEffects, outage: { down: boolean }) {
  const calls = { recordOrders: 0, requestMints: 0, notifyAll: 0 };
  const effects: SaleEffects = {
    ...real,
    async recordOrders(tenantId, orders) {
      calls.recordOrders++;
      if (outage.down) throw new Error("D1 unavailable (injected)");
      return real.recordOrders(tenantId, orders);
    },
    async requestMints(messages) {
      calls.requestMints++;
      if (outage.down) throw new Error("queue unavailable (injected)");
      return real.requestMints(messages);
    },
    async notifyAll(messages) {
      calls.notifyAll++;
      if (outage.down) throw new Error("queue unavailable (injected)");
      return real.notifyAll(messages);
    },
  };
  return { effects, calls };
}

async function d1Count(table: "orders" | "tickets", eventId: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE event_id = ?`).bind(eventId).first<{ n: number }>();
  return row!.n;
}

describe("unpaid orders", () => {
  it("expire by alarm and give their seats back; the late payment is then handled", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 1000, capacity: 2 });
    const a = await registerUser(tenant);
    const res = await buy(a.tokens.accessToken, event.id, tier.id, 2);
    expect(res.body.status).toBe("pending");
    const stub = inventoryStub(tenant.id, event.id);
    expect((await stub.counts())[0]).toMatchObject({ held: 2, sold: 0 });
    // Sold out while the order waits for payment.
    const b = await registerUser(tenant);
    expectProblem(await placeHold(b.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }]), 409, "SOLD_OUT");

    await fastForward(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.counts())[0]).toMatchObject({ held: 0, sold: 0 });
    const order = await call("GET", `/v1/events/${event.id}/orders/${res.body.id}`, { token: a.tokens.accessToken });
    expect(order.body).toMatchObject({ status: "expired", expiresAt: null, tickets: [] });

    // Someone else buys one seat; a late payment for the expired order cannot retake two.
    const other = await buy(b.tokens.accessToken, event.id, tier.id, 1);
    expect(other.body.status).toBe("pending");
    const late = await call("POST", "/v1/payments/local/confirm", { token: a.tokens.accessToken, body: { eventId: event.id, orderId: res.body.id } });
    expect(late.body.outcome).toBe("late_payment_refund_due");
    expect((await stub.counts())[0]).toMatchObject({ held: 1, sold: 0 });

    // D1 follows: the expired order is recorded as expired.
    await drainInventory(tenant.id, event.id);
    const mine = await call("GET", `/v1/me/orders/${res.body.id}`, { token: a.tokens.accessToken });
    expect(mine.body.status).toBe("expired");
  });

  it("a payment that arrives after expiry takes the seats again when they are still free", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 1000, capacity: 3 });
    const a = await registerUser(tenant);
    const res = await buy(a.tokens.accessToken, event.id, tier.id, 2);
    const stub = inventoryStub(tenant.id, event.id);
    await fastForward(stub);
    await runDurableObjectAlarm(stub);
    const late = await call("POST", "/v1/payments/local/confirm", { token: a.tokens.accessToken, body: { eventId: event.id, orderId: res.body.id } });
    expect(late.body.outcome).toBe("paid_after_expiry");
    expect((await stub.counts())[0]).toMatchObject({ held: 0, sold: 2 });
  });

  it("checkout of an expired hold answers HOLD_EXPIRED and the seats are free again", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 1 });
    const a = await registerUser(tenant);
    const hold = await placeHold(a.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }]);
    const stub = inventoryStub(tenant.id, event.id);
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE holds SET expires_at = 1"));
    expectProblem(await checkout(a.tokens.accessToken, event.id, hold.body.id), 410, "HOLD_EXPIRED");
    expect((await stub.counts())[0]).toMatchObject({ held: 0, sold: 0 });
  });
});

describe("outbox: effects survive failures and apply once", () => {
  it("retries D1 and queue failures until applied; D1 matches the DO exactly once", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 20 });
    const stub = inventoryStub(tenant.id, event.id);
    // The test and the DO share an isolate: the DO's effects see this switch.
    const outage = { down: true };
    const calls = await runInDurableObject(stub, (instance: EventInventory) => {
      const f = flakyEffects(instance.effects, outage);
      instance.effects = f.effects;
      return f.calls;
    });
    const buyers = await Promise.all([1, 2, 3].map(() => registerUser(tenant)));
    for (const b of buyers) expect((await buy(b.tokens.accessToken, event.id, tier.id, 2)).body.status).toBe("paid");

    // While D1 and the queues are down (and whatever the backoff says), every attempt
    // fails: the sales stand, the effects wait.
    const first = await runInDurableObject(stub, (instance: EventInventory) => instance.applyOutbox(Date.now() + 3_600_000));
    expect(first).toEqual({ applied: 0, failed: 9, pending: 9 });
    expect(calls.recordOrders).toBeGreaterThan(0);
    expect(calls.requestMints).toBeGreaterThan(0);
    expect(calls.notifyAll).toBeGreaterThan(0);
    expect((await stub.counts())[0]).toMatchObject({ sold: 6 });
    expect(await d1Count("orders", event.id)).toBe(0);

    // Later (past every backoff) everything lands, once.
    outage.down = false;
    let report = await drainInventory(tenant.id, event.id);
    for (let i = 0; i < 5 && report.pending > 0; i++) report = await drainInventory(tenant.id, event.id);
    expect(report.pending).toBe(0);
    expect(await d1Count("orders", event.id)).toBe(3);
    expect(await d1Count("tickets", event.id)).toBe(6);

    // Applying again changes nothing (upserts by id, newest revision wins).
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("INSERT INTO outbox (id, kind, ref, created_at, next_at) SELECT 'order_record:' || order_id, 'order_record', order_id, 0, 0 FROM orders");
    });
    await drainInventory(tenant.id, event.id);
    expect(await d1Count("tickets", event.id)).toBe(6);
    const numbers = await env.DB.prepare("SELECT count(DISTINCT number) AS n FROM tickets WHERE event_id = ?").bind(event.id).first<{ n: number }>();
    expect(numbers!.n).toBe(6);
  });

  it("an older snapshot never overwrites a newer one in D1", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 500, capacity: 5 });
    const a = await registerUser(tenant);
    const res = await buy(a.tokens.accessToken, event.id, tier.id, 1);
    const stub = inventoryStub(tenant.id, event.id);
    const pending = await runInDurableObject(stub, (instance: EventInventory) => instance.getOrder(res.body.id, null));
    await call("POST", "/v1/payments/local/confirm", { token: a.tokens.accessToken, body: { eventId: event.id, orderId: res.body.id } });
    await drainInventory(tenant.id, event.id);
    expect((await call("GET", `/v1/me/orders/${res.body.id}`, { token: a.tokens.accessToken })).body.status).toBe("paid");
    // A slow retry delivers the pending snapshot late.
    if (!pending.ok) throw new Error("order missing");
    await runInDurableObject(stub, (instance: EventInventory) => instance.effects.recordOrders(tenant.id, [pending.value]));
    const after = await call("GET", `/v1/me/orders/${res.body.id}`, { token: a.tokens.accessToken });
    expect(after.body.status).toBe("paid");
    expect(after.body.tickets).toHaveLength(1);
  });
});
