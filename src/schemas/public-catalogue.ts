import { z } from "@hono/zod-openapi";
import type { PublicEventRow } from "../db/repositories/catalogue";
import type { EventStatus } from "../db/schema";
import { PUBLICLY_LISTED } from "../domain/event-status";
import { UUID_PATTERN } from "../lib/ids";
import { iso, pageOf, PageQuery, TenantSlug } from "./common";
import { EventListQuery } from "./events";

export const CatalogueParams = z.strictObject({
  tenantSlug: TenantSlug.openapi({ param: { name: "tenantSlug", in: "path" } }),
});

export const CatalogueEventParams = CatalogueParams.extend({
  eventId: z
    .string()
    .regex(UUID_PATTERN, "must be a lowercase UUID")
    .openapi({ param: { name: "eventId", in: "path" }, example: "01938a3c-6f1e-7c2a-9d4b-2f5e8a7c1b3d" }),
});

/** Not strict: other request headers are none of our business. */
export const ConditionalHeaders = z.object({
  "if-none-match": z
    .string()
    .max(2048)
    .optional()
    .openapi({ description: "ETags from earlier answers; a match answers 304 without a body" }),
});

const F = EventListQuery.shape;

/**
 * Strict on purpose beyond validation: an unknown parameter is a 400, so made-up query
 * strings cannot fan the edge cache out into entries nobody else shares.
 */
export const CatalogueQuery = PageQuery.extend({
  venueId: F.venueId,
  from: F.from.openapi({ description: "Events starting at or after (replaces the default: events not yet ended)" }),
  to: F.to,
  tag: F.tag,
  q: F.q,
}).refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) <= Date.parse(q.to), {
  message: "from must not be after to",
  path: ["to"],
});
export type CatalogueQuery = z.infer<typeof CatalogueQuery>;

/**
 * What the public sees of an event: no authorship (createdBy, statusChangedBy), no staff
 * notes (statusReason), no metadata, versions, visibility, ranking or royalty terms.
 * Venue details are deliberately *not* embedded: a venue write does not bump the
 * catalogue version, so embedded venue data could be served stale from the edge.
 */
export const PublicEvent = z
  .object({
    id: z.string(),
    venueId: z.string(),
    slug: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    shortDescription: z.string().nullable(),
    status: z.enum(PUBLICLY_LISTED as unknown as [EventStatus, ...EventStatus[]]),
    isFeatured: z.boolean(),
    bannerImageUrl: z.string().nullable(),
    thumbnailImageUrl: z.string().nullable(),
    tags: z.array(z.string()),
    primaryCategoryId: z.string().nullable(),
    ageRestriction: z.number().int().nullable(),
    dressCode: z.string().nullable(),
    cancellationPolicy: z.string().nullable(),
    refundPolicy: z.string().nullable(),
    metaTitle: z.string().nullable(),
    metaDescription: z.string().nullable(),
    timezone: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
    doorsOpenAt: z.string().nullable(),
    salesStartAt: z.string().nullable(),
    salesEndAt: z.string().nullable(),
  })
  .openapi("PublicEvent");
export type PublicEventDto = z.infer<typeof PublicEvent>;

export const PublicEventPage = pageOf(PublicEvent, "PublicEventPage");
export type PublicEventPageDto = z.infer<typeof PublicEventPage>;

/** The only way an event leaves the worker on a public route. */
export function toPublicEventDto(e: PublicEventRow): PublicEventDto {
  return {
    id: e.id,
    venueId: e.venueId,
    slug: e.slug,
    name: e.name,
    description: e.description,
    shortDescription: e.shortDescription,
    status: e.status,
    isFeatured: e.isFeatured,
    bannerImageUrl: e.bannerImageUrl,
    thumbnailImageUrl: e.thumbnailImageUrl,
    tags: e.tags,
    primaryCategoryId: e.primaryCategoryId,
    ageRestriction: e.ageRestriction,
    dressCode: e.dressCode,
    cancellationPolicy: e.cancellationPolicy,
    refundPolicy: e.refundPolicy,
    metaTitle: e.metaTitle,
    metaDescription: e.metaDescription,
    timezone: e.timezone,
    startsAt: iso(e.startsAt)!,
    endsAt: iso(e.endsAt)!,
    doorsOpenAt: iso(e.doorsOpenAt),
    salesStartAt: iso(e.salesStartAt),
    salesEndAt: iso(e.salesEndAt),
  };
}
