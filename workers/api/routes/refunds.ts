import { createRoute, z } from "@hono/zod-openapi";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import type { Role } from "../../../src/db/schema";
import { assertCanManageEvent, principalId } from "../../../src/domain/event-access";
import { findEvent } from "../../../src/domain/event-writes";
import { AppError } from "../../../src/http/errors";
import { idempotencyKeyOf, requestHash, requireIdempotencyKey, scopedIdempotencyKey } from "../../../src/http/idempotency";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { inventoryFor, rpc, settle } from "../../../src/inventory/client";
import type { CancellationProgress, IdempotentOutcome, RefundDto } from "../../../src/inventory/contract";
import { UUID_PATTERN } from "../../../src/lib/ids";
import { IdParam, iso } from "../../../src/schemas/common";
import { IdempotencyKeyHeader } from "../../../src/schemas/holds";

/**
 * Money back (ADR 0010): refunds of paid orders, decided by the event's EventInventory and
 * paid out through its outbox, and the progress of a cancelled event's refund saga.
 */
const Uuid = z.string().regex(UUID_PATTERN, "must be a lowercase UUID");
const EventParams = z.strictObject({ eventId: IdParam("eventId") });
const ADMINS: readonly Role[] = ["owner", "admin"];

const RefundBody = z
  .strictObject({
    ticketIds: z.array(Uuid).max(100).default([]).openapi({ description: "Tickets to refund: their seats go back on sale and their codes stop working" }),
    amountMinor: z.number().int().min(0).max(100_000_000).optional().openapi({
      description: "Defaults to the tickets' prices; with no tickets, a goodwill refund of this amount",
    }),
    reason: z.string().trim().min(3).max(500),
  })
  .openapi("Refund");

const Refund = z
  .object({
    id: z.string(),
    orderId: z.string(),
    amountMinor: z.number().int(),
    ticketIds: z.array(z.string()),
    reason: z.string(),
    status: z.enum(["requested", "succeeded", "failed", "not_needed"]),
    createdAt: z.string(),
  })
  .openapi("RefundRecord");

const toRefund = (r: RefundDto) => ({ id: r.refundId, orderId: r.orderId, amountMinor: r.amountMinor, ticketIds: r.ticketIds, reason: r.reason, status: r.status, createdAt: iso(r.createdAt)! });
const OrderParams = z.strictObject({ eventId: IdParam("eventId"), orderId: IdParam("orderId") });

export const refundRoute = createRoute({
  method: "post",
  path: "/v1/events/{eventId}/orders/{orderId}/refunds",
  tags: ["Refunds"],
  security: bearerAuth,
  summary: "Refund a paid order: whole, some tickets, or an amount",
  description:
    "Tenant admins and API keys with `refunds:write`. Refunded tickets give their seats back (the waitlist's first entry " +
    "gets an offer) and their codes stop working. The money goes back through the payment provider (requested through " +
    "the inventory's outbox, so it is never requested twice; `status` turns `succeeded` when the provider confirms). " +
    "Requires an Idempotency-Key. Refusals: REFUND_NOT_ALLOWED (order not paid, ticket checked in or already refunded), " +
    "REFUND_AMOUNT_INVALID (more than is left to refund).",
  middleware: [...guard({ roles: ADMINS, scopes: ["refunds:write"] }), requireIdempotencyKey],
  request: { params: OrderParams, headers: IdempotencyKeyHeader, body: jsonBody(RefundBody) },
  responses: {
    201: jsonContent(Refund, "The refund"),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      "IDEMPOTENCY_KEY_MISSING",
      "IDEMPOTENCY_KEY_MALFORMED",
      "IDEMPOTENCY_KEY_REUSED",
      "NOT_FOUND",
      "ORDER_NOT_FOUND",
      "TICKET_NOT_FOUND",
      "REFUND_NOT_ALLOWED",
      "REFUND_AMOUNT_INVALID",
      "DEPENDENCY_UNAVAILABLE",
    ),
  },
});

export const listRefundsRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/orders/{orderId}/refunds",
  tags: ["Refunds"],
  security: bearerAuth,
  summary: "An order's refunds",
  middleware: guard({ roles: ADMINS, scopes: ["orders:read"] }),
  request: { params: OrderParams },
  responses: { 200: jsonContent(z.object({ items: z.array(Refund) }).openapi("RefundList"), "Refunds"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "DEPENDENCY_UNAVAILABLE") },
});


export const cancellationRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/cancellation",
  tags: ["Events"],
  security: bearerAuth,
  summary: "Progress of a cancelled event's refunds",
  description: "After the event is CANCELLED its inventory refunds every paid order in steps (resumable); this shows how far it got.",
  middleware: guard({ roles: ["owner", "admin", "organizer"], scopes: ["events:read"] }),
  request: { params: EventParams },
  responses: {
    200: jsonContent(
      z.object({ state: z.enum(["running", "done"]), reason: z.string(), startedAt: z.string(), processed: z.number().int(), remaining: z.number().int() }).openapi("CancellationProgress"),
      "Progress",
    ),
    ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "DEPENDENCY_UNAVAILABLE"),
  },
});

export const refundRoutes = createRouter()
  .openapi(refundRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const { eventId, orderId } = c.req.valid("param");
    const event = await findEvent(db, eventId);
    const body = c.req.valid("json");
    const path = `/v1/events/${event.id}/orders/${orderId}/refunds`;
    const outcome = await rpc<IdempotentOutcome<RefundDto>>(
      "refund",
      inventoryFor(c, principal.tenantId, event.id).refund({
        scopedKey: scopedIdempotencyKey(principal.tenantId, principalId(principal), idempotencyKeyOf(c)),
        requestHash: await requestHash("POST", path, body),
        orderId,
        ticketIds: body.ticketIds,
        amountMinor: body.amountMinor ?? null,
        reason: body.reason,
        requestedBy: principalId(principal),
        now: c.var.now(),
      }),
    );
    return c.json(toRefund(settle(c, outcome)), 201);
  })
  .openapi(listRefundsRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const { eventId, orderId } = c.req.valid("param");
    const event = await findEvent(db, eventId);
    const items = await rpc<RefundDto[]>("orderRefunds", inventoryFor(c, principal.tenantId, event.id).orderRefunds(orderId));
    return c.json({ items: items.map(toRefund) }, 200);
  })
  .openapi(cancellationRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const event = await findEvent(db, c.req.valid("param").eventId);
    await assertCanManageEvent(principal, db, event);
    const progress = await rpc<CancellationProgress | null>("cancellation", inventoryFor(c, principal.tenantId, event.id).cancellation());
    if (!progress) throw new AppError("NOT_FOUND", "The event has no cancellation in progress");
    return c.json({ ...progress, startedAt: iso(progress.startedAt)! }, 200);
  });
