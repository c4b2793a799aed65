import { createRoute, z } from "@hono/zod-openapi";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import type { Role } from "../../../src/db/schema";
import { principalId } from "../../../src/domain/event-access";
import { findEvent } from "../../../src/domain/event-writes";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { inventoryFor, rpc, unwrap } from "../../../src/inventory/client";
import type { CheckInDto, InventoryResult, Revocations, TierCheckIns } from "../../../src/inventory/contract";
import { IdParam, iso } from "../../../src/schemas/common";
import { MAX_TICKET_CODE_LENGTH, publicTicketKeys, verifyTicketCode } from "../../../src/tickets/code";
import { formatTicketNumber } from "../../../src/tickets/number";

/**
 * Door check-in (ADR 0010): the API verifies a code's signature and that it names this
 * tenant and event; the event's EventInventory admits the ticket once, whichever door
 * scans it first. Offline scanners sync the revocation list (ADR 0007).
 */
const EventParams = z.strictObject({ eventId: IdParam("eventId") });
const SCANNERS: readonly Role[] = ["owner", "admin", "scanner"];
const STAFF: readonly Role[] = ["owner", "admin", "organizer", "scanner"];

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

export const checkInRoutes = createRouter()
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
  });
