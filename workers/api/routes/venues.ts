import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { prepareAudit } from "../../../src/audit/audit";
import { guard, STAFF_ADMINS, tenantOf } from "../../../src/auth/authenticate";
import type { Role, VenueRow } from "../../../src/db/schema";
import { decodeCursor } from "../../../src/db/pagination";
import type { TenantDb } from "../../../src/db/tenant-db";
import { principalId } from "../../../src/domain/event-access";
import type { AppEnv } from "../../../src/http/context";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { etagOf, expectedVersion, staleVersion } from "../../../src/http/preconditions";
import { uuidv7 } from "../../../src/lib/ids";
import { IfMatchHeader, PageQuery, pageOf } from "../../../src/schemas/common";
import {
  CreateVenueBody,
  DeleteVenueQuery,
  toVenueAccessDto,
  toVenueDto,
  UpdateVenueBody,
  Venue,
  VenueAccessGrant,
  VenueAccessParams,
  VenueIdParams,
  VenueListQuery,
} from "../../../src/schemas/venues";

const tags = ["Venues"];
const STAFF: readonly Role[] = ["owner", "admin", "organizer", "scanner"];
const read = guard({ roles: STAFF, scopes: ["venues:read"] });
const write = guard({ roles: STAFF_ADMINS, scopes: ["venues:write"] });
// Who may run events where is the tenant admins' decision; organizers only see venues.
const readAccess = guard({ roles: STAFF_ADMINS, scopes: ["venues:read"] });

const etagHeader = { ETag: { description: "Strong ETag of the version, for If-Match", schema: { type: "string" as const } } };
const VERSIONED_WRITE_ERRORS = ["NOT_FOUND", "PRECONDITION_REQUIRED", "PRECONDITION_FAILED", "VERSION_CONFLICT"] as const;

export const createVenue = createRoute({
  method: "post",
  path: "/v1/venues",
  tags,
  security: bearerAuth,
  summary: "Create a venue",
  middleware: write,
  request: { body: jsonBody(CreateVenueBody) },
  responses: {
    201: {
      ...jsonContent(Venue, "Created"),
      headers: { ...etagHeader, Location: { description: "URL of the venue", schema: { type: "string" as const } } },
    },
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS),
  },
});

export const listVenues = createRoute({
  method: "get",
  path: "/v1/venues",
  tags,
  security: bearerAuth,
  summary: "List the tenant's venues, oldest first",
  middleware: read,
  request: { query: VenueListQuery },
  responses: { 200: jsonContent(pageOf(Venue, "VenuePage"), "A page of venues"), ...errorResponses(...AUTH_ERRORS) },
});

export const getVenue = createRoute({
  method: "get",
  path: "/v1/venues/{venueId}",
  tags,
  security: bearerAuth,
  summary: "Get one venue",
  middleware: read,
  request: { params: VenueIdParams },
  responses: { 200: { ...jsonContent(Venue, "The venue"), headers: etagHeader }, ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const updateVenue = createRoute({
  method: "patch",
  path: "/v1/venues/{venueId}",
  tags,
  security: bearerAuth,
  summary: "Change some fields of a venue",
  description:
    "Send `If-Match` with the ETag you read, or the `version` in the body. A stale one is refused " +
    "(412 with If-Match, 409 VERSION_CONFLICT with a body version) and the answer carries `currentVersion`.",
  middleware: write,
  request: { params: VenueIdParams, headers: IfMatchHeader, body: jsonBody(UpdateVenueBody) },
  responses: {
    200: { ...jsonContent(Venue, "The updated venue"), headers: etagHeader },
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, ...VERSIONED_WRITE_ERRORS),
  },
});

export const deleteVenue = createRoute({
  method: "delete",
  path: "/v1/venues/{venueId}",
  tags,
  security: bearerAuth,
  summary: "Soft-delete a venue",
  description:
    "Needs `If-Match` or `?version=`. Refused with 409 CONFLICT while events that are neither deleted nor " +
    "COMPLETED/CANCELLED still take place there; the answer carries `liveEvents`.",
  middleware: write,
  request: { params: VenueIdParams, headers: IfMatchHeader, query: DeleteVenueQuery },
  responses: { 204: { description: "Deleted" }, ...errorResponses(...AUTH_ERRORS, ...VERSIONED_WRITE_ERRORS, "CONFLICT") },
});

export const listVenueAccess = createRoute({
  method: "get",
  path: "/v1/venues/{venueId}/access",
  tags,
  security: bearerAuth,
  summary: "Organizers who may run events at the venue (owners and admins always may)",
  middleware: readAccess,
  request: { params: VenueIdParams, query: PageQuery },
  responses: {
    200: jsonContent(pageOf(VenueAccessGrant, "VenueAccessPage"), "A page of grants, oldest first"),
    ...errorResponses(...AUTH_ERRORS, "NOT_FOUND"),
  },
});

export const grantVenueAccess = createRoute({
  method: "put",
  path: "/v1/venues/{venueId}/access/{userId}",
  tags,
  security: bearerAuth,
  summary: "Let an organizer run events at the venue (idempotent)",
  description: "Only organizers can be granted access (VALIDATION_FAILED on `params.userId` otherwise).",
  middleware: write,
  request: { params: VenueAccessParams },
  responses: { 204: { description: "Granted" }, ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const revokeVenueAccess = createRoute({
  method: "delete",
  path: "/v1/venues/{venueId}/access/{userId}",
  tags,
  security: bearerAuth,
  summary: "Take an organizer's access to the venue away (idempotent)",
  middleware: write,
  request: { params: VenueAccessParams },
  responses: { 204: { description: "Revoked, or there was no grant" }, ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

async function liveVenue(db: TenantDb, id: string): Promise<VenueRow> {
  const venue = await db.venues.findById(id);
  if (!venue) throw new AppError("NOT_FOUND", "No such venue");
  return venue;
}

/** A compare-and-set write matched nothing: tell the caller why, from the current state. */
async function refusal(c: Context<AppEnv>, db: TenantDb, id: string, expected: number): Promise<AppError> {
  const current = await liveVenue(db, id);
  if (current.version !== expected) return staleVersion(c, current.version);
  // Still there at the expected version: only softDelete's live-event guard refuses that. The
  // count is taken after the write; the event that blocked it may have ended since.
  return liveEventsConflict(Math.max(1, await db.venues.liveEventCount(id)));
}

const liveEventsConflict = (n: number) =>
  new AppError("CONFLICT", `The venue still has ${n} live event${n === 1 ? "" : "s"}; cancel, complete or delete ${n === 1 ? "it" : "them"} first`, {
    liveEvents: n,
  });

type VenueFields = Omit<z.infer<typeof UpdateVenueBody>, "version">;

/** The fields a PATCH really changes, as before/after pairs for the audit log; null when none. */
function changedFields(current: VenueRow, patch: VenueFields) {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch) as [keyof VenueFields, unknown][]) {
    if (value === undefined || current[key] === value) continue;
    before[key] = current[key];
    after[key] = value;
  }
  return Object.keys(after).length ? { before, after: after as VenueFields } : null;
}

export const venueRoutes = createRouter()
  .openapi(createVenue, async (c) => {
    const { principal, db } = tenantOf(c);
    const body = c.req.valid("json");
    const now = c.var.now();
    const fields = {
      ...body,
      addressLine2: body.addressLine2 ?? null,
      region: body.region ?? null,
      postalCode: body.postalCode ?? null,
    };
    const id = uuidv7(now);
    const audit = prepareAudit(c, { action: "venue.created", targetType: "venue", targetId: id, details: fields });
    const venue = await db.venues.create({ id, ...fields, createdBy: principalId(principal), createdAt: now }, audit);
    c.header("location", `/v1/venues/${id}`);
    c.header("etag", etagOf(venue.version));
    return c.json(toVenueDto(venue), 201);
  })
  .openapi(listVenues, async (c) => {
    const q = c.req.valid("query");
    const page = await tenantOf(c).db.venues.list({ limit: q.limit, cursor: decodeCursor(q.cursor) });
    return c.json({ items: page.items.map(toVenueDto), nextCursor: page.nextCursor }, 200);
  })
  .openapi(getVenue, async (c) => {
    const venue = await liveVenue(tenantOf(c).db, c.req.valid("param").venueId);
    c.header("etag", etagOf(venue.version));
    return c.json(toVenueDto(venue), 200);
  })
  .openapi(updateVenue, async (c) => {
    const { db } = tenantOf(c);
    const { venueId } = c.req.valid("param");
    const { version, ...patch } = c.req.valid("json");
    const expected = expectedVersion(c, version);
    const current = await liveVenue(db, venueId);
    if (current.version !== expected) throw staleVersion(c, current.version);
    const diff = changedFields(current, patch);
    let venue = current;
    if (diff) {
      const audit = prepareAudit(c, { action: "venue.updated", targetType: "venue", targetId: venueId, details: diff });
      const updated = await db.venues.update(venueId, expected, diff.after, audit.createdAt, audit);
      if (!updated) throw await refusal(c, db, venueId, expected);
      venue = updated;
    }
    c.header("etag", etagOf(venue.version));
    return c.json(toVenueDto(venue), 200);
  })
  .openapi(deleteVenue, async (c) => {
    const { db } = tenantOf(c);
    const { venueId } = c.req.valid("param");
    const expected = expectedVersion(c, c.req.valid("query").version);
    const current = await liveVenue(db, venueId);
    if (current.version !== expected) throw staleVersion(c, current.version);
    const live = await db.venues.liveEventCount(venueId);
    if (live > 0) throw liveEventsConflict(live);
    const audit = prepareAudit(c, { action: "venue.deleted", targetType: "venue", targetId: venueId, details: { name: current.name, version: expected } });
    if (!(await db.venues.softDelete(venueId, expected, audit.createdAt, audit))) throw await refusal(c, db, venueId, expected);
    return c.body(null, 204);
  })
  .openapi(listVenueAccess, async (c) => {
    const { db } = tenantOf(c);
    const { venueId } = c.req.valid("param");
    const q = c.req.valid("query");
    await liveVenue(db, venueId);
    const page = await db.venues.listAccess(venueId, { limit: q.limit, cursor: decodeCursor(q.cursor) });
    return c.json({ items: page.items.map(toVenueAccessDto), nextCursor: page.nextCursor }, 200);
  })
  .openapi(grantVenueAccess, async (c) => {
    const { principal, db } = tenantOf(c);
    const { venueId, userId } = c.req.valid("param");
    await liveVenue(db, venueId);
    const user = await db.users.findById(userId);
    if (!user) throw new AppError("NOT_FOUND", "No such user");
    if (user.role !== "organizer") {
      // Owners and admins have access everywhere; other roles do not run events.
      throw new AppError("VALIDATION_FAILED", `Only organizers can be granted venue access; this user is ${user.role === "admin" ? "an" : "a"} ${user.role}`, {
        errors: [{ field: "params.userId", message: "must be an organizer" }],
      });
    }
    const audit = prepareAudit(c, { action: "venue.access_granted", targetType: "venue", targetId: venueId, details: { userId } });
    await db.venues.grant(venueId, userId, principalId(principal), audit.createdAt, audit);
    return c.body(null, 204);
  })
  .openapi(revokeVenueAccess, async (c) => {
    const { db } = tenantOf(c);
    const { venueId, userId } = c.req.valid("param");
    await liveVenue(db, venueId);
    if (!(await db.users.findById(userId))) throw new AppError("NOT_FOUND", "No such user");
    const audit = prepareAudit(c, { action: "venue.access_revoked", targetType: "venue", targetId: venueId, details: { userId } });
    await db.venues.revoke(venueId, userId, audit);
    return c.body(null, 204);
  });
