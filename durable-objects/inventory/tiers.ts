import type { PriceRules } from "../../src/domain/pricing";
import type { InventoryResult, TierConfig, TierCounts } from "../../src/inventory/contract";
import { problem } from "./problems";
import type { Db } from "./sql";

/** A tier as stored: its configuration (price rules as JSON) plus the live counters. */
export interface Tier extends TierConfig {
  held: number;
  sold: number;
}

type TierRow = {
  tier_id: string;
  name: string;
  capacity: number;
  min_per_order: number;
  max_per_order: number;
  max_per_buyer: number;
  sales_start_at: number | null;
  sales_end_at: number | null;
  price_rules: string;
  config_version: number;
  held: number;
  sold: number;
};

function fromRow(row: TierRow): Tier {
  const rules = JSON.parse(row.price_rules) as PriceRules;
  return {
    ...rules,
    tierId: row.tier_id,
    name: row.name,
    capacity: row.capacity,
    minPerOrder: row.min_per_order,
    maxPerOrder: row.max_per_order,
    maxPerBuyer: row.max_per_buyer,
    salesStartAt: row.sales_start_at,
    salesEndAt: row.sales_end_at,
    version: row.config_version,
    held: row.held,
    sold: row.sold,
  };
}

const priceRulesOf = (t: TierConfig): PriceRules => ({
  currency: t.currency,
  priceMinor: t.priceMinor,
  serviceFeeMinor: t.serviceFeeMinor,
  facilityFeeMinor: t.facilityFeeMinor,
  taxBps: t.taxBps,
  earlyBird: t.earlyBird,
  lastMinute: t.lastMinute,
  groupDiscount: t.groupDiscount,
});

export const countsOf = (t: Pick<Tier, "tierId" | "version" | "capacity" | "held" | "sold">): TierCounts => ({
  tierId: t.tierId,
  version: t.version,
  capacity: t.capacity,
  held: t.held,
  sold: t.sold,
});

/** Tiers in the order they were first configured. */
export function listTiers(db: Db): Tier[] {
  return db.all<TierRow>`SELECT * FROM tiers ORDER BY rowid`.map(fromRow);
}

export function getTier(db: Db, tierId: string): Tier | null {
  const row = db.first<TierRow>`SELECT * FROM tiers WHERE tier_id = ${tierId}`;
  return row ? fromRow(row) : null;
}

const isCount = (n: number, min: number) => Number.isSafeInteger(n) && n >= min;

/**
 * The route validates tiers with its schema; this re-checks the few rules the counters
 * and the hold path depend on, so a bad push is refused instead of tripping a CHECK.
 */
function invalidTier(t: TierConfig): string | null {
  if (!isCount(t.version, 1)) return "version must be a positive integer";
  if (!isCount(t.capacity, 1)) return "capacity must be a positive integer";
  if (!isCount(t.minPerOrder, 1)) return "minPerOrder must be a positive integer";
  if (!isCount(t.maxPerOrder, t.minPerOrder)) return "maxPerOrder must be an integer >= minPerOrder";
  if (!isCount(t.maxPerBuyer, 1)) return "maxPerBuyer must be a positive integer";
  if (t.salesStartAt !== null && t.salesEndAt !== null && t.salesEndAt <= t.salesStartAt) {
    return "salesEndAt must be after salesStartAt";
  }
  return null;
}

/**
 * Creates or reconfigures a tier. Price rules and limits apply to holds made from now on
 * (existing holds keep their locked quotes). Capacity may rise at any time and may fall
 * only down to what is committed (held + sold): lowering below that would take seats
 * from buyers who already have them.
 */
export function upsertTier(db: Db, tier: TierConfig, now: number): InventoryResult<TierCounts> {
  const invalid = invalidTier(tier);
  if (invalid) return problem("VALIDATION_FAILED", `Tier ${tier.tierId}: ${invalid}`, { tierId: tier.tierId });
  const existing = getTier(db, tier.tierId);
  if (existing && existing.version >= tier.version) {
    // An older (or the same) configuration arriving late: the newer one stays in force.
    return { ok: true, value: countsOf(existing) };
  }
  if (existing) {
    const committed = existing.held + existing.sold;
    if (tier.capacity < committed) {
      return problem(
        "CAPACITY_BELOW_COMMITTED",
        `Tier ${tier.tierId} has ${committed} tickets held or sold; capacity cannot go below that`,
        { tierId: tier.tierId, committed, held: existing.held, sold: existing.sold, requestedCapacity: tier.capacity },
      );
    }
  }
  const rules = JSON.stringify(priceRulesOf(tier));
  db.run`
    INSERT INTO tiers (tier_id, name, capacity, min_per_order, max_per_order, max_per_buyer,
                       sales_start_at, sales_end_at, price_rules, config_version, updated_at)
    VALUES (${tier.tierId}, ${tier.name}, ${tier.capacity}, ${tier.minPerOrder}, ${tier.maxPerOrder},
            ${tier.maxPerBuyer}, ${tier.salesStartAt}, ${tier.salesEndAt}, ${rules}, ${tier.version}, ${now})
    ON CONFLICT (tier_id) DO UPDATE SET config_version = excluded.config_version,
      name = excluded.name, capacity = excluded.capacity, min_per_order = excluded.min_per_order,
      max_per_order = excluded.max_per_order, max_per_buyer = excluded.max_per_buyer,
      sales_start_at = excluded.sales_start_at, sales_end_at = excluded.sales_end_at,
      price_rules = excluded.price_rules, updated_at = excluded.updated_at`;
  return { ok: true, value: countsOf({ ...tier, held: existing?.held ?? 0, sold: existing?.sold ?? 0 }) };
}

/** Moves `quantity` of a tier's capacity into (positive) or out of (negative) `held`. */
export function adjustHeld(db: Db, buyerId: string, tierId: string, delta: number): void {
  db.run`UPDATE tiers SET held = held + ${delta} WHERE tier_id = ${tierId}`;
  // Not an upsert: SQLite checks CHECK (held >= 0) on the proposed insert row before it
  // sees the conflict, so a negative delta would fail even when the row exists.
  const updated = db.run`UPDATE buyer_counts SET held = held + ${delta} WHERE buyer_id = ${buyerId} AND tier_id = ${tierId}`;
  if (updated === 0) db.run`INSERT INTO buyer_counts (buyer_id, tier_id, held) VALUES (${buyerId}, ${tierId}, ${delta})`;
}

/** How many of a tier one buyer already holds or bought. */
export function buyerCommitted(db: Db, buyerId: string, tierId: string): number {
  const row = db.first<{ n: number }>`SELECT held + sold AS n FROM buyer_counts WHERE buyer_id = ${buyerId} AND tier_id = ${tierId}`;
  return row?.n ?? 0;
}

/** A paid order's seats stop being held and count as sold (tier and buyer counters). */
export function moveHeldToSold(db: Db, buyerId: string, tierId: string, quantity: number): void {
  db.run`UPDATE tiers SET held = held - ${quantity}, sold = sold + ${quantity} WHERE tier_id = ${tierId}`;
  db.run`UPDATE buyer_counts SET held = held - ${quantity}, sold = sold + ${quantity} WHERE buyer_id = ${buyerId} AND tier_id = ${tierId}`;
}

/** Adds sold seats that were not held (a payment that arrived after its order expired). */
export function addSold(db: Db, buyerId: string, tierId: string, quantity: number): void {
  db.run`UPDATE tiers SET sold = sold + ${quantity} WHERE tier_id = ${tierId}`;
  const updated = db.run`UPDATE buyer_counts SET sold = sold + ${quantity} WHERE buyer_id = ${buyerId} AND tier_id = ${tierId}`;
  if (updated === 0) db.run`INSERT INTO buyer_counts (buyer_id, tier_id, sold) VALUES (${buyerId}, ${tierId}, ${quantity})`;
}
