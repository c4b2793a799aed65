import type { InventoryResult, TransferRequest } from "../../src/inventory/contract";
import { uuidv7 } from "../../src/lib/ids";
import { enqueueEffects } from "./outbox";
import { problem } from "./problems";
import type { Db } from "./sql";

/**
 * Ticket transfers: the ticket moves to another holder and gets a new code version, so the
 * code the sender still has stops working at the door (TICKET_CODE_SUPERSEDED); the new
 * code is signed right after the commit. The history stays in `transfers`. A checked-in,
 * refunded or cancelled ticket cannot move.
 */
type Row = { ticket_id: string; order_id: string; holder_id: string; status: string; code_version: number; number: number };

export function transferTicket(db: Db, req: TransferRequest): InventoryResult<{ ticketId: string; orderId: string; codeVersion: number }> {
  const t = db.first<Row>`SELECT ticket_id, order_id, holder_id, status, code_version, number FROM tickets WHERE ticket_id = ${req.ticketId}`;
  if (!t || t.holder_id !== req.fromHolder) return problem("TICKET_NOT_FOUND", "No such ticket of yours", { ticketId: req.ticketId });
  if (t.status !== "valid") {
    return problem("TRANSFER_NOT_ALLOWED", `Ticket ${t.number} is ${t.status.replace("_", " ")} and cannot be transferred`, { ticketStatus: t.status });
  }
  if (req.toHolder === req.fromHolder) return problem("TRANSFER_NOT_ALLOWED", "The ticket is already yours");
  const cv = t.code_version + 1;
  db.run`UPDATE tickets SET holder_id = ${req.toHolder}, code_version = ${cv}, code = NULL, updated_at = ${req.now} WHERE ticket_id = ${t.ticket_id}`;
  db.run`INSERT INTO transfers (transfer_id, ticket_id, from_holder, to_holder, from_cv, at)
         VALUES (${uuidv7(req.now)}, ${t.ticket_id}, ${req.fromHolder}, ${req.toHolder}, ${t.code_version}, ${req.now})`;
  db.run`UPDATE orders SET rev = rev + 1, updated_at = ${req.now} WHERE order_id = ${t.order_id}`;
  enqueueEffects(db, t.order_id, ["order_record"], req.now);
  return { ok: true, value: { ticketId: t.ticket_id, orderId: t.order_id, codeVersion: cv } };
}

/**
 * Tickets transferred to an email address before its owner registered become theirs once
 * they claim them with a verified address. No new code: the code was already replaced
 * at transfer time and does not name the holder.
 */
export function claimTransfers(db: Db, email: string, userId: string, now: number): string[] {
  const pending = `email:${email}`;
  const rows = db.all<{ ticket_id: string; order_id: string }>`SELECT ticket_id, order_id FROM tickets WHERE holder_id = ${pending}`;
  for (const r of rows) {
    db.run`UPDATE tickets SET holder_id = ${userId}, updated_at = ${now} WHERE ticket_id = ${r.ticket_id}`;
    db.run`INSERT INTO transfers (transfer_id, ticket_id, from_holder, to_holder, from_cv, at)
           SELECT ${uuidv7(now)}, ticket_id, ${pending}, ${userId}, code_version, ${now} FROM tickets WHERE ticket_id = ${r.ticket_id}`;
    db.run`UPDATE orders SET rev = rev + 1, updated_at = ${now} WHERE order_id = ${r.order_id}`;
    enqueueEffects(db, r.order_id, ["order_record"], now);
  }
  return rows.map((r) => r.ticket_id);
}

export function transferHistory(db: Db, ticketId: string) {
  return db.all<{ from_holder: string; to_holder: string; from_cv: number; at: number }>`
    SELECT from_holder, to_holder, from_cv, at FROM transfers WHERE ticket_id = ${ticketId} ORDER BY at, transfer_id`;
}
