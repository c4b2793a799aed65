import { describe, expect, it } from "vitest";
import { applyBps, quotePrice, type PriceRules } from "../../src/domain/pricing";

const base: PriceRules = {
  currency: "EUR",
  priceMinor: 5000,
  serviceFeeMinor: 250,
  facilityFeeMinor: 100,
  taxBps: 1900,
  earlyBird: null,
  lastMinute: null,
  groupDiscount: null,
};
const T = Date.UTC(2027, 0, 1);

describe("applyBps rounds half up to whole minor units", () => {
  it.each([
    [1000, 1900, 190],
    [1, 5000, 1], // 0.5 → 1
    [1, 4999, 0], // 0.4999 → 0
    [3, 5000, 2], // 1.5 → 2
    [0, 10000, 0],
    [12345, 10000, 12345],
  ])("%d × %d bps = %d", (amount, bps, expected) => expect(applyBps(amount, bps)).toBe(expected));
});

describe("quotePrice", () => {
  it.each([
    // [description, rules, quantity, now, expected subset]
    ["base price, fees and tax", base, 2, T, { priceRule: "base", unitPriceMinor: 5000, subtotalMinor: 10000, groupDiscountMinor: 0, serviceFeesMinor: 500, facilityFeesMinor: 200, taxMinor: 2033, totalMinor: 12733 }],
    ["early bird before its end", { ...base, earlyBird: { priceMinor: 4000, until: T + 1 } }, 1, T, { priceRule: "early_bird", unitPriceMinor: 4000, subtotalMinor: 4000, taxMinor: 827, totalMinor: 5177 }],
    ["early bird ends exactly at `until`", { ...base, earlyBird: { priceMinor: 4000, until: T } }, 1, T, { priceRule: "base", unitPriceMinor: 5000 }],
    ["last minute from `from`", { ...base, lastMinute: { priceMinor: 6500, from: T } }, 1, T, { priceRule: "last_minute", unitPriceMinor: 6500 }],
    ["not yet last minute", { ...base, lastMinute: { priceMinor: 6500, from: T + 1 } }, 1, T, { priceRule: "base" }],
    ["early bird wins over last minute", { ...base, earlyBird: { priceMinor: 4000, until: T + 10 }, lastMinute: { priceMinor: 6500, from: T - 10 } }, 1, T, { priceRule: "early_bird" }],
    ["group discount at its minimum", { ...base, groupDiscount: { minQuantity: 4, bps: 1000 } }, 4, T, { subtotalMinor: 20000, groupDiscountMinor: 2000, serviceFeesMinor: 1000, facilityFeesMinor: 400, taxMinor: 3686, totalMinor: 23086 }],
    ["no group discount below its minimum", { ...base, groupDiscount: { minQuantity: 4, bps: 1000 } }, 3, T, { groupDiscountMinor: 0 }],
    ["free ticket", { ...base, priceMinor: 0, serviceFeeMinor: 0, facilityFeeMinor: 0 }, 5, T, { subtotalMinor: 0, taxMinor: 0, totalMinor: 0 }],
    ["zero tax", { ...base, taxBps: 0 }, 1, T, { taxMinor: 0, totalMinor: 5350 }],
    ["discount rounds half up", { ...base, priceMinor: 5, serviceFeeMinor: 0, facilityFeeMinor: 0, taxBps: 0, groupDiscount: { minQuantity: 1, bps: 1000 } }, 1, T, { groupDiscountMinor: 1, totalMinor: 4 }],
  ] as const)("%s", (_name, rules, quantity, now, expected) => {
    const q = quotePrice(rules as PriceRules, quantity, now);
    expect(q).toMatchObject(expected);
    // The parts always add up to the total.
    expect(q.subtotalMinor - q.groupDiscountMinor + q.serviceFeesMinor + q.facilityFeesMinor + q.taxMinor).toBe(q.totalMinor);
    expect(q).toMatchObject({ currency: "EUR", quantity, quotedAt: now });
  });

  it("refuses a non-positive or fractional quantity", () => {
    expect(() => quotePrice(base, 0, T)).toThrow(RangeError);
    expect(() => quotePrice(base, 1.5, T)).toThrow(RangeError);
  });

  it("stays exact for large orders (no floating point drift)", () => {
    const q = quotePrice({ ...base, priceMinor: 99_999_999, taxBps: 2000 }, 100, T);
    expect(Number.isSafeInteger(q.totalMinor)).toBe(true);
    expect(q.subtotalMinor).toBe(9_999_999_900);
  });
});
