import type { OrderDto } from "../../src/inventory/contract";
import type { InventoryAuditEntry, SaleEffects } from "../../src/inventory/effects";
import type { MintRequest } from "../../src/mint/messages";
import { errorFields, log } from "../../src/observability/logger";
import { PaymentProviderError } from "../../src/payments/provider";
import { readOrder, ticketsOf } from "./orders";
import type { OutboxRow } from "./outbox";
import { markRefundFailed, markRefundSucceeded, readRefund, toRefundDto } from "./refunds";
import type { Db } from "./sql";

/**
 * Applies one outbox row of the EventInventory (ADR 0008): reads the state the effect is
 * about as it is now and hands it to the destination. Throwing leaves the row for a retry;
 * every destination is idempotent, so applying a row twice is harmless.
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

export async function applyEffect(s: EffectScope, row: OutboxRow): Promise<void> {
  switch (row.kind) {
    case "audit": {
      const e = JSON.parse(row.payload!) as Omit<InventoryAuditEntry, "id">;
      // Audit ids are UUIDs elsewhere; this one is derived from the outbox row so a retry writes it once.
      return s.effects.audit(s.tenantId, { ...e, id: await stableId(row.id) });
    }
    case "provider_refund":
      return requestProviderRefund(s, refundIdOf(row));
    case "refund_record":
      return recordRefund(s, refundIdOf(row));
    case "order_record":
      return s.effects.recordOrder(s.tenantId, await s.orderNow(row.ref));
    case "mint_requests":
      return s.effects.requestMints(mintRequests(s, await s.orderNow(row.ref)));
    case "notification": {
      const order = await s.orderNow(row.ref);
      return s.effects.notify({
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
    }
  }
}

const mintRequests = (s: EffectScope, order: OrderDto): MintRequest[] =>
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
