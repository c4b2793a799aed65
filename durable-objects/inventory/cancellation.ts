import type { CancellationProgress, HoldLine } from "../../src/inventory/contract";
import { uuidv7 } from "../../src/lib/ids";
import { endHold, type HoldRow } from "./holds";
import type { OrderRow } from "./orders";
import { enqueueEffects, enqueuePayload } from "./outbox";
import { refundOrder } from "./refunds";
import { schedule, unschedule } from "./schedule";
import type { Db } from "./sql";
import { adjustHeld } from "./tiers";

/**
 * Cancelling an event with sales is a saga whose progress lives in the DO: it starts when
 * the CANCELLED gate arrives (which already closed sales), then each alarm step closes a
 * batch of orders in its own transaction: paid orders are refunded in full with their
 * tickets cancelled (codes revoked, provider refunds and holder notices through the
 * outbox), unpaid orders and holds are ended, waiting customers are let go. A step that
 * fails rolls back alone and is retried; a step never sees an order twice, because a
 * closed order is no longer open. Nothing is refunded twice.
 */
const SAGA = "cancellation";
export const SAGA_BATCH = 10;

type SagaRow = { state: "running" | "done"; reason: string; started_at: number; processed: number };

export function startCancellation(db: Db, reason: string, now: number): boolean {
  const started = db.run`INSERT INTO saga (name, state, reason, started_at, updated_at) VALUES (${SAGA}, 'running', ${reason}, ${now}, ${now})
                         ON CONFLICT (name) DO NOTHING`;
  if (started > 0) schedule(db, "saga", "saga", now);
  return started > 0;
}

const openPaid = (db: Db, limit: number) =>
  db.all<OrderRow>`SELECT * FROM orders WHERE status IN ('paid', 'partially_refunded') ORDER BY created_at, order_id LIMIT ${limit}`;

export function cancellationProgress(db: Db): CancellationProgress | null {
  const row = db.first<SagaRow>`SELECT state, reason, started_at, processed FROM saga WHERE name = ${SAGA}`;
  if (!row) return null;
  const remaining = db.first<{ n: number }>`SELECT count(*) AS n FROM orders WHERE status IN ('paid', 'partially_refunded')`!.n;
  return { state: row.state, reason: row.reason, startedAt: row.started_at, processed: row.processed, remaining };
}

/** One step of the saga; returns whether it is finished. Call inside a transaction. */
export function cancellationStep(db: Db, now: number, batch = SAGA_BATCH): boolean {
  const saga = db.first<SagaRow>`SELECT state, reason, started_at, processed FROM saga WHERE name = ${SAGA}`;
  if (!saga || saga.state === "done") {
    unschedule(db, "saga");
    return true;
  }
  let processed = 0;
  // Holds and unpaid orders first: they free nothing anyone can buy now, but must end.
  for (const hold of db.all<HoldRow>`SELECT * FROM holds WHERE status = 'active'`) endHold(db, hold, "released", now);
  for (const order of db.all<OrderRow>`SELECT * FROM orders WHERE status = 'pending'`) {
    for (const line of JSON.parse(order.items) as HoldLine[]) adjustHeld(db, order.buyer_id, line.tierId, -line.quantity);
    db.run`UPDATE orders SET status = 'cancelled', updated_at = ${now}, rev = rev + 1 WHERE order_id = ${order.order_id}`;
    unschedule(db, `order_expiry:${order.order_id}`);
    enqueueEffects(db, order.order_id, order.payment_intent_id ? ["order_record", "provider_cancel"] : ["order_record"], now);
    processed++;
  }
  for (const w of db.all<{ entry_id: string; tier_id: string; buyer_id: string; quantity: number }>`
      SELECT entry_id, tier_id, buyer_id, quantity FROM waitlist WHERE status IN ('waiting', 'offered')`) {
    db.run`UPDATE waitlist SET status = 'expired', updated_at = ${now} WHERE entry_id = ${w.entry_id}`;
    enqueuePayload(db, "audit", `${w.entry_id}:expired:${now}`, {
      action: "waitlist.expired",
      actorId: null,
      targetType: "waitlist_entry",
      targetId: w.entry_id,
      details: { tierId: w.tier_id, buyerId: w.buyer_id, quantity: w.quantity, reason: "event_cancelled" },
      at: now,
    }, now);
  }
  for (const order of openPaid(db, batch)) {
    const tickets = db.all<{ ticket_id: string }>`SELECT ticket_id FROM tickets WHERE order_id = ${order.order_id} AND status IN ('valid', 'checked_in')`;
    const result = refundOrder(
      db,
      {
        orderId: order.order_id,
        ticketIds: tickets.map((t) => t.ticket_id),
        amountMinor: order.total_minor - order.refunded_minor,
        reason: `Event cancelled: ${saga.reason}`,
        requestedBy: "system",
        now,
      },
      uuidv7(now),
      { cancel: true },
    );
    // A refusal here is a bug (the order was selected as refundable): fail the step loudly.
    if (!result.ok) throw new Error(`cancellation: order ${order.order_id} could not be refunded: ${result.code}`);
    processed++;
  }
  const done = openPaid(db, 1).length === 0;
  db.run`UPDATE saga SET processed = processed + ${processed}, state = ${done ? "done" : "running"}, updated_at = ${now} WHERE name = ${SAGA}`;
  if (done) unschedule(db, "saga");
  else schedule(db, "saga", "saga", now);
  return done;
}
