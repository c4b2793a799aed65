import { z } from "@hono/zod-openapi";
import type { OrderWithTickets } from "../db/repositories/orders";
import { ORDER_STATUSES, TICKET_STATUSES, type TicketRow } from "../db/schema";
import type { HoldLine, OrderDto, TicketDto } from "../inventory/contract";
import { UUID_PATTERN } from "../lib/ids";
import { formatTicketNumber } from "../tickets/number";
import { iso, PageQuery } from "./common";
import { PriceQuoteSchema, toQuoteDto } from "./tiers";

export const CheckoutBody = z
  .strictObject({ holdId: z.string().regex(UUID_PATTERN, "must be a lowercase UUID") })
  .openapi("Checkout");

const Line = z.object({ tierId: z.string(), quantity: z.number().int(), quote: PriceQuoteSchema });

export const Ticket = z
  .object({
    id: z.string(),
    eventId: z.string(),
    orderId: z.string(),
    tierId: z.string(),
    number: z.number().int().openapi({ description: "Unique within the event" }),
    displayNumber: z.string().openapi({ description: "The number as printed, with a check digit", example: "000123-7" }),
    status: z.enum(TICKET_STATUSES),
    code: z.string().nullable().openapi({
      description: "Signed ticket code for the QR (docs/adr/0007-ticket-codes.md); verifiable offline with /v1/public/ticket-keys",
    }),
    codeVersion: z.number().int(),
    priceMinor: z.number().int(),
    issuedAt: z.string(),
    checkedInAt: z.string().nullable(),
    checkedInGate: z.string().nullable(),
  })
  .openapi("Ticket");

export const Order = z
  .object({
    id: z.string(),
    eventId: z.string(),
    holdId: z.string(),
    status: z.enum(ORDER_STATUSES),
    items: z.array(Line),
    currency: z.string(),
    totalMinor: z.number().int(),
    refundedMinor: z.number().int(),
    createdAt: z.string(),
    expiresAt: z.string().nullable().openapi({ description: "Payment deadline of a pending order" }),
    paidAt: z.string().nullable(),
    payment: z
      .object({
        provider: z.enum(["stripe", "local"]),
        intentId: z.string(),
        clientSecret: z.string().optional().openapi({ description: "Only in the buyer's own answers from the event's inventory" }),
      })
      .nullable(),
    tickets: z.array(Ticket),
    refunds: z
      .array(z.object({ id: z.string(), amountMinor: z.number().int(), ticketIds: z.array(z.string()), reason: z.string(), status: z.string(), createdAt: z.string() }))
      .optional()
      .openapi({ description: "The order's refunds (in GET /v1/me/orders/{orderId})" }),
  })
  .openapi("Order");
export type OrderOut = z.infer<typeof Order>;

const lines = (items: HoldLine[]) => items.map((l) => ({ tierId: l.tierId, quantity: l.quantity, quote: toQuoteDto(l.quote) }));

function ticketOut(t: TicketDto, eventId: string, orderId: string): z.infer<typeof Ticket> {
  return {
    id: t.ticketId,
    eventId,
    orderId,
    tierId: t.tierId,
    number: t.number,
    displayNumber: formatTicketNumber(t.number),
    status: t.status,
    code: t.code,
    codeVersion: t.codeVersion,
    priceMinor: t.priceMinor,
    issuedAt: iso(t.issuedAt)!,
    checkedInAt: iso(t.checkedInAt),
    checkedInGate: t.checkedInGate,
  };
}

/** An order as the event's DO has it (the buyer's view: includes the payment's client secret). */
export function toOrderOut(o: OrderDto): OrderOut {
  return {
    id: o.orderId,
    eventId: o.eventId,
    holdId: o.holdId,
    status: o.status,
    items: lines(o.items),
    currency: o.currency,
    totalMinor: o.totalMinor,
    refundedMinor: o.refundedMinor,
    createdAt: iso(o.createdAt)!,
    expiresAt: iso(o.expiresAt),
    paidAt: iso(o.paidAt),
    payment: o.payment ? { ...o.payment } : null,
    tickets: o.tickets.map((t) => ticketOut(t, o.eventId, o.orderId)),
  };
}

export function ticketRowOut(t: TicketRow): z.infer<typeof Ticket> {
  return ticketOut(
    {
      ticketId: t.id,
      tierId: t.tierId,
      number: t.number,
      status: t.status,
      code: t.code,
      codeVersion: t.codeVersion,
      priceMinor: t.priceMinor,
      issuedAt: t.issuedAt,
      holderId: t.holderId,
      checkedInAt: t.checkedInAt,
      checkedInGate: t.checkedInGate,
    },
    t.eventId,
    t.orderId,
  );
}

/** An order as D1 records it (no client secret: D1 never stores it). */
export function orderRowOut(o: OrderWithTickets): OrderOut {
  return {
    id: o.id,
    eventId: o.eventId,
    holdId: o.holdId,
    status: o.status,
    items: lines(o.items as HoldLine[]),
    currency: o.currency,
    totalMinor: o.totalMinor,
    refundedMinor: o.refundedMinor,
    createdAt: iso(o.createdAt)!,
    expiresAt: o.status === "pending" ? iso(o.expiresAt) : null,
    paidAt: iso(o.paidAt),
    payment: o.paymentIntentId && o.paymentProvider !== "none" ? { provider: o.paymentProvider, intentId: o.paymentIntentId } : null,
    tickets: o.tickets.map(ticketRowOut),
  };
}

export const StaffOrder = Order.extend({
  buyerId: z.string(),
  flags: z.array(z.string()).openapi({ description: "Risk signals raised at checkout; non-empty means flagged for review" }),
}).openapi("StaffOrder");

export const MyOrdersQuery = PageQuery.extend({
  eventId: z.string().regex(UUID_PATTERN, "must be a lowercase UUID").optional(),
});
export const EventOrdersQuery = PageQuery.extend({ status: z.enum(ORDER_STATUSES).optional() });

export const LocalConfirmBody = z
  .strictObject({
    eventId: z.string().regex(UUID_PATTERN, "must be a lowercase UUID"),
    orderId: z.string().regex(UUID_PATTERN, "must be a lowercase UUID"),
    outcome: z.enum(["succeeded", "failed"]).default("succeeded"),
  })
  .openapi("LocalPaymentConfirmation");

export const WebhookAck = z
  .object({
    received: z.literal(true),
    outcome: z.string().openapi({ description: "What the notice did: paid, duplicate, ignored, unknown_order, ..." }),
  })
  .openapi("WebhookAck");
