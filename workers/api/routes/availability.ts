import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { CatalogueRepo } from "../../../src/db/repositories/catalogue";
import type { AppEnv } from "../../../src/http/context";
import { AppError } from "../../../src/http/errors";
import { createRouter, errorResponses, jsonContent } from "../../../src/http/openapi";
import { inventoryOf, rpc } from "../../../src/inventory/client";
import type { TierAvailability } from "../../../src/inventory/contract";
import { inBackground } from "../../../src/http/background";
import { errorFields, log } from "../../../src/observability/logger";
import { CatalogueEventParams } from "../../../src/schemas/public-catalogue";

/**
 * Public availability: polled hard during an on-sale, so it is served from the data
 * centre's cache for at most AVAILABILITY_TTL_SECONDS. The key carries the time bucket
 * (now / TTL), so an entry can never outlive its bucket whatever the cache does with
 * max-age; a cache hit costs neither D1 nor the event's DO. The numbers come from the DO
 * (what is enforced), never from D1.
 */
export const AVAILABILITY_TTL_SECONDS = 2;
const CACHE_CONTROL = `public, max-age=${AVAILABILITY_TTL_SECONDS}`;
const KEY_FORMAT = "1";

export const TierAvailabilitySchema = z
  .object({
    tierId: z.string(),
    name: z.string(),
    available: z.number().int().min(0).openapi({ description: "Tickets neither held nor sold; never negative" }),
    soldOut: z.boolean(),
    onSale: z.boolean().openapi({ description: "The event is on sale and the tier's own sales window is open" }),
  })
  .openapi("TierAvailability");

export const Availability = z
  .object({
    eventId: z.string(),
    items: z.array(TierAvailabilitySchema),
    asOf: z.string().openapi({ description: "When these numbers were read (up to a couple of seconds ago)" }),
  })
  .openapi("Availability");

export const availabilityRoute = createRoute({
  method: "get",
  path: "/v1/public/{tenantSlug}/events/{eventId}/availability",
  tags: ["Public catalogue"],
  summary: "Tickets left per tier of a published event",
  description:
    `No authentication. Cached for up to ${AVAILABILITY_TTL_SECONDS} seconds at the edge and in clients ` +
    `(\`Cache-Control: ${CACHE_CONTROL}\`), so polling it during an on-sale is cheap. Unpublished, private, deleted and foreign ` +
    "events are 404, like missing ones.",
  request: { params: CatalogueEventParams },
  responses: {
    200: {
      ...jsonContent(Availability, "Availability per tier"),
      headers: {
        "cache-control": { description: `\`${CACHE_CONTROL}\``, schema: { type: "string" as const } },
        "x-cache": { description: "HIT when served from the edge cache", schema: { type: "string" as const, enum: ["HIT", "MISS"] } },
      },
    },
    ...errorResponses("NOT_FOUND", "DEPENDENCY_UNAVAILABLE"),
  },
});

function cacheKey(c: Context<AppEnv>, tenantSlug: string, eventId: string, now: number): Request {
  const url = new URL(`/v1/public/${tenantSlug}/events/${eventId}/availability`, new URL(c.req.url).origin);
  url.search = new URLSearchParams({ _b: String(Math.floor(now / (AVAILABILITY_TTL_SECONDS * 1000))), _kf: KEY_FORMAT }).toString();
  return new Request(url.toString(), { method: "GET" });
}

type AvailabilityDto = z.infer<typeof Availability>;

const respond = (c: Context<AppEnv>, body: AvailabilityDto, state: "HIT" | "MISS") =>
  c.json(body, 200, { "cache-control": CACHE_CONTROL, "x-cache": state });

export const availabilityRoutes = createRouter().openapi(availabilityRoute, async (c) => {
  const { tenantSlug, eventId } = c.req.valid("param");
  const now = c.var.now();
  const key = cacheKey(c, tenantSlug, eventId, now);
  const cache = caches.default;
  try {
    const hit = await cache.match(key);
    if (hit) return respond(c, (await hit.json()) as AvailabilityDto, "HIT");
  } catch (err) {
    log("warn", "edge cache read failed; reading availability afresh", { key: key.url, requestId: c.var.requestId, ...errorFields(err) });
  }

  const repo = new CatalogueRepo(c.var.db);
  const tenant = await repo.activeTenant(tenantSlug);
  const event = tenant && (await repo.findEvent(tenant, eventId));
  if (!tenant || !event) throw new AppError("NOT_FOUND", "No such event");
  // The event was found in the active tenant the public slug names.
  const inventory = inventoryOf(c.var.config.EVENT_INVENTORY, tenant.id, event.id);
  const tiers = await rpc<TierAvailability[]>("availability", inventory.availability(now));
  const body: AvailabilityDto = {
    eventId: event.id,
    items: tiers.map((t) => ({ tierId: t.tierId, name: t.name, available: Math.max(0, t.available), soldOut: t.soldOut, onSale: t.onSale })),
    asOf: new Date(now).toISOString(),
  };
  const stored = new Response(JSON.stringify(body), { headers: { "content-type": "application/json", "cache-control": CACHE_CONTROL } });
  await inBackground(
    c,
    cache.put(key, stored).catch((err: unknown) => {
      log("warn", "edge cache write failed", { key: key.url, requestId: c.var.requestId, ...errorFields(err) });
    }),
  );
  return respond(c, body, "MISS");
});
