import { quotePrice } from "../../src/domain/pricing";
import type { GateState, HoldDto, HoldItem, HoldLine, HoldRequest, InventoryResult, ReleaseRequest } from "../../src/inventory/contract";
import { eventWindow, isOpen } from "./gate";
import { problem } from "./problems";
import { schedule, unschedule } from "./schedule";
import type { Db } from "./sql";
import { adjustHeld, buyerCommitted, getTier, type Tier } from "./tiers";

/**
 * Holds: a buyer's claim on capacity for a while, with the price quoted and locked at
 * hold time. Everything here runs inside the caller's synchronous transaction: the checks
 * read the counters and the writes follow with no await in between, so no other call can
 * slip in, and a throw rolls the whole hold back.
 */
export type HoldRow = {
  hold_id: string;
  buyer_id: string;
  status: HoldDto["status"];
  created_at: number;
  expires_at: number;
  items: string;
  total_minor: number;
  currency: string;
};

export const expiryId = (holdId: string) => `hold_expiry:${holdId}`;

function toDto(row: HoldRow, eventId: string): HoldDto {
  return {
    holdId: row.hold_id,
    eventId,
    status: row.status,
    items: JSON.parse(row.items) as HoldLine[],
    currency: row.currency,
    totalMinor: row.total_minor,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export function readHold(db: Db, holdId: string): HoldRow | null {
  return db.first<HoldRow>`SELECT * FROM holds WHERE hold_id = ${holdId}`;
}

/** One line per tier, in first-seen order: two lines of one tier are one order of their sum. */
function mergeItems(items: HoldItem[]): HoldItem[] {
  const byTier = new Map<string, number>();
  for (const { tierId, quantity } of items) byTier.set(tierId, (byTier.get(tierId) ?? 0) + quantity);
  return [...byTier].map(([tierId, quantity]) => ({ tierId, quantity }));
}

type Checked = { ok: true; lines: { item: HoldItem; tier: Tier }[] } | ReturnType<typeof problem>;

/**
 * The sellability rules, in a fixed order so a request that breaks several gets the same,
 * most fundamental answer every time: gate, event window, unknown tier, tier window,
 * quantity, currency, buyer limit, capacity. Each rule is checked for every line before
 * the next rule, so e.g. an unknown tier is reported even when an earlier line is sold out.
 */
function check(db: Db, gate: GateState | null, buyerId: string, items: HoldItem[], now: number): Checked {
  if (items.length === 0) return problem("BAD_REQUEST", "A hold needs at least one item");
  if (!gate || gate.status !== "ON_SALE") {
    return problem("EVENT_NOT_ON_SALE", `The event is not on sale (status ${gate?.status ?? "unknown"})`, {
      eventStatus: gate?.status ?? null,
    });
  }
  const window = eventWindow(gate);
  if (!isOpen(window, now)) {
    return problem("OUTSIDE_SALES_WINDOW", "The event's sales window is not open", { ...window });
  }

  const lines: { item: HoldItem; tier: Tier }[] = [];
  for (const item of mergeItems(items)) {
    const tier = getTier(db, item.tierId);
    if (!tier) return problem("UNKNOWN_TIER", `The event has no tier ${item.tierId}`, { tierId: item.tierId });
    lines.push({ item, tier });
  }
  for (const { tier } of lines) {
    const w = { opensAt: tier.salesStartAt, closesAt: tier.salesEndAt };
    if (!isOpen(w, now)) {
      return problem("OUTSIDE_SALES_WINDOW", `Tier ${tier.tierId} is not on sale now`, { tierId: tier.tierId, ...w });
    }
  }
  for (const { item, tier } of lines) {
    const q = item.quantity;
    if (!Number.isSafeInteger(q) || q < tier.minPerOrder || q > tier.maxPerOrder) {
      return problem(
        "QUANTITY_OUT_OF_RANGE",
        `Tier ${tier.tierId} is sold ${tier.minPerOrder} to ${tier.maxPerOrder} per order; asked for ${q}`,
        { tierId: tier.tierId, quantity: q, min: tier.minPerOrder, max: tier.maxPerOrder },
      );
    }
  }
  const currencies = [...new Set(lines.map((l) => l.tier.currency))];
  if (currencies.length > 1) {
    return problem("CURRENCY_MISMATCH", `One hold is paid in one currency; these tiers use ${currencies.join(", ")}`, { currencies });
  }
  for (const { item, tier } of lines) {
    const remaining = Math.max(0, tier.maxPerBuyer - buyerCommitted(db, buyerId, tier.tierId));
    if (item.quantity > remaining) {
      return problem(
        "BUYER_LIMIT_EXCEEDED",
        `Tier ${tier.tierId} allows ${tier.maxPerBuyer} per buyer; ${remaining} left for you`,
        { tierId: tier.tierId, maxPerBuyer: tier.maxPerBuyer, remaining },
      );
    }
  }
  for (const { item, tier } of lines) {
    const available = Math.max(0, tier.capacity - tier.held - tier.sold);
    if (item.quantity > available) {
      return problem(
        "SOLD_OUT",
        available === 0 ? `Tier ${tier.tierId} is sold out` : `Tier ${tier.tierId} has only ${available} left`,
        { tierId: tier.tierId, available },
      );
    }
  }
  return { ok: true, lines };
}

/** Checks every rule, then quotes, counts and records the hold; all or nothing. */
export function placeHold(db: Db, gate: GateState | null, req: HoldRequest, holdId: string, eventId: string): InventoryResult<HoldDto> {
  const checked = check(db, gate, req.buyerId, req.items, req.now);
  if (!checked.ok) return checked;

  const lines: HoldLine[] = checked.lines.map(({ item, tier }) => ({ ...item, quote: quotePrice(tier, item.quantity, req.now) }));
  for (const { tierId, quantity } of lines) adjustHeld(db, req.buyerId, tierId, quantity);
  const row: HoldRow = {
    hold_id: holdId,
    buyer_id: req.buyerId,
    status: "active",
    created_at: req.now,
    expires_at: req.now + req.ttlMs,
    items: JSON.stringify(lines),
    total_minor: lines.reduce((sum, l) => sum + l.quote.totalMinor, 0),
    currency: lines[0]!.quote.currency,
  };
  db.run`
    INSERT INTO holds (hold_id, buyer_id, status, created_at, expires_at, items, total_minor, currency, updated_at)
    VALUES (${row.hold_id}, ${row.buyer_id}, ${row.status}, ${row.created_at}, ${row.expires_at}, ${row.items},
            ${row.total_minor}, ${row.currency}, ${req.now})`;
  schedule(db, expiryId(holdId), "hold_expiry", row.expires_at, holdId);
  return { ok: true, value: toDto(row, eventId) };
}

/** Ends an active hold and gives its capacity back (tier and buyer counters). */
export function endHold(db: Db, row: HoldRow, status: "released" | "expired", now: number): HoldRow {
  for (const { tierId, quantity } of JSON.parse(row.items) as HoldLine[]) adjustHeld(db, row.buyer_id, tierId, -quantity);
  db.run`UPDATE holds SET status = ${status}, updated_at = ${now} WHERE hold_id = ${row.hold_id} AND status = 'active'`;
  unschedule(db, expiryId(row.hold_id));
  return { ...row, status };
}

/**
 * Expires every active hold due at `now`. Driven by the alarm, and also run before a new
 * hold is checked so a late alarm never makes a buyer see capacity that is already free
 * as sold out. Idempotent: only active holds are touched.
 */
export function expireDueHolds(db: Db, now: number): number {
  const due = db.all<HoldRow>`SELECT * FROM holds WHERE status = 'active' AND expires_at <= ${now}`;
  for (const row of due) endHold(db, row, "expired", now);
  return due.length;
}

/** Only the hold's buyer may release it; releasing twice answers the released hold again. */
export function releaseHold(db: Db, req: ReleaseRequest, eventId: string): InventoryResult<HoldDto> {
  let row = readHold(db, req.holdId);
  if (!row || row.buyer_id !== req.buyerId) return problem("HOLD_NOT_FOUND", `No hold ${req.holdId}`, { holdId: req.holdId });
  if (row.status === "active" && row.expires_at <= req.now) row = endHold(db, row, "expired", req.now);
  switch (row.status) {
    case "active":
      return { ok: true, value: toDto(endHold(db, row, "released", req.now), eventId) };
    case "released":
      return { ok: true, value: toDto(row, eventId) };
    case "expired":
      return problem("HOLD_EXPIRED", `Hold ${row.hold_id} expired`, { holdId: row.hold_id, expiredAt: row.expires_at });
    case "converted":
      return problem("HOLD_CONVERTED", `Hold ${row.hold_id} was already checked out`, { holdId: row.hold_id });
  }
}

/**
 * Another buyer's hold answers exactly like a missing one. An active hold past its expiry
 * (the alarm has not run yet) is shown as expired: that is what it is.
 */
export function findHold(db: Db, holdId: string, buyerId: string, eventId: string, now: number): InventoryResult<HoldDto> {
  const row = readHold(db, holdId);
  if (!row || row.buyer_id !== buyerId) return problem("HOLD_NOT_FOUND", `No hold ${holdId}`, { holdId });
  const status = row.status === "active" && row.expires_at <= now ? "expired" : row.status;
  return { ok: true, value: toDto({ ...row, status }, eventId) };
}
