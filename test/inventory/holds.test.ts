import { describe, expect, it } from "vitest";
import { quotePrice } from "../../src/domain/pricing";
import { DEFAULT_HOLD_TTL_MS } from "../../src/inventory/contract";
import { held, holdReq, HOUR, idem, NOW, onSaleInventory, refused, response, sql, tier, tierCounts } from "./support";

describe("placing a hold", () => {
  it("quotes every line at `now`, locks the quote and counts the seats", async () => {
    const vip = tier("vip", { priceMinor: 12000, earlyBird: { priceMinor: 9000, until: NOW + HOUR }, groupDiscount: { minQuantity: 4, bps: 1000 } });
    const { stub, eventId } = await onSaleInventory(tier("ga"), vip);
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }, { tierId: "vip", quantity: 4 }])));

    expect(hold).toMatchObject({ eventId, status: "active", currency: "EUR", createdAt: NOW, expiresAt: NOW + DEFAULT_HOLD_TTL_MS });
    expect(hold.items).toEqual([
      { tierId: "ga", quantity: 2, quote: quotePrice(tier("ga"), 2, NOW) },
      { tierId: "vip", quantity: 4, quote: quotePrice(vip, 4, NOW) },
    ]);
    expect(hold.items[1]!.quote).toMatchObject({ priceRule: "early_bird", unitPriceMinor: 9000 });
    expect(hold.totalMinor).toBe(hold.items[0]!.quote.totalMinor + hold.items[1]!.quote.totalMinor);
    expect(await stub.counts()).toMatchObject([
      { tierId: "ga", capacity: 100, held: 2, sold: 0 },
      { tierId: "vip", capacity: 100, held: 4, sold: 0 },
    ]);
    expect(await stub.getHold(hold.holdId, "b1")).toEqual({ ok: true, value: hold });
  });

  it("uses the hold TTL it is given", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }], { ttlMs: 90_000 })));
    expect(hold.expiresAt).toBe(NOW + 90_000);
  });

  it("treats two lines of one tier as one order of their sum", async () => {
    const { stub } = await onSaleInventory(tier("ga", { maxPerOrder: 4 }));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }, { tierId: "ga", quantity: 2 }])));
    expect(hold.items).toEqual([{ tierId: "ga", quantity: 4, quote: quotePrice(tier("ga"), 4, NOW) }]);
    refused(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 3 }, { tierId: "ga", quantity: 2 }])), "QUANTITY_OUT_OF_RANGE", 422);
  });
});

describe("refusals: each with its own code, nothing half-done", () => {
  it("UNKNOWN_TIER names the tier", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const r = refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }, { tierId: "nope", quantity: 1 }])), "UNKNOWN_TIER", 422);
    expect(r.extras).toEqual({ tierId: "nope" });
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 0 });
  });

  it("QUANTITY_OUT_OF_RANGE gives the tier's per-order bounds", async () => {
    const { stub } = await onSaleInventory(tier("pair", { minPerOrder: 2, maxPerOrder: 6 }));
    for (const quantity of [1, 7, 0, 2.5]) {
      const r = refused(await stub.hold(holdReq("b1", [{ tierId: "pair", quantity }])), "QUANTITY_OUT_OF_RANGE", 422);
      expect(r.extras).toEqual({ tierId: "pair", quantity, min: 2, max: 6 });
    }
    held(await stub.hold(holdReq("b1", [{ tierId: "pair", quantity: 6 }])));
  });

  it("BUYER_LIMIT_EXCEEDED counts the buyer's earlier holds and says what is left", async () => {
    const { stub } = await onSaleInventory(tier("ga", { maxPerBuyer: 4 }), tier("vip", { maxPerBuyer: 1 }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 3 }])));
    const r = refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }])), "BUYER_LIMIT_EXCEEDED", 409);
    expect(r.extras).toEqual({ tierId: "ga", maxPerBuyer: 4, remaining: 1 });
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])));
    expect(refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])), "BUYER_LIMIT_EXCEEDED", 409).extras).toMatchObject({ remaining: 0 });
    // Per buyer and per tier: another buyer, or another tier, is unaffected.
    held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 4 }])));
    held(await stub.hold(holdReq("b1", [{ tierId: "vip", quantity: 1 }])));
  });

  it("SOLD_OUT names the tier and how many are left", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 5 }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 3 }])));
    const some = refused(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 3 }])), "SOLD_OUT", 409);
    expect(some.extras).toEqual({ tierId: "ga", available: 2 });
    held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 2 }])));
    expect(refused(await stub.hold(holdReq("b3", [{ tierId: "ga", quantity: 1 }])), "SOLD_OUT", 409).extras).toEqual({ tierId: "ga", available: 0 });
  });

  it("CURRENCY_MISMATCH: one hold is paid in one currency", async () => {
    const { stub } = await onSaleInventory(tier("eur"), tier("usd", { currency: "USD" }));
    const r = refused(await stub.hold(holdReq("b1", [{ tierId: "eur", quantity: 1 }, { tierId: "usd", quantity: 1 }])), "CURRENCY_MISMATCH", 422);
    expect(r.extras).toEqual({ currencies: ["EUR", "USD"] });
  });

  it("BAD_REQUEST for a hold without items", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    refused(await stub.hold(holdReq("b1", [])), "BAD_REQUEST", 400);
  });

  it("checks rule by rule across all lines: an unknown tier beats an earlier sold-out line", async () => {
    const { stub } = await onSaleInventory(tier("small", { capacity: 1 }), tier("ga"));
    refused(await stub.hold(holdReq("b1", [{ tierId: "small", quantity: 2 }, { tierId: "ghost", quantity: 1 }])), "UNKNOWN_TIER", 422);
    refused(await stub.hold(holdReq("b1", [{ tierId: "small", quantity: 2 }, { tierId: "ga", quantity: 11 }])), "QUANTITY_OUT_OF_RANGE", 422);
  });

  it("is all or nothing across tiers: one sold-out line holds nothing at all", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 10 }), tier("vip", { capacity: 2 }));
    const r = refused(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 5 }, { tierId: "vip", quantity: 3 }])), "SOLD_OUT", 409);
    expect(r.extras).toEqual({ tierId: "vip", available: 2 });
    expect(await stub.counts()).toMatchObject([
      { tierId: "ga", capacity: 10, held: 0, sold: 0 },
      { tierId: "vip", capacity: 2, held: 0, sold: 0 },
    ]);
    expect(await sql(stub, "SELECT * FROM holds")).toEqual([]);
    expect(await sql(stub, "SELECT * FROM buyer_counts WHERE held > 0")).toEqual([]);
    // The refused attempt did not use up the buyer's allowance either.
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 10 }, { tierId: "vip", quantity: 2 }])));
  });
});

describe("release and lookup", () => {
  it("gives the capacity and the buyer's allowance back", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 4, maxPerBuyer: 4 }));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 4 }])));
    refused(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 1 }])), "SOLD_OUT", 409);

    const rel = response(await stub.release({ ...idem("b1"), buyerId: "b1", holdId: hold.holdId, now: NOW + 1 }));
    expect(rel).toMatchObject({ status: 200, replayed: false, result: { ok: true, value: { holdId: hold.holdId, status: "released" } } });
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 0 });
    expect(await stub.getHold(hold.holdId, "b1")).toMatchObject({ ok: true, value: { status: "released" } });
    expect(await sql(stub, "SELECT * FROM schedule WHERE kind = 'hold_expiry'")).toEqual([]);

    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 4 }])));
  });

  it("answers a second release (new key) with the released hold, changing nothing", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }])));
    held(await stub.hold(holdReq("b2", [{ tierId: "ga", quantity: 3 }])));
    await stub.release({ ...idem("b1"), buyerId: "b1", holdId: hold.holdId, now: NOW });
    const again = response(await stub.release({ ...idem("b1"), buyerId: "b1", holdId: hold.holdId, now: NOW }));
    expect(again).toMatchObject({ status: 200, result: { ok: true, value: { status: "released" } } });
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 3 });
  });

  it("hides another buyer's hold exactly like a missing one", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }])));
    const foreign = await stub.getHold(hold.holdId, "b2");
    const missing = await stub.getHold("00000000-0000-7000-8000-000000000000", "b2");
    expect(foreign).toMatchObject({ ok: false, code: "HOLD_NOT_FOUND" });
    expect(missing).toMatchObject({ ok: false, code: "HOLD_NOT_FOUND" });

    const r = refused(await stub.release({ ...idem("b2"), buyerId: "b2", holdId: hold.holdId, now: NOW }), "HOLD_NOT_FOUND", 404);
    expect(r.extras).toEqual({ holdId: hold.holdId });
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 2 });
  });

  it("HOLD_EXPIRED for a hold past its expiry, even before the alarm ran, with the capacity back", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 2 }], { now: NOW + HOUR })));
    const late = NOW + HOUR + DEFAULT_HOLD_TTL_MS;
    const r = refused(await stub.release({ ...idem("b1"), buyerId: "b1", holdId: hold.holdId, now: late }), "HOLD_EXPIRED", 410);
    expect(r.extras).toEqual({ holdId: hold.holdId, expiredAt: late });
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 0 });
    expect(await sql(stub, "SELECT held FROM buyer_counts WHERE buyer_id = 'b1'")).toEqual([{ held: 0 }]);
  });

  it("shows an active hold past its expiry as expired", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }], { now: NOW - HOUR })));
    expect(await stub.getHold(hold.holdId, "b1")).toMatchObject({ ok: true, value: { status: "expired" } });
  });

  it("HOLD_CONVERTED for a hold already checked out", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])));
    await sql(stub, "UPDATE holds SET status = 'converted' WHERE hold_id = ?", hold.holdId);
    refused(await stub.release({ ...idem("b1"), buyerId: "b1", holdId: hold.holdId, now: NOW }), "HOLD_CONVERTED", 409);
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 1 });
  });
});
