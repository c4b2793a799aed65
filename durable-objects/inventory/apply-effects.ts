import { SNAPSHOT_BATCH_ORDERS } from "../../src/db/repositories/orders";
import type { OrderDto } from "../../src/inventory/contract";
import { QUEUE_BATCH, type InventoryAuditEntry, type SaleEffects } from "../../src/inventory/effects";
import type { MintRequest } from "../../src/mint/messages";
import type { OrderConfirmedMessage } from "../../src/notifications/messages";
import { errorFields, log } from "../../src/observability/logger";
import { PaymentProviderError } from "../../src/payments/provider";
import { readOrder, readSaleView, ticketsOf, type SaleView } from "./orders";
import { settle, type EffectKind, type OutboxRow } from "./outbox";
import { markRefundFailed, markRefundSucceeded, readRefund, toRefundDto } from "./refunds";
import type { Db } from "./sql";

/**
 * Applies the outbox rows of the EventInventory (ADR 0008): reads the state each effect is
 * about as it is now and hands it to the destination. A failed effect leaves its row for
 * a retry; every destination is idempotent, so applying a row twice is harmless.
 */
export interface EffectScope {
  db: Db;
  storage: DurableObjectStorage;
  tenantId: string;
  eventId: string;
  effects: SaleEffects;
  /** The order with its ticket codes signed. */
  orderNow(orderId: string): Promise<OrderDto>;
}

export interface ApplyReport {
  applied: number;
  failed: number;
}

/** Orders per `recordOrders` call: one D1 batch each. */
export const ORDERS_PER_CALL = SNAPSHOT_BATCH_ORDERS;
/** Audit entries per `audit` call: one D1 batch each. */
const AUDITS_PER_CALL = 100;

/** A row with what its effect sends (an order, its mint requests, a message). */
type Item<T> = { row: OutboxRow; value: T };
type Failure = { row: OutboxRow; error: string };

/**
 * Applies one round of due rows. The sale's effects go in batches across orders, each
 * kind on its own: every order record of the round in D1 batches of `ORDERS_PER_CALL`
 * orders, the mint requests in sendBatch calls of up to 100 messages, the confirmations
 * likewise, the audit entries in one D1 batch. Each kind's rows are settled together in
 * one transaction: applied, or failed with backoff when their call threw. A failing call
 * fails only its own rows (narrowed down by `applyBatched`); the other calls and kinds
 * still apply. Refund rows (rare, each with its own provider call and follow-up) go one
 * at a time.
 */
export async function applyEffects(s: EffectScope, rows: OutboxRow[]): Promise<ApplyReport> {
  const report: ApplyReport = { applied: 0, failed: 0 };
  const byKind = new Map<EffectKind, OutboxRow[]>();
  for (const row of rows) {
    const list = byKind.get(row.kind);
    if (list) list.push(row);
    else byKind.set(row.kind, [row]);
  }
  const of = (kind: EffectKind) => byKind.get(kind) ?? [];

  // Reads first, all of them before anything is sent: the order records carry the signed
  // codes; the mint requests and confirmations reuse those reads or read without codes.
  const unreadable: Failure[] = [];
  const views = new Map<string, SaleView>();
  const records: Item<OrderDto>[] = [];
  for (const row of of("order_record")) {
    try {
      const order = await s.orderNow(row.ref);
      views.set(row.ref, order);
      records.push({ row, value: order });
    } catch (err) {
      unreadable.push({ row, error: errorText(err) });
    }
  }
  const viewOf = (row: OutboxRow): SaleView => {
    const view = views.get(row.ref) ?? readSaleView(s.db, row.ref);
    if (!view) throw new Error(`order ${row.ref} not found`);
    views.set(row.ref, view);
    return view;
  };
  const readAll = <T>(kind: EffectKind, read: (row: OutboxRow) => T): Item<T>[] =>
    of(kind).flatMap((row) => {
      try {
        return [{ row, value: read(row) }];
      } catch (err) {
        unreadable.push({ row, error: errorText(err) });
        return [];
      }
    });
  const mints = readAll("mint_requests", (row) => mintRequests(s, viewOf(row)));
  const notes = readAll("notification", (row) => confirmation(s, viewOf(row)));
  const audits: Item<InventoryAuditEntry>[] = [];
  for (const item of readAll("audit", (row) => JSON.parse(row.payload!) as Omit<InventoryAuditEntry, "id">)) {
    // Audit ids are UUIDs elsewhere; this one is derived from the outbox row so a retry writes it once.
    audits.push({ row: item.row, value: { ...item.value, id: await stableId(item.row.id) } });
  }
  if (unreadable.length > 0) {
    log("warn", "inventory: effects could not be read; will retry", { eventId: s.eventId, effects: unreadable.map((f) => f.row.id).slice(0, 10), error: unreadable[0]!.error });
    s.storage.transactionSync(() => settle(s.db, [], unreadable, Date.now()));
    report.failed += unreadable.length;
  }

  const outcomes = await Promise.all([
    applyBatched(s, "order_record", chunk(records, ORDERS_PER_CALL, () => 1), (items) => s.effects.recordOrders(s.tenantId, items.map((i) => i.value))),
    // An order's requests stay in one call; an order with more than a batch takes its own call.
    applyBatched(s, "mint_requests", chunk(mints, QUEUE_BATCH, (i) => i.value.length), (items) => s.effects.requestMints(items.flatMap((i) => i.value))),
    applyBatched(s, "notification", chunk(notes, QUEUE_BATCH, () => 1), (items) => s.effects.notifyAll(items.map((i) => i.value))),
    applyBatched(s, "audit", chunk(audits, AUDITS_PER_CALL, () => 1), (items) => s.effects.audit(s.tenantId, items.map((i) => i.value))),
  ]);
  for (const o of outcomes) {
    report.applied += o.applied;
    report.failed += o.failed;
  }

  for (const row of [...of("provider_refund"), ...of("refund_record"), ...of("provider_cancel")]) {
    try {
      if (row.kind === "provider_refund") await requestProviderRefund(s, refundIdOf(row));
      else if (row.kind === "provider_cancel") await cancelProviderIntent(s, row.ref);
      else await recordRefund(s, refundIdOf(row));
      s.storage.transactionSync(() => settle(s.db, [row], [], Date.now()));
      report.applied++;
    } catch (err) {
      log("warn", "inventory: effect failed; will retry", { eventId: s.eventId, effect: row.id, attempts: row.attempts + 1, ...errorFields(err) });
      s.storage.transactionSync(() => settle(s.db, [], [{ row, error: errorText(err) }], Date.now()));
      report.failed++;
    }
  }
  return report;
}

/**
 * Extra calls one kind may spend per run splitting failed batches. With it, one row that
 * can never apply (a bug in its data) is found by halving in about 2·log2(batch) calls
 * and does not hold back the rows batched with it; while a destination is down, a run
 * wastes at most this many calls on it.
 */
const SPLIT_BUDGET = 16;

/**
 * Sends each chunk of one kind with one call, then settles all the kind's rows in one
 * transaction. A failed call is tried again as two halves while the split budget lasts,
 * so the rows that fail end up alone (or in small batches) and the others apply; rows
 * still failing are logged and wait for a retry with backoff. Never throws.
 */
async function applyBatched<T>(s: EffectScope, kind: EffectKind, chunks: Item<T>[][], send: (items: Item<T>[]) => Promise<void>): Promise<ApplyReport> {
  const applied: OutboxRow[] = [];
  const failed: Failure[] = [];
  const work = [...chunks];
  let budget = SPLIT_BUDGET;
  while (work.length > 0) {
    const items = work.shift()!;
    try {
      await send(items);
      applied.push(...items.map((i) => i.row));
    } catch (err) {
      if (items.length > 1 && budget >= 2) {
        budget -= 2;
        const half = Math.ceil(items.length / 2);
        work.unshift(items.slice(0, half), items.slice(half));
        continue;
      }
      log("warn", "inventory: effects failed; will retry", {
        eventId: s.eventId,
        kind,
        effects: items.length,
        first: items[0]!.row.id,
        attempts: Math.min(...items.map((i) => i.row.attempts)) + 1,
        ...errorFields(err),
      });
      const error = errorText(err);
      failed.push(...items.map((i) => ({ row: i.row, error })));
    }
  }
  if (applied.length > 0 || failed.length > 0) s.storage.transactionSync(() => settle(s.db, applied, failed, Date.now()));
  return { applied: applied.length, failed: failed.length };
}

/** Consecutive chunks whose sizes add up to at most `max` (an item bigger than `max` alone). */
function chunk<T>(items: T[], max: number, size: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length > 0 && total + n > max) {
      chunks.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const errorText = (err: unknown) => String(errorFields(err).errorMessage ?? "error");

const mintRequests = (s: EffectScope, order: SaleView): MintRequest[] =>
  order.tickets.map((t) => ({
    v: 1,
    kind: "ticket.mint",
    tenantId: s.tenantId,
    eventId: s.eventId,
    orderId: order.orderId,
    ticketId: t.ticketId,
    tierId: t.tierId,
    ticketNumber: t.number,
    ownerId: order.buyerId,
    soldAt: order.paidAt ?? t.issuedAt,
  }));

const confirmation = (s: EffectScope, order: SaleView): OrderConfirmedMessage => ({
  kind: "order.confirmed",
  tenantId: s.tenantId,
  eventId: s.eventId,
  orderId: order.orderId,
  buyerId: order.buyerId,
  ticketNumbers: order.tickets.map((t) => t.number),
  totalMinor: order.totalMinor,
  currency: order.currency,
  paidAt: order.paidAt ?? order.createdAt,
});

/** Refund rows are keyed by the refund id, or carry it in the payload (status updates). */
function refundIdOf(row: OutboxRow): string {
  return row.payload && row.payload !== "null" ? (JSON.parse(row.payload) as { refundId: string }).refundId : row.ref;
}

async function requestProviderRefund(s: EffectScope, refundId: string): Promise<void> {
  const refund = readRefund(s.db, refundId);
  const order = refund && readOrder(s.db, refund.order_id);
  if (!refund || !order || refund.status !== "requested" || !order.payment_intent_id) return;
  let result: { refundId: string; status: string };
  try {
    result = await s.effects.refundPayment({
      intentId: order.payment_intent_id,
      amountMinor: refund.amount_minor,
      idempotencyKey: `refund-${refund.refund_id}`,
      metadata: { tenant_id: s.tenantId, event_id: s.eventId, order_id: order.order_id, refund_id: refund.refund_id },
    });
  } catch (err) {
    // A refusal retrying cannot change (e.g. the charge is disputed): the refund is marked
    // failed for an admin to settle by hand, instead of being retried forever.
    if (!(err instanceof PaymentProviderError) || err.retryable) throw err;
    log("error", "inventory: provider refused the refund", { eventId: s.eventId, refundId: refund.refund_id, ...errorFields(err) });
    s.storage.transactionSync(() => markRefundFailed(s.db, refund.refund_id, Date.now()));
    return;
  }
  if (result.status === "succeeded") {
    s.storage.transactionSync(() => markRefundSucceeded(s.db, refund.refund_id, result.refundId, Date.now()));
  } else {
    s.db.run`UPDATE refunds SET provider_refund_id = ${result.refundId} WHERE refund_id = ${refund.refund_id}`;
  }
}

/**
 * Cancels the payment intent of an order that ended unpaid (expired, or cancelled with its
 * event), keyed by the order so a retry is the same request. If the order was paid after
 * all (a late payment took its seats again), or the provider says the intent cannot be
 * cancelled because it was paid, there is nothing to do: the payment webhook handles that
 * money (late payment: seats retaken or `refund_due`). Other refusals that a retry cannot
 * change are logged and dropped; retryable failures are retried with backoff.
 */
async function cancelProviderIntent(s: EffectScope, orderId: string): Promise<void> {
  const order = readOrder(s.db, orderId);
  if (!order || !order.payment_intent_id || (order.status !== "expired" && order.status !== "cancelled")) return;
  try {
    await s.effects.cancelPayment({ intentId: order.payment_intent_id, idempotencyKey: `cancel-${orderId}` });
  } catch (err) {
    if (!(err instanceof PaymentProviderError) || err.retryable) throw err;
    log("warn", "inventory: provider would not cancel the payment intent; leaving it to the payment webhook", { eventId: s.eventId, orderId, ...errorFields(err) });
  }
}

async function recordRefund(s: EffectScope, refundId: string): Promise<void> {
  const refund = readRefund(s.db, refundId);
  const order = refund && readOrder(s.db, refund.order_id);
  if (!refund || !order) return;
  const dto = toRefundDto(refund);
  await s.effects.recordRefund(s.tenantId, {
    ...dto,
    eventId: s.eventId,
    providerRefundId: refund.provider_refund_id,
    requestedBy: refund.requested_by,
    updatedAt: refund.updated_at,
  });
  // The buyer hears about the refund once (the email is keyed by the refund id).
  const tickets = ticketsOf(s.db, order.order_id).filter((t) => dto.ticketIds.includes(t.ticket_id));
  await s.effects.notifyRefund({
    kind: "order.refunded",
    tenantId: s.tenantId,
    eventId: s.eventId,
    orderId: order.order_id,
    refundId: refund.refund_id,
    buyerId: order.buyer_id,
    amountMinor: refund.amount_minor,
    currency: order.currency,
    ticketNumbers: tickets.map((t) => t.number),
    reason: refund.reason.slice(0, 600),
    cancelled: tickets.some((t) => t.status === "cancelled"),
  });
}

/** A UUID-shaped id derived from a string (SHA-256), so the same outbox row always writes the same audit id. */
async function stableId(input: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input)));
  const h = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
