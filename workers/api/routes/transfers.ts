import { createRoute, z } from "@hono/zod-openapi";
import { guard, tenantOf, userOf } from "../../../src/auth/authenticate";
import { ROLES, type Role } from "../../../src/db/schema";
import { findEvent } from "../../../src/domain/event-writes";
import { claimTicketsSentTo } from "../../../src/domain/ticket-claims";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { inventoryFor, rpc, unwrap } from "../../../src/inventory/client";
import type { InventoryResult } from "../../../src/inventory/contract";
import { Email, IdParam, iso } from "../../../src/schemas/common";

/**
 * Ticket transfers (ADR 0010): the event's EventInventory moves the ticket and issues a new
 * code version; recipients without an account get it once they verify their address.
 */
const ADMINS: readonly Role[] = ["owner", "admin"];

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

export const transferRoutes = createRouter()
  .openapi(transferRoute, async (c) => {
    const me = userOf(c, "Only people hold tickets");
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
    const me = userOf(c, "Only people hold tickets");
    const { db } = tenantOf(c);
    const user = await db.users.findById(me.userId);
    if (!user) throw new AppError("UNAUTHENTICATED");
    const waiting = await db.orders.eventsWithTicketsHeldBy(`email:${user.email}`);
    if (waiting.length === 0) return c.json({ claimed: 0 }, 200);
    if (!user.emailVerifiedAt) throw new AppError("EMAIL_NOT_VERIFIED", "Verify your email address first: only its owner may claim tickets sent to it");
    const claimed = await rpc<number>("claimTransfers", claimTicketsSentTo(db, c.var.config.EVENT_INVENTORY, user, c.var.now()));
    return c.json({ claimed }, 200);
  });
