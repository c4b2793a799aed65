import { describe, expect, it } from "vitest";
import { DAY, gate, held, holdReq, HOUR, newInventory, NOW, onSaleInventory, refused, tier, tierCounts } from "./support";

describe("sales gate", () => {
  it("refuses holds until a gate is pushed, then while it is not ON_SALE", async () => {
    const { stub } = newInventory();
    expect((await stub.upsertTier(tier("ga"), NOW)).ok).toBe(true);
    const none = refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])), "EVENT_NOT_ON_SALE", 409);
    expect(none.extras).toEqual({ eventStatus: null });

    await stub.syncGate(gate({ status: "PUBLISHED", eventVersion: 1 }));
    const published = refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])), "EVENT_NOT_ON_SALE", 409);
    expect(published.extras).toEqual({ eventStatus: "PUBLISHED" });

    await stub.syncGate(gate({ status: "ON_SALE", eventVersion: 2 }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])));

    await stub.syncGate(gate({ status: "SALES_PAUSED", eventVersion: 3 }));
    const paused = refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])), "EVENT_NOT_ON_SALE", 409);
    expect(paused.extras).toEqual({ eventStatus: "SALES_PAUSED" });
  });

  it("keeps the newest version whatever order pushes arrive in", async () => {
    const { stub } = newInventory();
    expect(await stub.syncGate(gate({ status: "SALES_PAUSED", eventVersion: 5 }))).toMatchObject({ applied: true });
    // An older push (a retried ON_SALE) arrives late: ignored.
    const late = await stub.syncGate(gate({ status: "ON_SALE", eventVersion: 4 }));
    expect(late).toMatchObject({ applied: false, gate: { status: "SALES_PAUSED", eventVersion: 5 } });
    // The same version again is not newer either.
    expect(await stub.syncGate(gate({ status: "ON_SALE", eventVersion: 5 }))).toMatchObject({ applied: false });
    await stub.upsertTier(tier("ga"), NOW);
    refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])), "EVENT_NOT_ON_SALE", 409);

    expect(await stub.syncGate(gate({ status: "ON_SALE", eventVersion: 6 }))).toMatchObject({ applied: true });
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])));
  });

  it("sells only inside the event's sales window, which closes at the start at the latest", async () => {
    const { stub } = newInventory();
    await stub.syncGate(gate({ salesStartAt: NOW + HOUR, salesEndAt: NOW + 2 * HOUR, startsAt: NOW + DAY }));
    await stub.upsertTier(tier("ga"), NOW);
    const early = refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])), "OUTSIDE_SALES_WINDOW", 409);
    expect(early.extras).toEqual({ opensAt: NOW + HOUR, closesAt: NOW + 2 * HOUR });
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }], { now: NOW + HOUR })));
    refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }], { now: NOW + 2 * HOUR })), "OUTSIDE_SALES_WINDOW", 409);

    // No end of sales: selling stops when the event starts.
    await stub.syncGate(gate({ eventVersion: 2, salesStartAt: null, salesEndAt: null, startsAt: NOW + DAY }));
    held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 1 }], { now: NOW + DAY - 1 })));
    const started = refused(await stub.hold(holdReq("b3", [{ tierId: "ga", quantity: 1 }], { now: NOW + DAY })), "OUTSIDE_SALES_WINDOW", 409);
    expect(started.extras).toEqual({ opensAt: null, closesAt: NOW + DAY });
  });
});

describe("tier windows", () => {
  it("sells a tier only inside its own window, and says which tier", async () => {
    const { stub } = await onSaleInventory(
      tier("early", { salesStartAt: NOW - HOUR, salesEndAt: NOW + HOUR }),
      tier("late", { salesStartAt: NOW + HOUR }),
    );
    held(await stub.hold(holdReq("b1", [{ tierId: "early", quantity: 1 }])));
    const notYet = refused(await stub.hold(holdReq("b1", [{ tierId: "late", quantity: 1 }])), "OUTSIDE_SALES_WINDOW", 409);
    expect(notYet.extras).toEqual({ tierId: "late", opensAt: NOW + HOUR, closesAt: null });
    held(await stub.hold(holdReq("b2", [{ tierId: "late", quantity: 1 }], { now: NOW + HOUR })));
    const over = refused(await stub.hold(holdReq("b3", [{ tierId: "early", quantity: 1 }], { now: NOW + HOUR })), "OUTSIDE_SALES_WINDOW", 409);
    expect(over.extras).toMatchObject({ tierId: "early" });
  });

  it("availability says per tier what is left and whether it is on sale now", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 3 }), tier("late", { capacity: 5, salesStartAt: NOW + HOUR }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 3 }])));
    expect(await stub.availability(NOW)).toEqual([
      { tierId: "ga", name: "Tier ga", available: 0, soldOut: true, onSale: true },
      { tierId: "late", name: "Tier late", available: 5, soldOut: false, onSale: false },
    ]);
    expect((await stub.availability(NOW + HOUR)).map((a) => a.onSale)).toEqual([true, true]);
    await stub.syncGate(gate({ status: "SALES_PAUSED", eventVersion: 2 }));
    expect((await stub.availability(NOW + HOUR)).map((a) => a.onSale)).toEqual([false, false]);
  });
});

describe("tier capacity", () => {
  it("rises at any time and falls only down to held + sold", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 10 }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 4 }])));

    const below = await stub.upsertTier(tier("ga", { capacity: 3 }), NOW);
    expect(below).toMatchObject({ ok: false, code: "CAPACITY_BELOW_COMMITTED", extras: { tierId: "ga", committed: 4, held: 4, sold: 0, requestedCapacity: 3 } });
    expect(await tierCounts(stub, "ga")).toMatchObject({ tierId: "ga", capacity: 10, held: 4, sold: 0 });

    expect(await stub.upsertTier(tier("ga", { capacity: 4 }), NOW)).toMatchObject({ ok: true, value: { tierId: "ga", capacity: 4, held: 4, sold: 0 } });
    refused(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 1 }])), "SOLD_OUT", 409);

    expect(await stub.upsertTier(tier("ga", { capacity: 50 }), NOW)).toMatchObject({ ok: true, value: { tierId: "ga", capacity: 50, held: 4, sold: 0 } });
    held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 1 }])));
  });

  it("does not count holds already over at `now` as committed", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 10 }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 4 }], { now: NOW + HOUR })));
    expect(await stub.upsertTier(tier("ga", { capacity: 1 }), NOW + HOUR)).toMatchObject({ ok: false, code: "CAPACITY_BELOW_COMMITTED" });
    expect(await stub.upsertTier(tier("ga", { capacity: 1 }), NOW + 2 * HOUR)).toMatchObject({ ok: true, value: { tierId: "ga", capacity: 1, held: 0, sold: 0 } });
  });

  it("applies new price rules to new holds only", async () => {
    const { stub } = await onSaleInventory(tier("ga", { priceMinor: 1000, serviceFeeMinor: 0, facilityFeeMinor: 0, taxBps: 0 }));
    const before = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }])));
    await stub.upsertTier(tier("ga", { priceMinor: 3000, serviceFeeMinor: 0, facilityFeeMinor: 0, taxBps: 0 }), NOW);
    const after = held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 2 }])));
    expect([before.totalMinor, after.totalMinor]).toEqual([2000, 6000]);
    const again = await stub.getHold(before.holdId, "b1");
    expect(again).toMatchObject({ ok: true, value: { totalMinor: 2000 } });
  });

  it("refuses a tier configuration the counters cannot work with", async () => {
    const { stub } = newInventory();
    for (const bad of [{ capacity: 0 }, { minPerOrder: 0 }, { minPerOrder: 5, maxPerOrder: 4 }, { maxPerBuyer: 0 }, { capacity: 1.5 }]) {
      expect(await stub.upsertTier(tier("ga", bad), NOW)).toMatchObject({ ok: false, code: "VALIDATION_FAILED" });
    }
    expect(await stub.counts()).toEqual([]);
  });
});
