import { createRoute, z } from "@hono/zod-openapi";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import { decodeCursor } from "../../../src/db/pagination";
import type { Role } from "../../../src/db/schema";
import { createEvent, deleteEvent, editEvent, eventHistory, findEvent } from "../../../src/domain/event-writes";
import { etagOf } from "../../../src/http/preconditions";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { IdParam, IfMatchHeader, pageOf } from "../../../src/schemas/common";
import { EventHistoryEntry, EventHistoryQuery, toHistoryDto } from "../../../src/schemas/event-history";
import { CreateEventBody, Event, EventListQuery, PatchEventBody, ReplaceEventBody, toEventDto } from "../../../src/schemas/events";

const tags = ["Events"];
/** Staff see every event of their tenant; editing needs one of the event-running roles. */
const STAFF: readonly Role[] = ["owner", "admin", "organizer", "scanner"];
const EDITORS: readonly Role[] = ["owner", "admin", "organizer"];
const read = guard({ roles: STAFF, scopes: ["events:read"] });
const write = guard({ roles: EDITORS, scopes: ["events:write"] });

const EventIdParams = z.strictObject({ eventId: IdParam("eventId") });
/** DELETE has no body: the version comes from If-Match or this query parameter (as for venues). */
const DeleteEventQuery = z.strictObject({
  version: z.coerce.number().int().min(1).max(1_000_000_000).optional().openapi({ description: "The version being deleted (alternative to If-Match)" }),
});
const etag = { ETag: { description: 'The version as a strong ETag, e.g. "v3"; send it back in If-Match', schema: { type: "string" as const } } };
const withEtag = <T extends z.ZodType>(schema: T, description: string) => ({ ...jsonContent(schema, description), headers: etag });
const VERSION_ERRORS = ["PRECONDITION_REQUIRED", "PRECONDITION_FAILED", "VERSION_CONFLICT"] as const;

export const createEventRoute = createRoute({
  method: "post",
  path: "/v1/events",
  tags,
  security: bearerAuth,
  summary: "Create an event (as DRAFT)",
  description:
    "The venue must exist in the tenant; organizers need access to it. Without a slug, one is generated from the name " +
    "(name, name-2, ...); a slug given explicitly that is already used at the venue answers 409 SLUG_TAKEN.",
  middleware: write,
  request: { body: jsonBody(CreateEventBody) },
  responses: {
    201: { ...withEtag(Event, "Created"), headers: { ...etag, Location: { description: "The event's URL", schema: { type: "string" as const } } } },
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "VENUE_ACCESS_DENIED", "SLUG_TAKEN"),
  },
});

export const listEventsRoute = createRoute({
  method: "get",
  path: "/v1/events",
  tags,
  security: bearerAuth,
  summary: "List the tenant's events by start time",
  middleware: read,
  request: { query: EventListQuery },
  responses: { 200: jsonContent(pageOf(Event, "EventPage"), "A page of events, ordered by (startsAt, id)"), ...errorResponses(...AUTH_ERRORS) },
});

export const getEventRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}",
  tags,
  security: bearerAuth,
  summary: "Get one event",
  middleware: read,
  request: { params: EventIdParams },
  responses: { 200: withEtag(Event, "The event"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

const EDIT_ERRORS = [
  ...AUTH_ERRORS,
  ...BODY_ERRORS,
  ...VERSION_ERRORS,
  "NOT_FOUND",
  "VENUE_ACCESS_DENIED",
  "SLUG_TAKEN",
  "CONFLICT",
  "SCHEDULE_LOCKED",
  "PROTECTED_FIELD",
  "DEPENDENCY_UNAVAILABLE",
] as const;
const editDescription =
  "Send If-Match (or `version`); a stale one answers 412 (If-Match) or 409 VERSION_CONFLICT (version) with `currentVersion`. " +
  "Only the creator, tenant admins and organizers with access to the venue may edit; COMPLETED and CANCELLED events cannot be edited " +
  "(409 CONFLICT). Status changes go through POST /v1/events/{eventId}/status. Once published (until postponed), venue, times and " +
  "time zone change only through a reschedule (409 SCHEDULE_LOCKED). Sold-ticket protection: once tickets are sold (as the event's " +
  "inventory counts them), a change of venueId, startsAt, endsAt, doorsOpenAt or timezone is refused with 409 PROTECTED_FIELD " +
  "listing the `fields`, unless a tenant owner or admin sends `override: { reason }` (10-500 characters): the change is then audited " +
  "as event.protected_override (fields, reason, before/after) and every ticket holder is emailed. An override from anyone else is " +
  "403 FORBIDDEN; it is ignored when nothing protected changes. 503 DEPENDENCY_UNAVAILABLE when the inventory cannot say what is " +
  "sold (nothing is changed).";

export const replaceEventRoute = createRoute({
  method: "put",
  path: "/v1/events/{eventId}",
  tags,
  security: bearerAuth,
  summary: "Replace an event's editable fields",
  description: `${editDescription} Omitted optional fields go back to their defaults (the time zone to the venue's); an omitted slug stays.`,
  middleware: write,
  request: { params: EventIdParams, headers: IfMatchHeader, body: jsonBody(ReplaceEventBody) },
  responses: { 200: withEtag(Event, "The updated event"), ...errorResponses(...EDIT_ERRORS) },
});

export const patchEventRoute = createRoute({
  method: "patch",
  path: "/v1/events/{eventId}",
  tags,
  security: bearerAuth,
  summary: "Change some of an event's fields",
  description: `${editDescription} Only the fields present change.`,
  middleware: write,
  request: { params: EventIdParams, headers: IfMatchHeader, body: jsonBody(PatchEventBody) },
  responses: { 200: withEtag(Event, "The updated event"), ...errorResponses(...EDIT_ERRORS) },
});

export const deleteEventRoute = createRoute({
  method: "delete",
  path: "/v1/events/{eventId}",
  tags,
  security: bearerAuth,
  summary: "Delete an event (soft: its history stays readable by tenant admins)",
  description:
    "Tenant admins, the event's creator and keys with events:write. Send If-Match or `?version=`. The event's inventory " +
    "must hold its current sales gate first (pushed here if an earlier push failed): when it cannot be reached, 503 " +
    "DEPENDENCY_UNAVAILABLE and nothing is deleted.",
  middleware: write,
  request: { params: EventIdParams, headers: IfMatchHeader, query: DeleteEventQuery },
  responses: { 204: { description: "Deleted" }, ...errorResponses(...AUTH_ERRORS, ...VERSION_ERRORS, "NOT_FOUND", "DEPENDENCY_UNAVAILABLE") },
});

export const eventHistoryRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/history",
  tags,
  security: bearerAuth,
  summary: "An event's history, newest first",
  description:
    "Creation, every update with a before/after diff of the changed fields, status changes and deletion. The history of a " +
    "deleted event stays readable by those who may read the tenant's audit log (owners, admins, keys with audit:read); to others it is 404.",
  middleware: read,
  request: { params: EventIdParams, query: EventHistoryQuery },
  responses: { 200: jsonContent(pageOf(EventHistoryEntry, "EventHistoryPage"), "A page of history entries"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const eventRoutes = createRouter()
  .openapi(createEventRoute, async (c) => {
    const row = await createEvent(c, c.req.valid("json"));
    c.header("location", `/v1/events/${row.id}`);
    c.header("etag", etagOf(row.version));
    return c.json(toEventDto(row), 201);
  })
  .openapi(listEventsRoute, async (c) => {
    const q = c.req.valid("query");
    const from = q.from === undefined ? undefined : Date.parse(q.from);
    const to = q.to === undefined ? undefined : Date.parse(q.to);
    if (from !== undefined && to !== undefined && to < from) {
      throw new AppError("VALIDATION_FAILED", "`to` is before `from`", { errors: [{ field: "query.to", message: "must not be before from" }] });
    }
    const page = await tenantOf(c).db.events.list({ ...q, from, to, cursor: decodeCursor(q.cursor) });
    return c.json({ items: page.items.map(toEventDto), nextCursor: page.nextCursor }, 200);
  })
  .openapi(getEventRoute, async (c) => {
    const row = await findEvent(tenantOf(c).db, c.req.valid("param").eventId);
    c.header("etag", etagOf(row.version));
    return c.json(toEventDto(row), 200);
  })
  .openapi(replaceEventRoute, async (c) => {
    const row = await editEvent(c, c.req.valid("param").eventId, { kind: "replace", body: c.req.valid("json") });
    c.header("etag", etagOf(row.version));
    return c.json(toEventDto(row), 200);
  })
  .openapi(patchEventRoute, async (c) => {
    const row = await editEvent(c, c.req.valid("param").eventId, { kind: "patch", body: c.req.valid("json") });
    c.header("etag", etagOf(row.version));
    return c.json(toEventDto(row), 200);
  })
  .openapi(deleteEventRoute, async (c) => {
    await deleteEvent(c, c.req.valid("param").eventId, c.req.valid("query").version);
    return c.body(null, 204);
  })
  .openapi(eventHistoryRoute, async (c) => {
    const q = c.req.valid("query");
    const page = await eventHistory(tenantOf(c), c.req.valid("param").eventId, decodeCursor(q.cursor), q.limit);
    return c.json({ items: page.items.map(toHistoryDto), nextCursor: page.nextCursor }, 200);
  });
