import type { GateState, InventoryResult, JoinWaitlistRequest, WaitlistEntryDto } from "../../src/inventory/contract";
import { uuidv7 } from "../../src/lib/ids";
import { placeHold } from "./holds";
import { enqueuePayload } from "./outbox";
import { problem } from "./problems";
import type { Db } from "./sql";
import { buyerCommitted, getTier, listTiers } from "./tiers";

/**
 * Waitlists for sold-out tiers. Customers queue with a quantity; when seats free up
 * (holds or unpaid orders expire, refunds, cancellations, a capacity raise) the first in
 * line gets a timed offer: a hold placed for them, which they check out like any hold.
 * An offer that runs out passes to the next. The line is strictly first come, first
 * served: a large request at the front is not skipped for a smaller one behind it.
 * Every step is audited (D1 audit_log through the outbox).
 */
type EntryRow = {
  entry_id: string;
  tier_id: string;
  buyer_id: string;
  quantity: number;
  status: WaitlistEntryDto["status"];
  hold_id: string | null;
  created_at: number;
  updated_at: number;
};

function audit(db: Db, entry: Pick<EntryRow, "entry_id" | "tier_id" | "buyer_id" | "quantity">, step: string, now: number, extra: Record<string, unknown> = {}) {
  enqueuePayload(db, "audit", `${entry.entry_id}:${step}:${now}`, {
    action: `waitlist.${step}`,
    actorId: step === "joined" || step === "left" ? entry.buyer_id : null,
    targetType: "waitlist_entry",
    targetId: entry.entry_id,
    details: { tierId: entry.tier_id, buyerId: entry.buyer_id, quantity: entry.quantity, ...extra },
    at: now,
  }, now);
}

function toDto(db: Db, row: EntryRow, eventId: string): WaitlistEntryDto {
  const position =
    row.status === "waiting"
      ? db.first<{ n: number }>`SELECT count(*) AS n FROM waitlist WHERE tier_id = ${row.tier_id} AND status = 'waiting'
                               AND (created_at < ${row.created_at} OR (created_at = ${row.created_at} AND entry_id <= ${row.entry_id}))`!.n
      : null;
  const offerExpiresAt =
    row.status === "offered" && row.hold_id
      ? (db.first<{ expires_at: number }>`SELECT expires_at FROM holds WHERE hold_id = ${row.hold_id}`?.expires_at ?? null)
      : null;
  return {
    entryId: row.entry_id,
    eventId,
    tierId: row.tier_id,
    quantity: row.quantity,
    status: row.status,
    position,
    holdId: row.status === "offered" ? row.hold_id : null,
    offerExpiresAt,
    createdAt: row.created_at,
  };
}

export function joinWaitlist(db: Db, req: JoinWaitlistRequest, eventId: string): InventoryResult<WaitlistEntryDto> {
  const tier = getTier(db, req.tierId);
  if (!tier) return problem("UNKNOWN_TIER", `The event has no tier ${req.tierId}`, { tierId: req.tierId });
  if (req.quantity < tier.minPerOrder || req.quantity > tier.maxPerOrder) {
    return problem("QUANTITY_OUT_OF_RANGE", `Tier ${tier.tierId} is sold ${tier.minPerOrder} to ${tier.maxPerOrder} per order`, {
      tierId: tier.tierId,
      quantity: req.quantity,
      min: tier.minPerOrder,
      max: tier.maxPerOrder,
    });
  }
  const remaining = Math.max(0, tier.maxPerBuyer - buyerCommitted(db, req.buyerId, tier.tierId));
  if (req.quantity > remaining) {
    return problem("BUYER_LIMIT_EXCEEDED", `Tier ${tier.tierId} allows ${tier.maxPerBuyer} per buyer; ${remaining} left for you`, {
      tierId: tier.tierId,
      maxPerBuyer: tier.maxPerBuyer,
      remaining,
    });
  }
  const available = tier.capacity - tier.held - tier.sold;
  const queued = db.first<{ n: number }>`SELECT count(*) AS n FROM waitlist WHERE tier_id = ${tier.tierId} AND status IN ('waiting', 'offered')`!.n;
  if (available >= req.quantity && queued === 0) {
    return problem("WAITLIST_TIER_AVAILABLE", `Tier ${tier.tierId} has ${available} left: hold them`, { tierId: tier.tierId, available });
  }
  const mine = db.first<{ entry_id: string }>`SELECT entry_id FROM waitlist WHERE tier_id = ${tier.tierId} AND buyer_id = ${req.buyerId} AND status IN ('waiting', 'offered')`;
  if (mine) return problem("WAITLIST_DUPLICATE", "You are already waiting for this tier", { entryId: mine.entry_id });
  const row: EntryRow = {
    entry_id: uuidv7(req.now),
    tier_id: tier.tierId,
    buyer_id: req.buyerId,
    quantity: req.quantity,
    status: "waiting",
    hold_id: null,
    created_at: req.now,
    updated_at: req.now,
  };
  db.run`INSERT INTO waitlist (entry_id, tier_id, buyer_id, quantity, status, created_at, updated_at)
         VALUES (${row.entry_id}, ${row.tier_id}, ${row.buyer_id}, ${row.quantity}, 'waiting', ${req.now}, ${req.now})`;
  audit(db, row, "joined", req.now);
  return { ok: true, value: toDto(db, row, eventId) };
}

export function leaveWaitlist(db: Db, entryId: string, buyerId: string, now: number, eventId: string, release: (holdId: string) => void): InventoryResult<WaitlistEntryDto> {
  const row = db.first<EntryRow>`SELECT * FROM waitlist WHERE entry_id = ${entryId}`;
  if (!row || row.buyer_id !== buyerId) return problem("WAITLIST_ENTRY_NOT_FOUND", "No such waitlist entry of yours", { entryId });
  if (row.status === "waiting" || row.status === "offered") {
    if (row.status === "offered" && row.hold_id) release(row.hold_id);
    db.run`UPDATE waitlist SET status = 'left', updated_at = ${now} WHERE entry_id = ${entryId}`;
    audit(db, row, "left", now);
    return { ok: true, value: toDto(db, { ...row, status: "left" }, eventId) };
  }
  return { ok: true, value: toDto(db, row, eventId) };
}

export function buyerEntries(db: Db, buyerId: string, eventId: string): WaitlistEntryDto[] {
  return db.all<EntryRow>`SELECT * FROM waitlist WHERE buyer_id = ${buyerId} ORDER BY created_at, entry_id`.map((r) => toDto(db, r, eventId));
}

/** The offer's hold was checked out: the entry is promoted. */
export function promoteOnCheckout(db: Db, holdId: string, now: number): void {
  const row = db.first<EntryRow>`SELECT * FROM waitlist WHERE hold_id = ${holdId} AND status = 'offered'`;
  if (!row) return;
  db.run`UPDATE waitlist SET status = 'promoted', updated_at = ${now} WHERE entry_id = ${row.entry_id}`;
  audit(db, row, "promoted", now, { holdId });
}

/**
 * Ends offers whose holds are over (expired or released without checkout), then offers
 * free seats to the first in each tier's line. Cheap when nobody waits (one indexed
 * query), so it runs after everything that can free seats.
 */
export function advanceWaitlists(db: Db, gate: GateState | null, now: number, offerTtlMs: number, eventId: string): number {
  const lapsed = db.all<EntryRow & { hold_status: string }>`
    SELECT w.*, h.status AS hold_status FROM waitlist w JOIN holds h ON h.hold_id = w.hold_id
    WHERE w.status = 'offered' AND (h.status IN ('expired', 'released') OR (h.status = 'active' AND h.expires_at <= ${now}))`;
  for (const row of lapsed) {
    db.run`UPDATE waitlist SET status = 'expired', updated_at = ${now} WHERE entry_id = ${row.entry_id}`;
    audit(db, row, "expired", now, { holdId: row.hold_id });
  }
  let offered = 0;
  for (const tier of listTiers(db)) {
    for (;;) {
      const first = db.first<EntryRow>`SELECT * FROM waitlist WHERE tier_id = ${tier.tierId} AND status = 'waiting' ORDER BY created_at, entry_id LIMIT 1`;
      if (!first) break;
      const current = getTier(db, tier.tierId)!;
      if (current.capacity - current.held - current.sold < first.quantity) break;
      const holdId = uuidv7(now);
      const placed = placeHold(
        db,
        gate,
        { scopedKey: `waitlist:${first.entry_id}`, requestHash: "", buyerId: first.buyer_id, items: [{ tierId: tier.tierId, quantity: first.quantity }], now, ttlMs: offerTtlMs },
        holdId,
        eventId,
      );
      if (!placed.ok) {
        if (placed.code === "EVENT_NOT_ON_SALE" || placed.code === "OUTSIDE_SALES_WINDOW") return offered;
        // This buyer cannot take the seats any more (e.g. bought elsewhere up to the limit): next.
        db.run`UPDATE waitlist SET status = 'expired', updated_at = ${now} WHERE entry_id = ${first.entry_id}`;
        audit(db, first, "expired", now, { reason: placed.code });
        continue;
      }
      db.run`UPDATE waitlist SET status = 'offered', hold_id = ${holdId}, updated_at = ${now} WHERE entry_id = ${first.entry_id}`;
      audit(db, first, "offered", now, { holdId, offerExpiresAt: now + offerTtlMs });
      offered++;
    }
  }
  return offered;
}
