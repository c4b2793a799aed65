import type { InventoryResult, RefundDto, RefundRequest } from "../../src/inventory/contract";
import { readOrder, type OrderRow } from "./orders";
import { enqueueEffects, enqueuePayload } from "./outbox";
import { problem } from "./problems";
import type { Db } from "./sql";

/**
 * Refunds of paid orders, whole or in part. Refunding tickets gives their seats back to
 * their tiers (and to the buyer's per-tier allowance) and revokes their codes (status
 * refunded, or cancelled when the event is cancelled); an amount without tickets is a
 * goodwill refund that changes no seat. The money goes back through the provider by an
 * outbox effect keyed by the refund id, which is also the provider's idempotency key, so
 * a retried effect never refunds twice. All in the caller's transaction.
 */
export type RefundRow = {
  refund_id: string;
  order_id: string;
  amount_minor: number;
  ticket_ids: string;
  reason: string;
  status: RefundDto["status"];
  provider_refund_id: string | null;
  requested_by: string;
  created_at: number;
  updated_at: number;
};

type TicketRow = { ticket_id: string; tier_id: string; status: string; price_minor: number; number: number };

export const toRefundDto = (r: RefundRow): RefundDto => ({
  refundId: r.refund_id,
  orderId: r.order_id,
  amountMinor: r.amount_minor,
  ticketIds: JSON.parse(r.ticket_ids) as string[],
  reason: r.reason,
  status: r.status,
  createdAt: r.created_at,
});

export function readRefund(db: Db, refundId: string): RefundRow | null {
  return db.first<RefundRow>`SELECT * FROM refunds WHERE refund_id = ${refundId}`;
}

export function refundsOf(db: Db, orderId: string): RefundRow[] {
  return db.all<RefundRow>`SELECT * FROM refunds WHERE order_id = ${orderId} ORDER BY created_at, refund_id`;
}

const REFUNDABLE = new Set(["paid", "partially_refunded"]);

export function refundOrder(
  db: Db,
  req: Omit<RefundRequest, "scopedKey" | "requestHash">,
  refundId: string,
  opts: { cancel: boolean },
): InventoryResult<RefundDto> {
  const order = readOrder(db, req.orderId);
  if (!order) return problem("ORDER_NOT_FOUND", `No order ${req.orderId}`, { orderId: req.orderId });
  if (!REFUNDABLE.has(order.status)) {
    return problem("REFUND_NOT_ALLOWED", `Order ${order.order_id} is ${order.status}: only paid orders are refunded`, { orderStatus: order.status });
  }
  const all = db.all<TicketRow>`SELECT ticket_id, tier_id, status, price_minor, number FROM tickets WHERE order_id = ${order.order_id}`;
  const byId = new Map(all.map((t) => [t.ticket_id, t]));
  const chosen: TicketRow[] = [];
  for (const id of new Set(req.ticketIds)) {
    const t = byId.get(id);
    if (!t) return problem("TICKET_NOT_FOUND", `Ticket ${id} is not part of order ${order.order_id}`, { ticketId: id });
    const movable = t.status === "valid" || (opts.cancel && t.status === "checked_in");
    if (!movable) {
      return problem("REFUND_NOT_ALLOWED", `Ticket ${t.number} is ${t.status.replace("_", " ")} and cannot be refunded`, { ticketId: id, ticketStatus: t.status });
    }
    chosen.push(t);
  }
  const left = order.total_minor - order.refunded_minor;
  const amount = req.amountMinor ?? chosen.reduce((sum, t) => sum + t.price_minor, 0);
  if (chosen.length === 0 && (req.amountMinor === null || req.amountMinor <= 0)) {
    return problem("REFUND_AMOUNT_INVALID", "Name the tickets to refund, or an amount for a refund without tickets");
  }
  if (!Number.isSafeInteger(amount) || amount < 0 || amount > left) {
    return problem("REFUND_AMOUNT_INVALID", `The refund must be between 0 and ${left} (what is left of the order's ${order.total_minor})`, {
      requested: amount,
      refundable: left,
    });
  }

  const revoked = opts.cancel ? "cancelled" : "refunded";
  for (const t of chosen) {
    db.run`UPDATE tickets SET status = ${revoked}, updated_at = ${req.now} WHERE ticket_id = ${t.ticket_id}`;
    db.run`UPDATE tiers SET sold = sold - 1, checked_in = checked_in - ${t.status === "checked_in" ? 1 : 0} WHERE tier_id = ${t.tier_id}`;
    db.run`UPDATE buyer_counts SET sold = sold - 1 WHERE buyer_id = ${order.buyer_id} AND tier_id = ${t.tier_id}`;
  }
  const refunded = order.refunded_minor + amount;
  const active = db.first<{ n: number }>`SELECT count(*) AS n FROM tickets WHERE order_id = ${order.order_id} AND status IN ('valid', 'checked_in')`!.n;
  const status = active === 0 && refunded === order.total_minor ? (opts.cancel ? "cancelled" : "refunded") : "partially_refunded";
  db.run`UPDATE orders SET refunded_minor = ${refunded}, status = ${status}, updated_at = ${req.now}, rev = rev + 1 WHERE order_id = ${order.order_id}`;

  const needsProvider = amount > 0 && order.payment_provider !== "none";
  db.run`
    INSERT INTO refunds (refund_id, order_id, amount_minor, ticket_ids, reason, status, requested_by, created_at, updated_at)
    VALUES (${refundId}, ${order.order_id}, ${amount}, ${JSON.stringify(chosen.map((t) => t.ticket_id))}, ${req.reason},
            ${needsProvider ? "requested" : "not_needed"}, ${req.requestedBy}, ${req.now}, ${req.now})`;
  enqueueEffects(db, order.order_id, ["order_record"], req.now);
  enqueuePayload(db, "refund_record", refundId, null, req.now);
  if (needsProvider) enqueuePayload(db, "provider_refund", refundId, null, req.now);
  return { ok: true, value: toRefundDto(readRefund(db, refundId)!) };
}

/** The provider took the refund (its answer to our request, or its webhook). */
export function markRefundSucceeded(db: Db, refundId: string, providerRefundId: string | null, now: number): boolean {
  const changed = db.run`UPDATE refunds SET status = 'succeeded', provider_refund_id = coalesce(${providerRefundId}, provider_refund_id), updated_at = ${now}
                         WHERE refund_id = ${refundId} AND status = 'requested'`;
  if (changed > 0) enqueuePayload(db, "refund_record", `${refundId}:succeeded`, { refundId }, now);
  return changed > 0;
}

/** The provider refused the refund for good: recorded as failed (visible to admins and in D1). */
export function markRefundFailed(db: Db, refundId: string, now: number): void {
  const changed = db.run`UPDATE refunds SET status = 'failed', updated_at = ${now} WHERE refund_id = ${refundId} AND status = 'requested'`;
  if (changed > 0) enqueuePayload(db, "refund_record", `${refundId}:failed`, { refundId }, now);
}

/**
 * A provider notice that `amountRefunded` of the order's payment has been refunded in all:
 * requested refunds are marked succeeded, oldest first, as far as that amount covers them.
 */
export function applyRefundNotice(db: Db, order: OrderRow, amountRefunded: number, now: number): number {
  let covered = db.first<{ s: number | null }>`SELECT sum(amount_minor) AS s FROM refunds WHERE order_id = ${order.order_id} AND status = 'succeeded'`?.s ?? 0;
  let marked = 0;
  for (const r of db.all<RefundRow>`SELECT * FROM refunds WHERE order_id = ${order.order_id} AND status = 'requested' ORDER BY created_at, refund_id`) {
    if (covered + r.amount_minor > amountRefunded) break;
    covered += r.amount_minor;
    if (markRefundSucceeded(db, r.refund_id, null, now)) marked++;
  }
  return marked;
}
