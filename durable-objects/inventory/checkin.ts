import type { CheckInDto, CheckInRequest, InventoryResult, Revocations, TierCheckIns } from "../../src/inventory/contract";
import { enqueueEffects } from "./outbox";
import { problem } from "./problems";
import type { Db } from "./sql";

/**
 * Door check-in. The event's DO decides, in one synchronous transaction, so a ticket is
 * admitted exactly once however many doors scan it at the same moment: the first scan
 * flips the ticket to checked_in, every later one reads that and answers when and where
 * it was first admitted. The route has already verified the code's signature and that it
 * names this tenant and event.
 */
type Row = {
  ticket_id: string;
  order_id: string;
  tier_id: string;
  number: number;
  status: string;
  code_version: number;
  checked_in_at: number | null;
  checked_in_gate: string | null;
};

export function checkIn(db: Db, req: CheckInRequest): InventoryResult<CheckInDto> {
  const t = db.first<Row>`
    SELECT ticket_id, order_id, tier_id, number, status, code_version, checked_in_at, checked_in_gate
    FROM tickets WHERE ticket_id = ${req.ticketId}`;
  if (!t) return problem("TICKET_NOT_FOUND", "No such ticket at this event", { ticketId: req.ticketId });
  // A refunded or cancelled ticket is refused whatever code is shown.
  if (t.status === "refunded") return problem("TICKET_REFUNDED", `Ticket ${t.number} was refunded`, { ticketId: t.ticket_id, number: t.number });
  if (t.status === "cancelled") return problem("TICKET_CANCELLED", `Ticket ${t.number} was cancelled`, { ticketId: t.ticket_id, number: t.number });
  if (req.codeVersion !== t.code_version) {
    return problem("TICKET_CODE_SUPERSEDED", `This code of ticket ${t.number} was replaced by a newer one (transferred or reissued)`, {
      ticketId: t.ticket_id,
      number: t.number,
    });
  }
  if (t.status === "checked_in") {
    return problem("TICKET_ALREADY_CHECKED_IN", `Ticket ${t.number} was already admitted`, {
      ticketId: t.ticket_id,
      number: t.number,
      firstCheckedInAt: new Date(t.checked_in_at!).toISOString(),
      firstGate: t.checked_in_gate,
    });
  }
  db.run`UPDATE tickets SET status = 'checked_in', checked_in_at = ${req.now}, checked_in_gate = ${req.gate}, checked_in_by = ${req.scannerId},
           updated_at = ${req.now}
         WHERE ticket_id = ${t.ticket_id} AND status = 'valid'`;
  db.run`UPDATE tiers SET checked_in = checked_in + 1 WHERE tier_id = ${t.tier_id}`;
  db.run`UPDATE orders SET rev = rev + 1, updated_at = ${req.now} WHERE order_id = ${t.order_id}`;
  enqueueEffects(db, t.order_id, ["order_record"], req.now);
  return { ok: true, value: { ticketId: t.ticket_id, tierId: t.tier_id, number: t.number, checkedInAt: req.now, gate: req.gate } };
}

export function checkInCounts(db: Db): TierCheckIns[] {
  return db.all<{ tier_id: string; sold: number; checked_in: number }>`SELECT tier_id, sold, checked_in FROM tiers ORDER BY rowid`.map((r) => ({
    tierId: r.tier_id,
    sold: r.sold,
    checkedIn: r.checked_in,
  }));
}

/** What an offline scanner must sync to refuse codes its signature check alone would accept. */
export function revocations(db: Db): Revocations {
  return {
    revoked: db
      .all<{ ticket_id: string; number: number; status: "refunded" | "cancelled" }>`SELECT ticket_id, number, status FROM tickets WHERE status IN ('refunded', 'cancelled') ORDER BY number`
      .map((r) => ({ ticketId: r.ticket_id, number: r.number, status: r.status })),
    superseded: db
      .all<{ ticket_id: string; number: number; code_version: number }>`SELECT ticket_id, number, code_version FROM tickets WHERE code_version > 1 AND status IN ('valid', 'checked_in') ORDER BY number`
      .map((r) => ({ ticketId: r.ticket_id, number: r.number, minCodeVersion: r.code_version })),
    checkedIn: db
      .all<{ ticket_id: string; number: number; checked_in_at: number; checked_in_gate: string | null }>`SELECT ticket_id, number, checked_in_at, checked_in_gate FROM tickets WHERE status = 'checked_in' ORDER BY number`
      .map((r) => ({ ticketId: r.ticket_id, number: r.number, checkedInAt: r.checked_in_at, gate: r.checked_in_gate })),
  };
}
