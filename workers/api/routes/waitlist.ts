import { createRoute, z } from "@hono/zod-openapi";
import { guard, tenantOf, userOf } from "../../../src/auth/authenticate";
import { ROLES } from "../../../src/db/schema";
import { visibleEvent } from "../../../src/domain/event-access";
import { findEvent } from "../../../src/domain/event-writes";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { inventoryFor, rpc, unwrap } from "../../../src/inventory/client";
import type { InventoryResult, WaitlistEntryDto } from "../../../src/inventory/contract";
import { UUID_PATTERN } from "../../../src/lib/ids";
import { IdParam, iso } from "../../../src/schemas/common";

/**
 * Waitlists for sold-out tiers (ADR 0010): the event's EventInventory keeps the line and
 * turns freed seats into timed holds for the first in it.
 */
const Uuid = z.string().regex(UUID_PATTERN, "must be a lowercase UUID");
const EventParams = z.strictObject({ eventId: IdParam("eventId") });

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

export const waitlistRoutes = createRouter()
  .openapi(joinWaitlistRoute, async (c) => {
    const me = userOf(c, "Only people hold tickets");
    const event = await visibleEvent(me, tenantOf(c).db, c.req.valid("param").eventId);
    const body = c.req.valid("json");
    const result = await rpc<InventoryResult<WaitlistEntryDto>>(
      "joinWaitlist",
      inventoryFor(c, me.tenantId, event.id).joinWaitlist({ scopedKey: "", requestHash: "", buyerId: me.userId, tierId: body.tierId, quantity: body.quantity, now: c.var.now() }),
    );
    return c.json(toEntry(unwrap(result)), 201);
  })
  .openapi(myWaitlistRoute, async (c) => {
    const me = userOf(c, "Only people hold tickets");
    const event = await visibleEvent(me, tenantOf(c).db, c.req.valid("param").eventId);
    const items = await rpc<WaitlistEntryDto[]>("waitlistOf", inventoryFor(c, me.tenantId, event.id).waitlistOf(me.userId));
    return c.json({ items: items.map(toEntry) }, 200);
  })
  .openapi(leaveWaitlistRoute, async (c) => {
    const me = userOf(c, "Only people hold tickets");
    const { eventId, entryId } = c.req.valid("param");
    const event = await findEvent(tenantOf(c).db, eventId);
    const result = await rpc<InventoryResult<WaitlistEntryDto>>("leaveWaitlist", inventoryFor(c, me.tenantId, event.id).leaveWaitlist(entryId, me.userId, c.var.now()));
    return c.json(toEntry(unwrap(result)), 200);
  });
