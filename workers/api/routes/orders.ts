import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { guard, tenantOf, userOf } from "../../../src/auth/authenticate";
import type { UserPrincipal } from "../../../src/auth/principal";
import { decodeCursor } from "../../../src/db/pagination";
import { ROLES, type Role } from "../../../src/db/schema";
import { assertCanManageEvent } from "../../../src/domain/event-access";
import { findEvent } from "../../../src/domain/event-writes";
import { checkoutRisk } from "../../../src/fraud";
import { inBackground } from "../../../src/http/background";
import type { AppEnv } from "../../../src/http/context";
import { AppError } from "../../../src/http/errors";
import { idempotencyKeyOf, requestHash, requireIdempotencyKey, scopedIdempotencyKey } from "../../../src/http/idempotency";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { inventoryFor, onVisibleEvent, rpc, settle, unwrap } from "../../../src/inventory/client";
import type { CheckoutStep, IdempotentOutcome, InventoryResult, NotVisible, OrderDto } from "../../../src/inventory/contract";
import { errorFields, log } from "../../../src/observability/logger";
import { paymentProviderFor, PaymentProviderError } from "../../../src/payments";
import { IdParam, iso, pageOf } from "../../../src/schemas/common";
import { IdempotencyKeyHeader } from "../../../src/schemas/holds";
import { CheckoutBody, EventOrdersQuery, MyOrdersQuery, Order, orderRowOut, StaffOrder, Ticket, ticketRowOut, toOrderOut } from "../../../src/schemas/orders";

const tags = ["Orders"];
/** Buyers are people: every signed-in user buys for themself; API keys do not buy. */
const buyer = guard({ roles: ROLES });
/** Staff who see an event's orders; organizers only for events they may manage. */
const ORDER_STAFF: readonly Role[] = ["owner", "admin", "organizer"];
const staff = guard({ roles: ORDER_STAFF, scopes: ["orders:read"] });

const EventParams = z.strictObject({ eventId: IdParam("eventId") });
const EventOrderParams = z.strictObject({ eventId: IdParam("eventId"), orderId: IdParam("orderId") });
const OrderParams = z.strictObject({ orderId: IdParam("orderId") });
const replayed = {
  "Idempotency-Replayed": { description: "`true` when this answers an earlier request with the same key", schema: { type: "string" as const } },
};
const IDEMPOTENCY_ERRORS = ["IDEMPOTENCY_KEY_MISSING", "IDEMPOTENCY_KEY_MALFORMED", "IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_IN_FLIGHT"] as const;

export const checkoutRoute = createRoute({
  method: "post",
  path: "/v1/events/{eventId}/orders",
  tags,
  security: bearerAuth,
  summary: "Check out a hold: it becomes an order at the hold's locked price",
  description:
    "A free order is paid at once and its tickets issued (numbers and signed codes in the answer). An order that costs money " +
    "is `pending` with a payment intent (`payment.clientSecret` for the buyer's client); it is paid when the provider's signed " +
    "webhook confirms, and expires, giving its seats back, if not paid by `expiresAt` (PAYMENT_TTL_SECONDS). " +
    "Requires an Idempotency-Key: a retry with the same key answers the same order as it is now (`Idempotency-Replayed: true`), " +
    "never a second one; the same key with another body is 422; while the first request is still talking to the payment " +
    "provider, 409 IDEMPOTENCY_IN_FLIGHT. After a 503, retry with the same key.",
  middleware: [...buyer, requireIdempotencyKey],
  request: { params: EventParams, headers: IdempotencyKeyHeader, body: jsonBody(CheckoutBody) },
  responses: {
    201: { ...jsonContent(Order, "The order"), headers: { ...replayed, Location: { description: "The order's URL", schema: { type: "string" as const } } } },
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      ...IDEMPOTENCY_ERRORS,
      "NOT_FOUND",
      "HOLD_NOT_FOUND",
      "HOLD_EXPIRED",
      "HOLD_RELEASED",
      "HOLD_CONVERTED",
      "EVENT_NOT_ON_SALE",
      "ORDER_EXPIRED",
      "PAYMENT_PROVIDER_ERROR",
      "DEPENDENCY_UNAVAILABLE",
    ),
  },
});

export const getEventOrderRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/orders/{orderId}",
  tags,
  security: bearerAuth,
  summary: "One of your orders, as the event's inventory has it now",
  description: "Strongly consistent (poll it after paying). Only the buyer sees it; anyone else's answers 404 ORDER_NOT_FOUND.",
  middleware: buyer,
  request: { params: EventOrderParams },
  responses: { 200: jsonContent(Order, "The order"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "ORDER_NOT_FOUND", "DEPENDENCY_UNAVAILABLE") },
});

export const listEventOrdersRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/orders",
  tags,
  security: bearerAuth,
  summary: "The event's orders (staff), newest first",
  description:
    "Tenant admins, organizers who may manage the event, and API keys with `orders:read`. From the order records, which follow " +
    "the inventory within moments of each sale.",
  middleware: staff,
  request: { params: EventParams, query: EventOrdersQuery },
  responses: { 200: jsonContent(pageOf(StaffOrder, "StaffOrderPage"), "A page of orders"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "VALIDATION_FAILED") },
});

export const listMyOrdersRoute = createRoute({
  method: "get",
  path: "/v1/me/orders",
  tags,
  security: bearerAuth,
  summary: "Your orders, newest first",
  middleware: buyer,
  request: { query: MyOrdersQuery },
  responses: { 200: jsonContent(pageOf(Order, "OrderPage"), "A page of your orders"), ...errorResponses(...AUTH_ERRORS, "VALIDATION_FAILED") },
});

export const getMyOrderRoute = createRoute({
  method: "get",
  path: "/v1/me/orders/{orderId}",
  tags,
  security: bearerAuth,
  summary: "One of your orders with its tickets",
  middleware: buyer,
  request: { params: OrderParams },
  responses: { 200: jsonContent(Order, "The order"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const listMyTicketsRoute = createRoute({
  method: "get",
  path: "/v1/me/tickets",
  tags,
  security: bearerAuth,
  summary: "Your tickets, newest first, with their signed codes",
  middleware: buyer,
  request: { query: MyOrdersQuery },
  responses: { 200: jsonContent(pageOf(Ticket, "TicketPage"), "A page of your tickets"), ...errorResponses(...AUTH_ERRORS, "VALIDATION_FAILED") },
});

/**
 * Checkout's second step, for orders that cost money: the provider's payment intent
 * (created with the order id as its idempotency key, so a resumed checkout gets the same
 * intent back) is attached to the order, which finishes the idempotency record.
 */
async function collectPayment(c: Context<AppEnv>, p: UserPrincipal, order: OrderDto, scopedKey: string, hash: string): Promise<IdempotentOutcome<OrderDto>> {
  const stub = inventoryFor(c, p.tenantId, order.eventId);
  const provider = paymentProviderFor(c.var.config);
  let intent;
  try {
    intent = await provider.createIntent({
      tenantId: p.tenantId,
      eventId: order.eventId,
      orderId: order.orderId,
      amountMinor: order.totalMinor,
      currency: order.currency,
      description: `Order ${order.orderId}`,
      idempotencyKey: `order-${order.orderId}`,
    });
  } catch (err) {
    // Let a retry with the same key resume at once instead of waiting for the lease.
    await stub.abandonCheckout(scopedKey).catch(() => undefined);
    log("error", "checkout: payment intent failed", { orderId: order.orderId, ...errorFields(err) });
    if (err instanceof PaymentProviderError && !err.retryable) {
      throw new AppError("PAYMENT_PROVIDER_ERROR", "The payment provider refused to start this payment");
    }
    throw new AppError("DEPENDENCY_UNAVAILABLE", "The payment provider is unavailable; retry with the same Idempotency-Key", {
      headers: { "retry-after": "2" },
    });
  }
  const outcome = await rpc<IdempotentOutcome<OrderDto>>(
    "attachPayment",
    stub.attachPayment({
      scopedKey,
      requestHash: hash,
      orderId: order.orderId,
      payment: { provider: intent.provider, intentId: intent.intentId, clientSecret: intent.clientSecret },
      now: c.var.now(),
    }),
  );
  if (outcome.kind === "response" && !outcome.result.ok && outcome.result.code === "ORDER_EXPIRED") {
    // Nobody will pay this intent: cancel it so the buyer cannot be charged for nothing.
    await inBackground(c, provider.cancelIntent(intent.intentId, `cancel-${order.orderId}`).catch(() => undefined));
  }
  return outcome;
}

export const orderRoutes = createRouter()
  .openapi(checkoutRoute, async (c) => {
    const p = userOf(c, "API keys cannot buy tickets");
    const body = c.req.valid("json");
    const key = idempotencyKeyOf(c);
    const { eventId } = c.req.valid("param");
    const path = `/v1/events/${eventId}/orders`;
    const scopedKey = scopedIdempotencyKey(p.tenantId, p.userId, key);
    const [hash, risk] = await Promise.all([requestHash("POST", path, body), checkoutRisk(c, { buyer: p })]);
    const req = {
      scopedKey,
      requestHash: hash,
      buyerId: p.userId,
      holdId: body.holdId,
      now: c.var.now(),
      paymentTtlMs: c.var.config.PAYMENT_TTL_SECONDS * 1000,
      provider: c.var.config.PAYMENT_PROVIDER,
      ...risk,
    };
    const stub = inventoryFor(c, p.tenantId, eventId);
    // The event's visibility is the DO's gate, or D1 when the gate cannot tell (onVisibleEvent).
    const step = await onVisibleEvent(c, p, eventId, {
      ifPublic: () => rpc<CheckoutStep | NotVisible>("checkout", stub.checkoutIfPublic(req)),
      plain: () => rpc<CheckoutStep>("checkout", stub.checkout(req)),
    });
    const outcome = step.kind === "done" ? step.outcome : await collectPayment(c, p, step.order, scopedKey, hash);
    const order = settle(c, outcome);
    c.header("location", `${path}/${order.orderId}`);
    return c.json(toOrderOut(order), 201);
  })
  .openapi(getEventOrderRoute, async (c) => {
    const p = userOf(c, "API keys cannot buy tickets");
    const { eventId, orderId } = c.req.valid("param");
    const event = await findEvent(tenantOf(c).db, eventId);
    const result = await rpc<InventoryResult<OrderDto>>("getOrder", inventoryFor(c, p.tenantId, event.id).getOrder(orderId, p.userId));
    return c.json(toOrderOut(unwrap(result)), 200);
  })
  .openapi(listEventOrdersRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const event = await findEvent(db, c.req.valid("param").eventId);
    await assertCanManageEvent(principal, db, event);
    const q = c.req.valid("query");
    const page = await db.orders.listForEvent(event.id, { limit: q.limit, cursor: decodeCursor(q.cursor), ...(q.status ? { status: q.status } : {}) });
    const items = await db.orders.withTickets(page.items);
    return c.json({ items: items.map((o) => ({ ...orderRowOut(o), buyerId: o.buyerId, flags: o.flags })), nextCursor: page.nextCursor }, 200);
  })
  .openapi(listMyOrdersRoute, async (c) => {
    const p = userOf(c, "API keys cannot buy tickets");
    const { db } = tenantOf(c);
    const q = c.req.valid("query");
    const page = await db.orders.listForBuyer(p.userId, { limit: q.limit, cursor: decodeCursor(q.cursor), ...(q.eventId ? { eventId: q.eventId } : {}) });
    const items = await db.orders.withTickets(page.items);
    return c.json({ items: items.map(orderRowOut), nextCursor: page.nextCursor }, 200);
  })
  .openapi(getMyOrderRoute, async (c) => {
    const p = userOf(c, "API keys cannot buy tickets");
    const { db } = tenantOf(c);
    const { orderId } = c.req.valid("param");
    const row = await db.orders.get(orderId);
    // Missing, foreign and other buyers' orders look the same.
    if (!row || row.buyerId !== p.userId) throw new AppError("NOT_FOUND", "No such order");
    const [withTickets] = await db.orders.withTickets([row]);
    const refunds = await db.orders.refundsOf(row.id);
    return c.json(
      {
        ...orderRowOut(withTickets!),
        refunds: refunds.map((r) => ({ id: r.id, amountMinor: r.amountMinor, ticketIds: r.ticketIds, reason: r.reason, status: r.status, createdAt: iso(r.createdAt)! })),
      },
      200,
    );
  })
  .openapi(listMyTicketsRoute, async (c) => {
    const p = userOf(c, "API keys cannot buy tickets");
    const { db } = tenantOf(c);
    const q = c.req.valid("query");
    const page = await db.orders.ticketsOfHolder(p.userId, { limit: q.limit, cursor: decodeCursor(q.cursor), ...(q.eventId ? { eventId: q.eventId } : {}) });
    return c.json({ items: page.items.map(ticketRowOut), nextCursor: page.nextCursor }, 200);
  });


