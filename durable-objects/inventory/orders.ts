import type {
  CheckoutRequest,
  GateState,
  HoldLine,
  InventoryResult,
  OrderDto,
  OrderPayment,
  OrderStatus,
  PaymentNotice,
  PaymentOutcome,
  TicketDto,
} from "../../src/inventory/contract";
import { assess } from "../../src/fraud/assess";
import { uuidv7 } from "../../src/lib/ids";
import { endHold, expiryId as holdExpiryId, readHold } from "./holds";
import { enqueueEffects } from "./outbox";
import { problem } from "./problems";
import { schedule, unschedule } from "./schedule";
import type { Db } from "./sql";
import { addSold, adjustHeld, getTier, moveHeldToSold } from "./tiers";

/**
 * Orders and tickets. Checkout turns an active hold into an order without touching the
 * counters: the seats stay `held` while the order waits for its payment, move to `sold`
 * when it is paid, and go back on sale if the payment deadline passes. Tickets are issued
 * at payment, numbered from a per-event sequence. Everything here runs inside the
 * caller's synchronous transaction, together with the outbox rows that carry the effects
 * to D1 and the queues.
 */
export type OrderRow = {
  order_id: string;
  hold_id: string;
  buyer_id: string;
  status: OrderStatus;
  items: string;
  total_minor: number;
  currency: string;
  payment_provider: "none" | "stripe" | "local";
  payment_intent_id: string | null;
  client_secret: string | null;
  refund_due: number;
  created_at: number;
  expires_at: number | null;
  paid_at: number | null;
  updated_at: number;
  rev: number;
  flags: string;
  refunded_minor: number;
};

export type TicketRow = {
  ticket_id: string;
  order_id: string;
  tier_id: string;
  number: number;
  holder_id: string;
  status: TicketDto["status"];
  code: string | null;
  code_version: number;
  price_minor: number;
  issued_at: number;
  checked_in_at: number | null;
  checked_in_gate: string | null;
};

const orderExpiryId = (orderId: string) => `order_expiry:${orderId}`;
/** Event statuses in which a held seat may still be bought. */
const CHECKOUT_STATUSES = new Set(["ON_SALE", "SOLD_OUT"]);

export function readOrder(db: Db, orderId: string): OrderRow | null {
  return db.first<OrderRow>`SELECT * FROM orders WHERE order_id = ${orderId}`;
}

export function ticketsOf(db: Db, orderId: string): TicketRow[] {
  return db.all<TicketRow>`SELECT * FROM tickets WHERE order_id = ${orderId} ORDER BY number`;
}

/**
 * What an order's mint requests and confirmation need: no codes, so nothing is signed
 * and only a few columns are read. An `OrderDto` is one too (the outbox reuses an order
 * it read with its codes in the same round).
 */
export type SaleView = Pick<OrderDto, "orderId" | "buyerId" | "totalMinor" | "currency" | "createdAt" | "paidAt"> & {
  tickets: Pick<TicketDto, "ticketId" | "tierId" | "number" | "issuedAt">[];
};

export function readSaleView(db: Db, orderId: string): SaleView | null {
  const o = db.first<{ buyer_id: string; total_minor: number; currency: string; created_at: number; paid_at: number | null }>`
    SELECT buyer_id, total_minor, currency, created_at, paid_at FROM orders WHERE order_id = ${orderId}`;
  if (!o) return null;
  const tickets = db.all<{ ticket_id: string; tier_id: string; number: number; issued_at: number }>`
    SELECT ticket_id, tier_id, number, issued_at FROM tickets WHERE order_id = ${orderId} ORDER BY number`;
  return {
    orderId,
    buyerId: o.buyer_id,
    totalMinor: o.total_minor,
    currency: o.currency,
    createdAt: o.created_at,
    paidAt: o.paid_at,
    tickets: tickets.map((t) => ({ ticketId: t.ticket_id, tierId: t.tier_id, number: t.number, issuedAt: t.issued_at })),
  };
}

export function toOrderDto(db: Db, row: OrderRow, eventId: string): OrderDto {
  const payment: OrderPayment | null =
    row.payment_provider !== "none" && row.payment_intent_id && row.client_secret
      ? { provider: row.payment_provider, intentId: row.payment_intent_id, clientSecret: row.client_secret }
      : null;
  return {
    orderId: row.order_id,
    eventId,
    holdId: row.hold_id,
    buyerId: row.buyer_id,
    status: row.status,
    items: JSON.parse(row.items) as HoldLine[],
    currency: row.currency,
    totalMinor: row.total_minor,
    createdAt: row.created_at,
    expiresAt: row.status === "pending" ? row.expires_at : null,
    paidAt: row.paid_at,
    payment,
    tickets: ticketsOf(db, row.order_id).map((t) => ({
      ticketId: t.ticket_id,
      tierId: t.tier_id,
      number: t.number,
      status: t.status,
      code: t.code,
      codeVersion: t.code_version,
      priceMinor: t.price_minor,
      issuedAt: t.issued_at,
      holderId: t.holder_id,
      checkedInAt: t.checked_in_at,
      checkedInGate: t.checked_in_gate,
    })),
    rev: row.rev,
    refundedMinor: row.refunded_minor,
    flags: JSON.parse(row.flags) as string[],
  };
}

/** The buyer's own order; anyone else's answers exactly like a missing one. */
export function findOrder(db: Db, orderId: string, buyerId: string | null): OrderRow | null {
  const row = readOrder(db, orderId);
  return row && (buyerId === null || row.buyer_id === buyerId) ? row : null;
}

/** The next ticket number of the event (1, 2, 3, ...), from a counter in `meta`. */
function nextTicketNumber(db: Db): number {
  const row = db.first<{ value: number }>`
    INSERT INTO meta (key, value) VALUES ('ticket_seq', 1)
    ON CONFLICT (key) DO UPDATE SET value = value + 1
    RETURNING value`;
  return row!.value;
}

/**
 * One ticket per seat. A line's total is split over its tickets in whole minor units,
 * the remainder going one unit each to the first tickets, so the tickets add up to
 * exactly what was charged (refunds of single tickets rely on that).
 */
function issueTickets(db: Db, order: OrderRow, now: number): void {
  for (const line of JSON.parse(order.items) as HoldLine[]) {
    const base = Math.floor(line.quote.totalMinor / line.quantity);
    const remainder = line.quote.totalMinor - base * line.quantity;
    for (let i = 0; i < line.quantity; i++) {
      const price = base + (i < remainder ? 1 : 0);
      db.run`
        INSERT INTO tickets (ticket_id, order_id, tier_id, number, holder_id, status, code_version, price_minor, issued_at, updated_at)
        VALUES (${uuidv7(now)}, ${order.order_id}, ${line.tierId}, ${nextTicketNumber(db)}, ${order.buyer_id}, 'valid', 1,
                ${price}, ${now}, ${now})`;
    }
  }
}

/** Marks the order paid, issues its tickets and commits the effects (D1 record, mints, email). */
function completeOrder(db: Db, order: OrderRow, now: number, retaken: boolean): void {
  for (const line of JSON.parse(order.items) as HoldLine[]) {
    if (retaken) addSold(db, order.buyer_id, line.tierId, line.quantity);
    else moveHeldToSold(db, order.buyer_id, line.tierId, line.quantity);
  }
  db.run`UPDATE orders SET status = 'paid', paid_at = ${now}, expires_at = NULL, refund_due = 0, updated_at = ${now}, rev = rev + 1
         WHERE order_id = ${order.order_id}`;
  unschedule(db, orderExpiryId(order.order_id));
  issueTickets(db, order, now);
  enqueueEffects(db, order.order_id, ["order_record", "mint_requests", "notification"], now);
}

/**
 * Checkout: the buyer's active hold becomes an order. Free orders are paid at once;
 * others wait `paymentTtlMs` for the provider's confirmation. The hold's locked quote is
 * what the order charges.
 */
export function checkoutHold(db: Db, gate: GateState | null, req: CheckoutRequest, orderId: string): InventoryResult<OrderRow> {
  let hold = readHold(db, req.holdId);
  if (!hold || hold.buyer_id !== req.buyerId) return problem("HOLD_NOT_FOUND", `No hold ${req.holdId}`, { holdId: req.holdId });
  if (hold.status === "active" && hold.expires_at <= req.now) hold = endHold(db, hold, "expired", req.now);
  switch (hold.status) {
    case "expired":
      return problem("HOLD_EXPIRED", `Hold ${hold.hold_id} expired`, { holdId: hold.hold_id, expiredAt: hold.expires_at });
    case "released":
      return problem("HOLD_RELEASED", `Hold ${hold.hold_id} was released`, { holdId: hold.hold_id });
    case "converted": {
      const existing = db.first<{ order_id: string }>`SELECT order_id FROM orders WHERE hold_id = ${hold.hold_id}`;
      return problem("HOLD_CONVERTED", `Hold ${hold.hold_id} was already checked out`, { holdId: hold.hold_id, orderId: existing?.order_id ?? null });
    }
    case "active":
      break;
  }
  if (!gate || !CHECKOUT_STATUSES.has(gate.status)) {
    return problem("EVENT_NOT_ON_SALE", `The event is not on sale (status ${gate?.status ?? "unknown"})`, { eventStatus: gate?.status ?? null });
  }

  const free = hold.total_minor === 0;
  // The quantity-based risk flags need the hold, which only the DO has; the rest came with the request.
  const quantity = (JSON.parse(hold.items) as HoldLine[]).reduce((n, l) => n + l.quantity, 0);
  const flags = [...new Set([...(req.flags ?? []), ...assess({ now: req.now, accountCreatedAt: req.accountCreatedAt, holdQuantity: quantity })])];
  db.run`UPDATE holds SET status = 'converted', updated_at = ${req.now} WHERE hold_id = ${hold.hold_id}`;
  unschedule(db, holdExpiryId(hold.hold_id));
  const expiresAt = free ? null : req.now + req.paymentTtlMs;
  db.run`
    INSERT INTO orders (order_id, hold_id, buyer_id, status, items, total_minor, currency, payment_provider,
                        created_at, expires_at, updated_at, rev, flags)
    VALUES (${orderId}, ${hold.hold_id}, ${hold.buyer_id}, 'pending', ${hold.items}, ${hold.total_minor}, ${hold.currency},
            ${free ? "none" : req.provider}, ${req.now}, ${expiresAt}, ${req.now}, 1, ${JSON.stringify(flags)})`;
  const order = readOrder(db, orderId)!;
  if (free) {
    completeOrder(db, order, req.now, false);
  } else {
    schedule(db, orderExpiryId(orderId), "order_expiry", expiresAt!, orderId);
    enqueueEffects(db, orderId, ["order_record"], req.now);
  }
  return { ok: true, value: readOrder(db, orderId)! };
}

/** Records the provider's payment intent on a pending order (the first one attached stays). */
export function attachPayment(db: Db, orderId: string, payment: OrderPayment, now: number): InventoryResult<OrderRow> {
  const order = readOrder(db, orderId);
  if (!order) return problem("ORDER_NOT_FOUND", `No order ${orderId}`, { orderId });
  if (order.status === "expired") {
    return problem("ORDER_EXPIRED", `Order ${orderId} passed its payment deadline`, { orderId, expiredAt: order.expires_at });
  }
  if (order.payment_intent_id === null && order.status === "pending") {
    db.run`UPDATE orders SET payment_intent_id = ${payment.intentId}, client_secret = ${payment.clientSecret},
             payment_provider = ${payment.provider}, updated_at = ${now}, rev = rev + 1
           WHERE order_id = ${orderId}`;
    enqueueEffects(db, orderId, ["order_record"], now);
  }
  return { ok: true, value: readOrder(db, orderId)! };
}

/** Ends every pending order whose payment deadline passed: its seats go back on sale. */
export function expireDueOrders(db: Db, now: number): number {
  const due = db.all<OrderRow>`SELECT * FROM orders WHERE status = 'pending' AND expires_at <= ${now}`;
  for (const order of due) {
    for (const line of JSON.parse(order.items) as HoldLine[]) adjustHeld(db, order.buyer_id, line.tierId, -line.quantity);
    db.run`UPDATE orders SET status = 'expired', updated_at = ${now}, rev = rev + 1 WHERE order_id = ${order.order_id}`;
    unschedule(db, orderExpiryId(order.order_id));
    // Its payment intent is cancelled at the provider, so the buyer cannot pay for seats
    // that went back on sale (a payment that lands first is handled as a late payment).
    enqueueEffects(db, order.order_id, order.payment_intent_id ? ["order_record", "provider_cancel"] : ["order_record"], now);
  }
  return due.length;
}

/** Can every line of the order be sold again from what is free now? */
function seatsFree(db: Db, order: OrderRow): boolean {
  return (JSON.parse(order.items) as HoldLine[]).every((line) => {
    const tier = getTier(db, line.tierId);
    return tier !== null && tier.capacity - tier.held - tier.sold >= line.quantity;
  });
}

/**
 * Applies a verified payment notice once (by the provider's event id). A success pays a
 * pending order; a success for an order whose deadline passed takes its seats again if
 * they are still free, and otherwise marks the order for a refund (money was taken for
 * seats that were sold on). Mismatching intent, amount or currency never issues tickets.
 */
export function applyPayment(db: Db, notice: PaymentNotice): { outcome: PaymentOutcome; orderId: string | null } {
  return { outcome: oncePerProviderEvent(db, notice, () => decide(db, notice)), orderId: notice.orderId };
}

/**
 * Runs `act` for a provider event id seen for the first time and records its outcome in the
 * same transaction; a redelivery of the id answers `duplicate` and changes nothing.
 */
export function oncePerProviderEvent<T extends string>(
  db: Db,
  e: { providerEventId: string; orderId: string; kind: string; now: number },
  act: () => T,
): T | "duplicate" {
  const seen = db.first<{ outcome: string }>`SELECT outcome FROM payment_events WHERE provider_event_id = ${e.providerEventId}`;
  if (seen) return "duplicate";
  const outcome = act();
  db.run`INSERT INTO payment_events (provider_event_id, order_id, kind, outcome, received_at)
         VALUES (${e.providerEventId}, ${e.orderId}, ${e.kind}, ${outcome}, ${e.now})`;
  return outcome;
}

function decide(db: Db, notice: PaymentNotice): PaymentOutcome {
  const order = readOrder(db, notice.orderId);
  if (!order) return "unknown_order";
  if (order.payment_intent_id !== null && order.payment_intent_id !== notice.intentId) return "intent_mismatch";
  if (notice.kind === "failed") return "payment_failed";
  if (order.payment_intent_id === null) {
    // Paid through an intent whose hand-over to the order never finished (the checkout
    // request died after creating it): the provider's metadata names this order.
    db.run`UPDATE orders SET payment_intent_id = ${notice.intentId} WHERE order_id = ${order.order_id}`;
  }
  if (order.total_minor !== notice.amountMinor || order.currency !== notice.currency.toUpperCase()) return "amount_mismatch";
  switch (order.status) {
    case "paid":
      return "already_paid";
    case "pending":
      completeOrder(db, order, notice.now, false);
      return "paid";
    case "expired":
    case "cancelled":
      if (order.status === "expired" && seatsFree(db, order)) {
        completeOrder(db, order, notice.now, true);
        return "paid_after_expiry";
      }
      db.run`UPDATE orders SET refund_due = 1, updated_at = ${notice.now}, rev = rev + 1 WHERE order_id = ${order.order_id}`;
      return "late_payment_refund_due";
  }
}
