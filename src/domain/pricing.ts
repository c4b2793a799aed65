/**
 * Ticket pricing: pure, integer arithmetic in minor units (cents), rates in basis points.
 * The quote is computed by the event's Durable Object when a hold is made and locked into
 * the hold; checkout charges exactly that quote.
 *
 * Order of operations (documented so buyers, organizers and reports agree):
 *   unit price   = early-bird price while now < earlyBird.until, else last-minute price
 *                  from lastMinute.from, else the base price (early bird wins if both apply)
 *   subtotal     = unit price × quantity
 *   discount     = group discount (bps of the subtotal) when quantity ≥ its minimum
 *   fees         = (service fee + facility fee) × quantity, never discounted
 *   tax          = taxBps of (subtotal − discount + fees)
 *   total        = subtotal − discount + fees + tax
 * Every percentage is rounded half up to a whole minor unit, once, where it is applied.
 */
export interface PriceRules {
  /** ISO 4217 code, e.g. "EUR". */
  currency: string;
  priceMinor: number;
  serviceFeeMinor: number;
  facilityFeeMinor: number;
  /** Tax rate in basis points (0-10000). */
  taxBps: number;
  earlyBird: { priceMinor: number; until: number } | null;
  lastMinute: { priceMinor: number; from: number } | null;
  groupDiscount: { minQuantity: number; bps: number } | null;
}

export type PriceRule = "base" | "early_bird" | "last_minute";

export interface PriceQuote {
  currency: string;
  quantity: number;
  priceRule: PriceRule;
  unitPriceMinor: number;
  subtotalMinor: number;
  groupDiscountMinor: number;
  serviceFeesMinor: number;
  facilityFeesMinor: number;
  taxMinor: number;
  totalMinor: number;
  /** When the quote was computed (the hold locks it). */
  quotedAt: number;
}

/** round(amount × bps / 10000), half up, for non-negative integers. */
export function applyBps(amount: number, bps: number): number {
  return Math.floor((amount * bps + 5000) / 10000);
}

function unitPrice(r: PriceRules, now: number): { rule: PriceRule; price: number } {
  if (r.earlyBird && now < r.earlyBird.until) return { rule: "early_bird", price: r.earlyBird.priceMinor };
  if (r.lastMinute && now >= r.lastMinute.from) return { rule: "last_minute", price: r.lastMinute.priceMinor };
  return { rule: "base", price: r.priceMinor };
}

export function quotePrice(r: PriceRules, quantity: number, now: number): PriceQuote {
  if (!Number.isInteger(quantity) || quantity < 1) throw new RangeError("quantity must be a positive integer");
  const { rule, price } = unitPrice(r, now);
  const subtotal = price * quantity;
  const discount = r.groupDiscount && quantity >= r.groupDiscount.minQuantity ? applyBps(subtotal, r.groupDiscount.bps) : 0;
  const serviceFees = r.serviceFeeMinor * quantity;
  const facilityFees = r.facilityFeeMinor * quantity;
  const taxable = subtotal - discount + serviceFees + facilityFees;
  const tax = applyBps(taxable, r.taxBps);
  return {
    currency: r.currency,
    quantity,
    priceRule: rule,
    unitPriceMinor: price,
    subtotalMinor: subtotal,
    groupDiscountMinor: discount,
    serviceFeesMinor: serviceFees,
    facilityFeesMinor: facilityFees,
    taxMinor: tax,
    totalMinor: taxable + tax,
    quotedAt: now,
  };
}
