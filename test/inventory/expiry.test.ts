import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_HOLD_TTL_MS } from "../../src/inventory/contract";
import type { EventInventory } from "../../durable-objects/event-inventory";
import { held, holdReq, HOUR, idem, MINUTE, NOW, onSaleInventory, sql, tier, tierCounts, type Inventory } from "./support";

const alarmAt = (stub: Inventory) => runInDurableObject(stub, (_i, state) => state.storage.getAlarm());

describe("hold expiry by alarm", () => {
  it("expires due holds, gives capacity and the buyers' allowance back, keeps the rest", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 4, maxPerBuyer: 2 }));
    // Made an hour ago with the default TTL: already due.
    const a = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }], { now: NOW - HOUR })));
    const b = held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 1 }], { now: NOW - HOUR })));
    // Made now: not due.
    const c = held(await stub.hold(holdReq("b3", [{ tierId: "ga", quantity: 1 }])));

    await runDurableObjectAlarm(stub); // the runtime may have run it already: it was due
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 1 });
    for (const [hold, buyer] of [[a, "b1"], [b, "b2"]] as const) {
      expect(await stub.getHold(hold.holdId, buyer)).toMatchObject({ ok: true, value: { status: "expired" } });
    }
    expect(await sql(stub, "SELECT status FROM holds WHERE hold_id = ?", c.holdId)).toEqual([{ status: "active" }]);
    expect(await sql(stub, "SELECT buyer_id, held FROM buyer_counts ORDER BY buyer_id")).toEqual([
      { buyer_id: "b1", held: 0 },
      { buyer_id: "b2", held: 0 },
      { buyer_id: "b3", held: 1 },
    ]);
    expect(await sql(stub, "SELECT ref FROM schedule WHERE kind = 'hold_expiry'")).toEqual([{ ref: c.holdId }]);
    expect(await alarmAt(stub)).toBe(c.expiresAt);
    // b1 may hold its full allowance again, and the capacity is there.
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }])));
  });

  it("is harmless when it runs twice or late", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 5 }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }], { now: NOW - HOUR })));
    held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 3 }])));
    await runDurableObjectAlarm(stub);
    const after = await stub.counts();
    // A repeated delivery, and a spurious call with nothing due.
    await runInDurableObject(stub, async (instance: EventInventory) => {
      await instance.alarm();
      await instance.alarm();
    });
    expect(await stub.counts()).toEqual(after);
    expect(after).toMatchObject([{ tierId: "ga", capacity: 5, held: 3, sold: 0 }]);
  });

  it("points the one alarm at the earliest scheduled work", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const long = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])));
    expect(await alarmAt(stub)).toBe(NOW + DEFAULT_HOLD_TTL_MS);
    const short = held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 1 }], { ttlMs: 5 * MINUTE })));
    expect(await alarmAt(stub)).toBe(NOW + 5 * MINUTE);

    await stub.release({ ...idem("b2"), buyerId: "b2", holdId: short.holdId, now: NOW });
    expect(await alarmAt(stub)).toBe(long.expiresAt);
    await stub.release({ ...idem("b1"), buyerId: "b1", holdId: long.holdId, now: NOW });
    // Only the idempotency purge is left: the oldest record's expiry.
    const [purge] = await sql<{ due_at: number }>(stub, "SELECT due_at FROM schedule");
    const [oldest] = await sql<{ at: number }>(stub, "SELECT min(expires_at) AS at FROM idempotency");
    expect(purge!.due_at).toBe(oldest!.at);
    expect(await alarmAt(stub)).toBe(oldest!.at);
  });

  it("frees due capacity at hold time even if the alarm has not run yet", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 2 }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }], { now: NOW + HOUR })));
    // Ten minutes later by the caller's clock, the first hold is over.
    held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 2 }], { now: NOW + HOUR + DEFAULT_HOLD_TTL_MS })));
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 2 });
    expect(await sql(stub, "SELECT buyer_id, status FROM holds ORDER BY created_at")).toEqual([
      { buyer_id: "b1", status: "expired" },
      { buyer_id: "b2", status: "active" },
    ]);
  });
});
