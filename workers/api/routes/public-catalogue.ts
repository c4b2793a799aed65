import { createRoute } from "@hono/zod-openapi";
import { decodeCursor } from "../../../src/db/pagination";
import { CatalogueRepo, type CatalogueTenant } from "../../../src/db/repositories/catalogue";
import { CLIENT_CACHE_CONTROL, edgeCachedJson, versionedCacheKey } from "../../../src/http/edge-cache";
import { AppError } from "../../../src/http/errors";
import { createRouter, errorResponses, jsonContent } from "../../../src/http/openapi";
import {
  CatalogueEventParams,
  CatalogueParams,
  CatalogueQuery,
  ConditionalHeaders,
  PublicEvent,
  PublicEventPage,
  toPublicEventDto,
} from "../../../src/schemas/public-catalogue";

const tags = ["Public catalogue"];

const cachingHeaders = {
  etag: { description: "Strong validator of the body; send it back as If-None-Match", schema: { type: "string" as const } },
  "cache-control": { description: `\`${CLIENT_CACHE_CONTROL}\`: revalidate every time, cheaply`, schema: { type: "string" as const } },
  "x-cache": { description: "HIT when served from the edge cache, MISS when read from the database", schema: { type: "string" as const, enum: ["HIT", "MISS"] } },
};
const CACHING =
  "Cached at the edge under a key that includes the tenant's catalogue version, which every event change bumps: " +
  "the first request after a change reads the database (X-Cache: MISS) and shows the change. " +
  "Supports If-None-Match (304). No authentication.";
const notModified = { 304: { description: "Not modified (If-None-Match matched the ETag)", headers: cachingHeaders } };

export const listPublicEvents = createRoute({
  method: "get",
  path: "/v1/public/{tenantSlug}/events",
  tags,
  summary: "A tenant's public catalogue: published, public, not yet ended events",
  description:
    "Events in a publicly listed state with PUBLIC visibility, ordered by (startsAt, id). By default only events that " +
    `have not ended; \`from\` replaces that lower bound. ${CACHING}`,
  request: { params: CatalogueParams, query: CatalogueQuery, headers: ConditionalHeaders },
  responses: {
    200: { ...jsonContent(PublicEventPage, "A page of public events"), headers: cachingHeaders },
    ...notModified,
    ...errorResponses("NOT_FOUND"),
  },
});

export const getPublicEvent = createRoute({
  method: "get",
  path: "/v1/public/{tenantSlug}/events/{eventId}",
  tags,
  summary: "One published event of a tenant, public or unlisted",
  description:
    "UNLISTED events are reachable here by id (a shared link) but never listed. Anything not published, private, " +
    `deleted or of another tenant is 404, exactly like a missing id. ${CACHING}`,
  request: { params: CatalogueEventParams, headers: ConditionalHeaders },
  responses: {
    200: { ...jsonContent(PublicEvent, "The event"), headers: cachingHeaders },
    ...notModified,
    ...errorResponses("NOT_FOUND"),
  },
});

/** Suspended and unknown tenants are the same 404. */
async function catalogueTenant(repo: CatalogueRepo, slug: string): Promise<CatalogueTenant> {
  const tenant = await repo.activeTenant(slug);
  if (!tenant) throw new AppError("NOT_FOUND", "No such catalogue");
  return tenant;
}

const epoch = (instant: string | undefined) => (instant === undefined ? undefined : Date.parse(instant));

export const publicCatalogueRoutes = createRouter()
  .openapi(listPublicEvents, async (c) => {
    const { tenantSlug } = c.req.valid("param");
    const q = c.req.valid("query");
    const cursor = decodeCursor(q.cursor);
    const repo = new CatalogueRepo(c.var.db);
    // The version is read before the events (see src/http/edge-cache.ts).
    const tenant = await catalogueTenant(repo, tenantSlug);
    const filters = { venueId: q.venueId, from: epoch(q.from), to: epoch(q.to), tag: q.tag, q: q.q, cursor, limit: q.limit };
    const key = versionedCacheKey(
      c.req.url,
      `/v1/public/${tenantSlug}/events`,
      { ...filters, cursor: q.cursor },
      tenant.catalogVersion,
    );
    return edgeCachedJson(c, key, async () => {
      const page = await repo.listEvents(tenant, filters, c.var.now());
      return { items: page.items.map(toPublicEventDto), nextCursor: page.nextCursor };
    });
  })
  .openapi(getPublicEvent, async (c) => {
    const { tenantSlug, eventId } = c.req.valid("param");
    const repo = new CatalogueRepo(c.var.db);
    const tenant = await catalogueTenant(repo, tenantSlug);
    const key = versionedCacheKey(c.req.url, `/v1/public/${tenantSlug}/events/${eventId}`, {}, tenant.catalogVersion);
    return edgeCachedJson(c, key, async () => {
      const event = await repo.findEvent(tenant, eventId);
      if (!event) throw new AppError("NOT_FOUND", "No such event");
      return toPublicEventDto(event);
    });
  });
