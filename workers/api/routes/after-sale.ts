import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import type { UserPrincipal } from "../../../src/auth/principal";
import { ROLES, type Role } from "../../../src/db/schema";
import { assertCanManageEvent, principalId, visibleEvent } from "../../../src/domain/event-access";
import { findEvent } from "../../../src/domain/event-writes";
import { claimTicketsSentTo } from "../../../src/domain/ticket-claims";
import type { AppEnv } from "../../../src/http/context";
import { AppError } from "../../../src/http/errors";
import { idempotencyKeyOf, requestHash, requireIdempotencyKey, scopedIdempotencyKey } from "../../../src/http/idempotency";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { inventoryFor, rpc, settle, unwrap } from "../../../src/inventory/client";
import type {
  CancellationProgress,
  CheckInDto,
  IdempotentOutcome,
  InventoryResult,
  RefundDto,
  Revocations,
  TierCheckIns,
  WaitlistEntryDto,
} from "../../../src/inventory/contract";
import { UUID_PATTERN } from "../../../src/lib/ids";
import { Email, IdParam, iso } from "../../../src/schemas/common";
import { IdempotencyKeyHeader } from "../../../src/schemas/holds";
import { MAX_TICKET_CODE_LENGTH, publicTicketKeys, verifyTicketCode } from "../../../src/tickets/code";
import { formatTicketNumber } from "../../../src/tickets/number";

/**
 * After the sale: door check-in, ticket transfers, refunds, waitlists and the progress of
 * an event's cancellation. Every decision is the event's EventInventory DO's; these routes
 * authenticate, check who may ask, and shape the answer.
 */
const Uuid = z.string().regex(UUID_PATTERN, "must be a lowercase UUID");
const EventParams = z.strictObject({ eventId: IdParam("eventId") });
const SCANNERS: readonly Role[] = ["owner", "admin", "scanner"];
const STAFF: readonly Role[] = ["owner", "admin", "organizer", "scanner"];
const ADMINS: readonly Role[] = ["owner", "admin"];

// ------------------------------------------------------------------ check-in

const CheckInBody = z
  .strictObject({
    code: z.string().min(1).max(MAX_TICKET_CODE_LENGTH).openapi({ description: "The ticket code from the QR" }),
    gate: z.string().trim().min(1).max(64).optional().openapi({ description: "Which door or lane scanned it" }),
  })
  .openapi("CheckIn");

const CheckInResult = z
  .object({
    ticketId: z.string(),
    tierId: z.string(),
    number: z.number().int(),
    displayNumber: z.string(),
    checkedInAt: z.string(),
    gate: z.string().nullable(),
  })
  .openapi("CheckInResult");

export const checkInRoute = createRoute({
  method: "post",
  path: "/v1/events/{eventId}/check-ins",
  tags: ["Check-in"],
  security: bearerAuth,
  summary: "Admit a ticket at the door",
  description:
    "The code's signature is verified first (422 TICKET_CODE_INVALID), then that it names this tenant and event " +
    "(422 TICKET_WRONG_EVENT). The event's inventory then admits the ticket exactly once, however many doors scan it at " +
    "the same moment: a second scan is 409 TICKET_ALREADY_CHECKED_IN with `firstCheckedInAt` and `firstGate`. Refunded " +
    "and cancelled tickets are 409 TICKET_REFUNDED / TICKET_CANCELLED; a code replaced by a transfer is 409 " +
    "TICKET_CODE_SUPERSEDED. Scanners, tenant admins, and API keys with `checkin:write`.",
  middleware: guard({ roles: SCANNERS, scopes: ["checkin:write"] }),
  request: { params: EventParams, body: jsonBody(CheckInBody) },
  responses: {
    200: jsonContent(CheckInResult, "Admitted"),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      "NOT_FOUND",
      "TICKET_CODE_INVALID",
      "TICKET_WRONG_EVENT",
      "TICKET_NOT_FOUND",
      "TICKET_ALREADY_CHECKED_IN",
      "TICKET_REFUNDED",
      "TICKET_CANCELLED",
      "TICKET_CODE_SUPERSEDED",
      "DEPENDENCY_UNAVAILABLE",
    ),
  },
});

export const checkInCountsRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/check-ins",
  tags: ["Check-in"],
  security: bearerAuth,
  summary: "Check-ins per tier (sold and admitted so far)",
  middleware: guard({ roles: STAFF, scopes: ["events:read"] }),
  request: { params: EventParams },
  responses: {
    200: jsonContent(z.object({ items: z.array(z.object({ tierId: z.string(), sold: z.number().int(), checkedIn: z.number().int() })) }).openapi("CheckInCounts"), "Counts"),
    ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "DEPENDENCY_UNAVAILABLE"),
  },
});

const RevocationList = z
  .object({
    revoked: z.array(z.object({ ticketId: z.string(), number: z.number().int(), status: z.enum(["refunded", "cancelled"]) })),
    superseded: z.array(z.object({ ticketId: z.string(), number: z.number().int(), minCodeVersion: z.number().int() })),
    checkedIn: z.array(z.object({ ticketId: z.string(), number: z.number().int(), checkedInAt: z.string(), gate: z.string().nullable() })),
    asOf: z.string(),
  })
  .openapi("ScannerRevocations");

export const revocationsRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/revocations",
  tags: ["Check-in"],
  security: bearerAuth,
  summary: "What an offline scanner must sync: revoked tickets, replaced codes, admitted tickets",
  description:
    "A scanner verifies codes offline with /v1/public/ticket-keys; the signature alone cannot know about refunds, " +
    "cancellations, transfers (a code with `cv` below `minCodeVersion` was replaced) or admissions at other doors. " +
    "Sync this list before doors open and as often as the network allows; online check-in stays the authority.",
  middleware: guard({ roles: SCANNERS, scopes: ["checkin:write"] }),
  request: { params: EventParams },
  responses: { 200: jsonContent(RevocationList, "The lists"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "DEPENDENCY_UNAVAILABLE") },
});

// ------------------------------------------------------------------ transfers

const TransferBody = z.strictObject({ toEmail: Email }).openapi("TicketTransfer");
const TransferResult = z
  .object({
    ticketId: z.string(),
    toEmail: z.string(),
    pending: z.boolean().openapi({ description: "true when the recipient has no account yet: the ticket is theirs once they register and claim it" }),
    codeVersion: z.number().int(),
  })
  .openapi("TicketTransferResult");

export const transferRoute = createRoute({
  method: "post",
  path: "/v1/tickets/{ticketId}/transfer",
  tags: ["Tickets"],
  security: bearerAuth,
  summary: "Give one of your tickets to someone else (by email)",
  description:
    "The ticket gets a new code and the old one stops working at the door; the history is kept. A recipient with an " +
    "account of this tenant gets it at once; otherwise it becomes theirs when they register and verify that address " +
    "(or POST /v1/me/tickets/claim). Not possible for checked-in, refunded or cancelled tickets, or for events that do not " +
    "allow transfers (409 TRANSFER_NOT_ALLOWED).",
  middleware: guard({ roles: ROLES }),
  request: { params: z.strictObject({ ticketId: IdParam("ticketId") }), body: jsonBody(TransferBody) },
  responses: {
    200: jsonContent(TransferResult, "Transferred"),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "NOT_FOUND", "TRANSFER_NOT_ALLOWED", "DEPENDENCY_UNAVAILABLE"),
  },
});

export const transferHistoryRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/tickets/{ticketId}/transfers",
  tags: ["Tickets"],
  security: bearerAuth,
  summary: "A ticket's transfer history (tenant admins)",
  description: "Every move of the ticket, oldest first: from and to whom (a user id, or `email:<address>` until claimed) and which code version it left behind.",
  middleware: guard({ roles: ADMINS, scopes: ["orders:read"] }),
  request: { params: z.strictObject({ eventId: IdParam("eventId"), ticketId: IdParam("ticketId") }) },
  responses: {
    200: jsonContent(
      z.object({ items: z.array(z.object({ fromHolder: z.string(), toHolder: z.string(), fromCodeVersion: z.number().int(), at: z.string() })) }).openapi("TicketTransfers"),
      "The history",
    ),
    ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "DEPENDENCY_UNAVAILABLE"),
  },
});

export const claimRoute = createRoute({
  method: "post",
  path: "/v1/me/tickets/claim",
  tags: ["Tickets"],
  security: bearerAuth,
  summary: "Take the tickets transferred to your (verified) email address before you registered",
  middleware: guard({ roles: ROLES }),
  responses: {
    200: jsonContent(z.object({ claimed: z.number().int() }).openapi("TicketClaim"), "How many tickets became yours"),
    ...errorResponses(...AUTH_ERRORS, "EMAIL_NOT_VERIFIED", "DEPENDENCY_UNAVAILABLE"),
  },
});

// ------------------------------------------------------------------ refunds

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

// ------------------------------------------------------------------ waitlist

const JoinBody = z.strictObject({ tierId: Uuid, quantity: z.number().int().min(1).max(50) }).openapi("JoinWaitlist");
const Entry = z
  .object({
    id: z.string(),
    eventId: z.string(),
    tierId: z.string(),
    quantity: z.number().int(),
    status: z.enum(["waiting", "offered", "promoted", "expired", "left"]),
    position: z.number().int().nullable(),
    holdId: z.string().nullable().openapi({ description: "While offered: the hold reserved for you; check it out before offerExpiresAt" }),
    offerExpiresAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("WaitlistEntry");
const toEntry = (e: WaitlistEntryDto) => ({
  id: e.entryId,
  eventId: e.eventId,
  tierId: e.tierId,
  quantity: e.quantity,
  status: e.status,
  position: e.position,
  holdId: e.holdId,
  offerExpiresAt: iso(e.offerExpiresAt),
  createdAt: iso(e.createdAt)!,
});

export const joinWaitlistRoute = createRoute({
  method: "post",
  path: "/v1/events/{eventId}/waitlist",
  tags: ["Waitlist"],
  security: bearerAuth,
  summary: "Wait for a sold-out tier",
  description:
    "When seats free up, the first in line gets a timed offer: a hold placed for them (HOLD_TTL_SECONDS) that they check " +
    "out like any hold; an unanswered offer passes to the next. 409 WAITLIST_TIER_AVAILABLE while seats can simply be held; " +
    "409 WAITLIST_DUPLICATE when you already wait for the tier.",
  middleware: guard({ roles: ROLES }),
  request: { params: EventParams, body: jsonBody(JoinBody) },
  responses: {
    201: jsonContent(Entry, "Your place in line"),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "NOT_FOUND", "UNKNOWN_TIER", "QUANTITY_OUT_OF_RANGE", "BUYER_LIMIT_EXCEEDED", "WAITLIST_TIER_AVAILABLE", "WAITLIST_DUPLICATE", "DEPENDENCY_UNAVAILABLE"),
  },
});

export const myWaitlistRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/waitlist",
  tags: ["Waitlist"],
  security: bearerAuth,
  summary: "Your waitlist entries for the event",
  middleware: guard({ roles: ROLES }),
  request: { params: EventParams },
  responses: { 200: jsonContent(z.object({ items: z.array(Entry) }).openapi("WaitlistEntries"), "Entries"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "DEPENDENCY_UNAVAILABLE") },
});

export const leaveWaitlistRoute = createRoute({
  method: "delete",
  path: "/v1/events/{eventId}/waitlist/{entryId}",
  tags: ["Waitlist"],
  security: bearerAuth,
  summary: "Leave the line (an open offer is given up)",
  middleware: guard({ roles: ROLES }),
  request: { params: z.strictObject({ eventId: IdParam("eventId"), entryId: IdParam("entryId") }) },
  responses: { 200: jsonContent(Entry, "The entry"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "WAITLIST_ENTRY_NOT_FOUND", "DEPENDENCY_UNAVAILABLE") },
});

// ------------------------------------------------------------------ cancellation

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

function userOf(c: Context<AppEnv>): UserPrincipal {
  const { principal } = tenantOf(c);
  if (principal.kind !== "user") throw new AppError("FORBIDDEN", "Only people hold tickets");
  return principal;
}

export const afterSaleRoutes = createRouter()
  .openapi(checkInRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const event = await findEvent(db, c.req.valid("param").eventId);
    const body = c.req.valid("json");
    const verified = await verifyTicketCode(body.code, publicTicketKeys(c.var.config.TICKET_SIGNING_KEYS), { tenantId: principal.tenantId, eventId: event.id });
    if (!verified.ok) {
      if (verified.reason === "wrong_event" || verified.reason === "wrong_tenant") {
        throw new AppError("TICKET_WRONG_EVENT", "This ticket is not for this event");
      }
      throw new AppError("TICKET_CODE_INVALID", "This is not a valid ticket code", { reason: verified.reason });
    }
    const result = await rpc<InventoryResult<CheckInDto>>(
      "checkIn",
      inventoryFor(c, principal.tenantId, event.id).checkIn({
        ticketId: verified.claims.tkt,
        codeVersion: verified.claims.cv,
        gate: body.gate ?? null,
        scannerId: principalId(principal),
        now: c.var.now(),
      }),
    );
    const admitted = unwrap(result);
    return c.json({ ...admitted, displayNumber: formatTicketNumber(admitted.number), checkedInAt: iso(admitted.checkedInAt)! }, 200);
  })
  .openapi(checkInCountsRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const event = await findEvent(db, c.req.valid("param").eventId);
    const items = await rpc<TierCheckIns[]>("checkInCounts", inventoryFor(c, principal.tenantId, event.id).checkInCounts());
    return c.json({ items }, 200);
  })
  .openapi(revocationsRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const event = await findEvent(db, c.req.valid("param").eventId);
    const lists = await rpc<Revocations>("revocations", inventoryFor(c, principal.tenantId, event.id).revocations());
    return c.json(
      { ...lists, checkedIn: lists.checkedIn.map((t) => ({ ...t, checkedInAt: iso(t.checkedInAt)! })), asOf: iso(c.var.now())! },
      200,
    );
  })
  .openapi(transferRoute, async (c) => {
    const me = userOf(c);
    const { db } = tenantOf(c);
    const { ticketId } = c.req.valid("param");
    const { toEmail } = c.req.valid("json");
    const ticket = await db.orders.ticket(ticketId);
    // Someone else's ticket looks exactly like a missing one.
    if (!ticket || ticket.holderId !== me.userId) throw new AppError("NOT_FOUND", "No such ticket of yours");
    const event = await findEvent(db, ticket.eventId);
    if (!event.allowTransfers) throw new AppError("TRANSFER_NOT_ALLOWED", "This event does not allow ticket transfers");
    const recipient = await db.users.findByEmail(toEmail);
    if (recipient?.id === me.userId) throw new AppError("TRANSFER_NOT_ALLOWED", "The ticket is already yours");
    const result = await rpc<InventoryResult<{ ticketId: string; codeVersion: number }>>(
      "transfer",
      inventoryFor(c, me.tenantId, event.id).transfer({
        ticketId,
        fromHolder: me.userId,
        toHolder: recipient ? recipient.id : `email:${toEmail}`,
        now: c.var.now(),
      }),
    );
    const moved = unwrap(result);
    return c.json({ ticketId: moved.ticketId, toEmail, pending: !recipient, codeVersion: moved.codeVersion }, 200);
  })
  .openapi(transferHistoryRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const { eventId, ticketId } = c.req.valid("param");
    const event = await findEvent(db, eventId);
    const ticket = await db.orders.ticket(ticketId);
    if (!ticket || ticket.eventId !== event.id) throw new AppError("NOT_FOUND", "No such ticket at this event");
    const items = await rpc<{ fromHolder: string; toHolder: string; fromCodeVersion: number; at: number }[]>(
      "transfers",
      inventoryFor(c, principal.tenantId, event.id).transfers(ticketId),
    );
    return c.json({ items: items.map((t) => ({ ...t, at: iso(t.at)! })) }, 200);
  })
  .openapi(claimRoute, async (c) => {
    const me = userOf(c);
    const { db } = tenantOf(c);
    const user = await db.users.findById(me.userId);
    if (!user) throw new AppError("UNAUTHENTICATED");
    const waiting = await db.orders.eventsWithTicketsHeldBy(`email:${user.email}`);
    if (waiting.length === 0) return c.json({ claimed: 0 }, 200);
    if (!user.emailVerifiedAt) throw new AppError("EMAIL_NOT_VERIFIED", "Verify your email address first: only its owner may claim tickets sent to it");
    const claimed = await rpc<number>("claimTransfers", claimTicketsSentTo(db, c.var.config.EVENT_INVENTORY, user, c.var.now()));
    return c.json({ claimed }, 200);
  })
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
  .openapi(joinWaitlistRoute, async (c) => {
    const me = userOf(c);
    const event = await visibleEvent(me, tenantOf(c).db, c.req.valid("param").eventId);
    const body = c.req.valid("json");
    const result = await rpc<InventoryResult<WaitlistEntryDto>>(
      "joinWaitlist",
      inventoryFor(c, me.tenantId, event.id).joinWaitlist({ scopedKey: "", requestHash: "", buyerId: me.userId, tierId: body.tierId, quantity: body.quantity, now: c.var.now() }),
    );
    return c.json(toEntry(unwrap(result)), 201);
  })
  .openapi(myWaitlistRoute, async (c) => {
    const me = userOf(c);
    const event = await visibleEvent(me, tenantOf(c).db, c.req.valid("param").eventId);
    const items = await rpc<WaitlistEntryDto[]>("waitlistOf", inventoryFor(c, me.tenantId, event.id).waitlistOf(me.userId));
    return c.json({ items: items.map(toEntry) }, 200);
  })
  .openapi(leaveWaitlistRoute, async (c) => {
    const me = userOf(c);
    const { eventId, entryId } = c.req.valid("param");
    const event = await findEvent(tenantOf(c).db, eventId);
    const result = await rpc<InventoryResult<WaitlistEntryDto>>("leaveWaitlist", inventoryFor(c, me.tenantId, event.id).leaveWaitlist(entryId, me.userId, c.var.now()));
    return c.json(toEntry(unwrap(result)), 200);
  })
  .openapi(cancellationRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const event = await findEvent(db, c.req.valid("param").eventId);
    await assertCanManageEvent(principal, db, event);
    const progress = await rpc<CancellationProgress | null>("cancellation", inventoryFor(c, principal.tenantId, event.id).cancellation());
    if (!progress) throw new AppError("NOT_FOUND", "The event has no cancellation in progress");
    return c.json({ ...progress, startedAt: iso(progress.startedAt)! }, 200);
  });
