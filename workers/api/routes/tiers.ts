import { createRoute, z } from "@hono/zod-openapi";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import { ROLES, type Role } from "../../../src/db/schema";
import { visibleEvent } from "../../../src/domain/event-access";
import { findEvent } from "../../../src/domain/event-writes";
import { quotePrice } from "../../../src/domain/pricing";
import { assertQuotable, createTier, patchTier, priceRulesOf, syncTiers, tierNotFound } from "../../../src/domain/tier-writes";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { etagOf } from "../../../src/http/preconditions";
import { IdParam, IfMatchHeader } from "../../../src/schemas/common";
import { CreateTierBody, PatchTierBody, PriceQuoteSchema, QuoteQuery, TicketTier, TicketTierList, toQuoteDto, toTierDto } from "../../../src/schemas/tiers";

const tags = ["Ticket tiers"];
const STAFF: readonly Role[] = ["owner", "admin", "organizer", "scanner"];
const EDITORS: readonly Role[] = ["owner", "admin", "organizer"];
const read = guard({ roles: STAFF, scopes: ["events:read"] });
const write = guard({ roles: EDITORS, scopes: ["events:write"] });
/** Quotes are for buyers too. */
const quote = guard({ roles: ROLES, scopes: ["events:read"] });

const EventParams = z.strictObject({ eventId: IdParam("eventId") });
const TierParams = z.strictObject({ eventId: IdParam("eventId"), tierId: IdParam("tierId") });
const etag = { ETag: { description: 'The version as a strong ETag, e.g. "v3"; send it back in If-Match', schema: { type: "string" as const } } };
const withEtag = <T extends z.ZodType>(schema: T, description: string) => ({ ...jsonContent(schema, description), headers: etag });

const IN_FORCE =
  "D1 keeps the tier's description and configuration; the event's inventory enforces it. A change is written, then pushed to " +
  "the inventory: if the inventory refuses it (capacity below what is held and sold), the change is undone (the previous " +
  "configuration again, as a new version the inventory confirms) and the refusal answered; if the inventory cannot be " +
  "reached, the change is kept with `inForce: false` until the next tier write of the event or " +
  "POST /v1/events/{eventId}/tiers/sync pushes it. Every change is in the tenant's audit log (tier.created, tier.updated " +
  "with the changed fields, tier.update_reverted / tier.create_reverted for a change the inventory refused, tier.synced).";
const WRITE_ERRORS = [...AUTH_ERRORS, ...BODY_ERRORS, "NOT_FOUND", "CONFLICT", "CAPACITY_BELOW_COMMITTED", "DEPENDENCY_UNAVAILABLE"] as const;

export const createTierRoute = createRoute({
  method: "post",
  path: "/v1/events/{eventId}/tiers",
  tags,
  security: bearerAuth,
  summary: "Add a ticket tier to an event",
  description: `All tiers of an event share one currency (400 on body.currency otherwise); at most 50 tiers per event. ${IN_FORCE}`,
  middleware: write,
  request: { params: EventParams, body: jsonBody(CreateTierBody) },
  responses: {
    201: { ...withEtag(TicketTier, "Created"), headers: { ...etag, Location: { description: "The tier's URL", schema: { type: "string" as const } } } },
    ...errorResponses(...WRITE_ERRORS),
  },
});

export const listTiersRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/tiers",
  tags,
  security: bearerAuth,
  summary: "An event's ticket tiers, oldest first",
  middleware: read,
  request: { params: EventParams },
  responses: { 200: jsonContent(TicketTierList, "The tiers"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const getTierRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/tiers/{tierId}",
  tags,
  security: bearerAuth,
  summary: "One ticket tier",
  middleware: read,
  request: { params: TierParams },
  responses: { 200: withEtag(TicketTier, "The tier"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const patchTierRoute = createRoute({
  method: "patch",
  path: "/v1/events/{eventId}/tiers/{tierId}",
  tags,
  security: bearerAuth,
  summary: "Change some of a tier's fields",
  description:
    "Send If-Match (or `version`). Capacity may rise at any time and fall only down to the tickets held and sold " +
    "(409 CAPACITY_BELOW_COMMITTED). Price changes apply to holds made afterwards; existing holds keep their locked quote. " +
    "Sold-ticket protection: once tickets of this tier are sold (as the inventory counts them), a change of currency, priceMinor, " +
    "serviceFeeMinor, facilityFeeMinor, taxBps, earlyBird, lastMinute or groupDiscount is refused with 409 PROTECTED_FIELD listing " +
    "the `fields`, unless a tenant owner or admin sends `override: { reason }` (10-500 characters): the change is then audited as " +
    "tier.protected_override (fields, reason, before/after) and the tier's ticket holders are emailed. An override from anyone else " +
    "is 403 FORBIDDEN; it is ignored when nothing protected changes. 503 DEPENDENCY_UNAVAILABLE when the inventory cannot say what " +
    `is sold. ${IN_FORCE}`,
  middleware: write,
  request: { params: TierParams, headers: IfMatchHeader, body: jsonBody(PatchTierBody) },
  responses: {
    200: withEtag(TicketTier, "The updated tier"),
    ...errorResponses(...WRITE_ERRORS, "PROTECTED_FIELD", "PRECONDITION_REQUIRED", "PRECONDITION_FAILED", "VERSION_CONFLICT"),
  },
});

const SyncResult = z
  .object({
    items: z.array(TicketTier),
    refused: z.array(z.object({ tierId: z.string(), code: z.string(), detail: z.string() })),
  })
  .openapi("TicketTierSync");

export const syncTiersRoute = createRoute({
  method: "post",
  path: "/v1/events/{eventId}/tiers/sync",
  tags,
  security: bearerAuth,
  summary: "Push every tier of the event to its inventory again",
  description:
    "Repairs tiers shown with `inForce: false` after a push failed. Idempotent. A tier the inventory refuses stays " +
    "`inForce: false` and is listed under `refused` with the reason.",
  middleware: write,
  request: { params: EventParams },
  responses: { 200: jsonContent(SyncResult, "The tiers after the push"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "CONFLICT", "DEPENDENCY_UNAVAILABLE") },
});

export const quoteRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/tiers/{tierId}/quote",
  tags,
  security: bearerAuth,
  summary: "The itemised price of `quantity` tickets of a tier at a moment",
  description:
    "unit price (early bird before its end, else last minute from its start, else base) × quantity = subtotal; minus the group " +
    "discount when quantity reaches its minimum; plus service and facility fees per ticket (never discounted); plus tax on all " +
    "that. Each percentage is rounded half up once. Customers see tiers of published events only. A hold locks the quote of " +
    "its own moment.\n\n" +
    "The quote is priced with the configuration in force in the event's inventory, the one a hold would lock. While a tier's " +
    "latest change is not in force yet (the tier shows `inForce: false`: its push to the inventory is under way, failed, or " +
    "was refused), no quote is given: 409 TIER_NOT_IN_FORCE with `tierId` and `version`, for staff and buyers alike. It clears once the " +
    "change is in force (usually at once; after a failed push, at the next tier write of the event or " +
    "POST /v1/events/{eventId}/tiers/sync).",
  middleware: quote,
  request: { params: TierParams, query: QuoteQuery },
  responses: { 200: jsonContent(PriceQuoteSchema, "The quote"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "TIER_NOT_IN_FORCE") },
});

export const tierRoutes = createRouter()
  .openapi(createTierRoute, async (c) => {
    const { eventId } = c.req.valid("param");
    const row = await createTier(c, eventId, c.req.valid("json"));
    c.header("location", `/v1/events/${eventId}/tiers/${row.id}`);
    c.header("etag", etagOf(row.version));
    return c.json(toTierDto(row), 201);
  })
  .openapi(listTiersRoute, async (c) => {
    const { db } = tenantOf(c);
    const event = await findEvent(db, c.req.valid("param").eventId);
    const rows = await db.tiers.listForEvent(event.id);
    return c.json({ items: rows.map(toTierDto) }, 200);
  })
  .openapi(getTierRoute, async (c) => {
    const { db } = tenantOf(c);
    const { eventId, tierId } = c.req.valid("param");
    const event = await findEvent(db, eventId);
    const row = await db.tiers.findById(event.id, tierId);
    if (!row) throw tierNotFound();
    c.header("etag", etagOf(row.version));
    return c.json(toTierDto(row), 200);
  })
  .openapi(patchTierRoute, async (c) => {
    const { eventId, tierId } = c.req.valid("param");
    const row = await patchTier(c, eventId, tierId, c.req.valid("json"));
    c.header("etag", etagOf(row.version));
    return c.json(toTierDto(row), 200);
  })
  .openapi(syncTiersRoute, async (c) => {
    const result = await syncTiers(c, c.req.valid("param").eventId);
    return c.json({ items: result.tiers.map(toTierDto), refused: result.refused }, 200);
  })
  .openapi(quoteRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const { eventId, tierId } = c.req.valid("param");
    const q = c.req.valid("query");
    const event = await visibleEvent(principal, db, eventId);
    const row = await db.tiers.findById(event.id, tierId);
    if (!row) throw tierNotFound();
    assertQuotable(row);
    const at = q.at === undefined ? c.var.now() : Date.parse(q.at);
    return c.json(toQuoteDto(quotePrice(priceRulesOf(row), q.quantity, at)), 200);
  });
