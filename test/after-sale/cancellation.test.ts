import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventInventory } from "../../durable-objects/event-inventory";
import { transition } from "../helpers/event-fixtures";
import { call } from "../helpers/http";
import { onSaleEvent } from "../sales/support";
import { buy, createTenant, drainInventory, inventoryStub, payLocally, registerUser, scan, scannerOf } from "./support";

describe("event cancellation", () => {
  it("refunds every paid order after a failure midway, nothing twice, and revokes every ticket", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 700, capacity: 100, maxPerBuyer: 10 });
    const buyers = await Promise.all(Array.from({ length: 6 }, () => registerUser(tenant)));
    const orders: { id: string; buyer: string }[] = [];
    // 24 paid orders (more than two saga steps of 10), plus one left unpaid.
    for (let i = 0; i < 24; i++) {
      const b = buyers[i % buyers.length]!;
      const o = (await buy(b.tokens.accessToken, event.id, tier.id, 1)).body;
      await payLocally(b.tokens.accessToken, event.id, o.id);
      orders.push({ id: o.id, buyer: b.tokens.accessToken });
    }
    const unpaid = (await buy(buyers[0]!.tokens.accessToken, event.id, tier.id, 1)).body;
    const firstCode = (await call("GET", `/v1/events/${event.id}/orders/${orders[0]!.id}`, { token: orders[0]!.buyer })).body.tickets[0].code;
    const stub = inventoryStub(tenant.id, event.id);
    await drainInventory(tenant.id, event.id);

    // The provider fails the first refunds it is asked for; every call is counted.
    await runInDurableObject(stub, (instance: EventInventory) => {
      const real = instance.effects;
      const seen: string[] = [];
      (instance as unknown as { seenRefunds: string[] }).seenRefunds = seen;
      let failures = 5;
      instance.effects = {
        ...real,
        async refundPayment(req) {
          seen.push(req.idempotencyKey);
          if (failures-- > 0) throw new Error("provider down (injected)");
          return real.refundPayment(req);
        },
      };
    });

    await transition(tenant.owner.tokens.accessToken, event.id, "CANCELLED");
    // One step ran (or none yet): the saga is in progress, stored in the DO.
    await runDurableObjectAlarm(stub);
    const midway = await call("GET", `/v1/events/${event.id}/cancellation`, { token: tenant.owner.tokens.accessToken });
    expect(midway.status, midway.text).toBe(200);
    expect(midway.body.processed).toBeGreaterThan(0);

    for (let i = 0; i < 10; i++) await runDurableObjectAlarm(stub);
    for (let i = 0; i < 6; i++) await drainInventory(tenant.id, event.id);
    const done = await call("GET", `/v1/events/${event.id}/cancellation`, { token: tenant.owner.tokens.accessToken });
    expect(done.body).toMatchObject({ state: "done", remaining: 0 });

    // Each paid order refunded exactly once, in full; the unpaid one cancelled.
    const refunds = await env.DB.prepare("SELECT order_id, count(*) AS n, sum(amount_minor) AS total, min(status) AS status FROM refunds WHERE event_id = ? GROUP BY order_id").bind(event.id).all<{ order_id: string; n: number; total: number; status: string }>();
    expect(refunds.results).toHaveLength(24);
    for (const r of refunds.results) expect(r).toMatchObject({ n: 1, total: 700, status: "succeeded" });
    const provider = await runInDurableObject(stub, (instance: EventInventory) => (instance as unknown as { seenRefunds: string[] }).seenRefunds);
    // 24 refunds, 5 of them retried once after the injected failures; never a second refund id.
    expect(new Set(provider).size).toBe(24);
    expect(provider).toHaveLength(29);
    const statuses = await env.DB.prepare("SELECT status, count(*) AS n FROM orders WHERE event_id = ? GROUP BY status").bind(event.id).all<{ status: string; n: number }>();
    expect(Object.fromEntries(statuses.results.map((r) => [r.status, r.n]))).toEqual({ cancelled: 25 });
    expect(unpaid.status).toBe("pending");
    const live = await env.DB.prepare("SELECT count(*) AS n FROM tickets WHERE event_id = ? AND status <> 'cancelled'").bind(event.id).first<{ n: number }>();
    expect(live!.n).toBe(0);
    expect((await stub.counts())[0]).toMatchObject({ sold: 0, held: 0 });

    // Revoked at the door, and every buyer was told about their refund.
    const scanner = await scannerOf(tenant);
    expect((await scan(scanner, event.id, firstCode)).body.code).toBe("TICKET_CANCELLED");
  });
});

describe("event cancellation, interrupted", () => {
  it("a step that crashes midway rolls back alone; the saga resumes and refunds each order once", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 100, maxPerBuyer: 50 });
    const buyer = await registerUser(tenant);
    for (let i = 0; i < 15; i++) expect((await buy(buyer.tokens.accessToken, event.id, tier.id, 1)).body.status).toBe("paid");
    const stub = inventoryStub(tenant.id, event.id);
    // The crash: a trigger makes the 13th refund's insert fail, in the middle of the second step.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(
        "CREATE TRIGGER crash_midway BEFORE INSERT ON refunds WHEN (SELECT count(*) FROM refunds) = 12 BEGIN SELECT RAISE(ABORT, 'injected crash'); END",
      );
    });
    await transition(tenant.owner.tokens.accessToken, event.id, "CANCELLED");
    for (let i = 0; i < 5; i++) await runDurableObjectAlarm(stub).catch(() => undefined);
    const stuck = await stub.cancellation();
    // The first step (10 orders) committed; the second rolled back as a whole.
    expect(stuck).toMatchObject({ state: "running", processed: 10, remaining: 5 });
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("DROP TRIGGER crash_midway"));
    await runInDurableObject(stub, (_i, state) => state.storage.setAlarm(Date.now() - 1));
    for (let i = 0; i < 5; i++) await runDurableObjectAlarm(stub);
    expect(await stub.cancellation()).toMatchObject({ state: "done", remaining: 0 });
    const perOrder = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM refunds GROUP BY order_id").toArray().map((r) => r.n),
    );
    expect(perOrder).toHaveLength(15);
    expect(perOrder.every((n) => n === 1)).toBe(true);
    expect((await stub.counts())[0]).toMatchObject({ sold: 0 });
  });
});
