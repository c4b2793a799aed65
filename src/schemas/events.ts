import { z } from "@hono/zod-openapi";
import { EVENT_STATUSES, VISIBILITIES, type EventRow } from "../db/schema";
import { UUID_PATTERN } from "../lib/ids";
import { iso, PageQuery } from "./common";

/** IANA time zone name that the runtime's Intl knows. */
export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, "must be an IANA time zone, e.g. Europe/Berlin")
  .openapi({ example: "Europe/Berlin" });

const HttpsUrl = z
  .string()
  .max(2000)
  .url()
  .refine((u) => u.startsWith("https://"), "must be an https URL");

const Uuid = z.string().regex(UUID_PATTERN, "must be a lowercase UUID");
const Instant = z.string().datetime({ offset: true }).openapi({ example: "2027-03-01T19:30:00Z" });
export const Slug = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and inner hyphens only");

const Tag = z.string().trim().min(1).max(50);
const Metadata = z
  .record(z.string().min(1).max(64), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .refine((m) => Object.keys(m).length <= 50, "at most 50 keys")
  .refine((m) => JSON.stringify(m).length <= 8192, "at most 8 KiB when serialised");

/**
 * Editable fields and limits (seed 002's table, plus schedule, sales window and
 * royalty). Nullable fields accept null to clear them.
 */
export const eventFieldShape = {
  name: z.string().trim().min(1).max(300),
  slug: Slug,
  description: z.string().max(10000).nullable(),
  shortDescription: z.string().max(500).nullable(),
  venueId: Uuid,
  visibility: z.enum(VISIBILITIES),
  isFeatured: z.boolean(),
  allowTransfers: z.boolean().openapi({ description: "Whether holders may transfer their tickets (default true)" }),
  priorityScore: z.number().int().min(0).max(1000),
  bannerImageUrl: HttpsUrl.nullable(),
  thumbnailImageUrl: HttpsUrl.nullable(),
  tags: z.array(Tag).max(20).refine((t) => new Set(t).size === t.length, "tags must be unique"),
  primaryCategoryId: Uuid.nullable(),
  ageRestriction: z.number().int().min(0).max(100).nullable(),
  dressCode: z.string().max(100).nullable(),
  cancellationPolicy: z.string().max(5000).nullable(),
  refundPolicy: z.string().max(5000).nullable(),
  metaTitle: z.string().max(70).nullable(),
  metaDescription: z.string().max(160).nullable(),
  metadata: Metadata,
  timezone: TimeZone,
  startsAt: Instant,
  endsAt: Instant,
  doorsOpenAt: Instant.nullable(),
  salesStartAt: Instant.nullable(),
  salesEndAt: Instant.nullable(),
  royaltyBps: z.number().int().min(0).max(10000).openapi({ description: "Resale royalty in basis points (0-10000 = 0-100%)" }),
};

const F = eventFieldShape;

/**
 * Sold-ticket protection override (src/protection): lets a tenant owner or admin change a
 * protected field after tickets are sold. Audited with the reason, and ticket holders are told.
 */
export const ProtectionOverride = z
  .strictObject({
    reason: z.string().trim().min(10).max(500).openapi({ example: "The venue's roof failed inspection; moving next door" }),
  })
  .openapi("ProtectionOverride", {
    description:
      "Owners and admins only (anyone else: 403 FORBIDDEN, whether or not it was needed). Needed to change what buyers paid for " +
      "once tickets are sold (otherwise 409 PROTECTED_FIELD); audited as *.protected_override with the reason, and the holders " +
      "are emailed. Ignored when nothing protected changes.",
  });

const VersionField = z.number().int().min(1).max(1_000_000_000).optional().openapi({
  description: "The version being updated (alternative to If-Match)",
});

export const CreateEventBody = z
  .strictObject({
    name: F.name,
    venueId: F.venueId,
    startsAt: F.startsAt,
    endsAt: F.endsAt,
    slug: F.slug.optional(),
    timezone: F.timezone.optional().openapi({ description: "Defaults to the venue's time zone" }),
    description: F.description.optional(),
    shortDescription: F.shortDescription.optional(),
    visibility: F.visibility.optional(),
    isFeatured: F.isFeatured.optional(),
    allowTransfers: F.allowTransfers.optional(),
    priorityScore: F.priorityScore.optional(),
    bannerImageUrl: F.bannerImageUrl.optional(),
    thumbnailImageUrl: F.thumbnailImageUrl.optional(),
    tags: F.tags.optional(),
    primaryCategoryId: F.primaryCategoryId.optional(),
    ageRestriction: F.ageRestriction.optional(),
    dressCode: F.dressCode.optional(),
    cancellationPolicy: F.cancellationPolicy.optional(),
    refundPolicy: F.refundPolicy.optional(),
    metaTitle: F.metaTitle.optional(),
    metaDescription: F.metaDescription.optional(),
    metadata: F.metadata.optional(),
    doorsOpenAt: F.doorsOpenAt.optional(),
    salesStartAt: F.salesStartAt.optional(),
    salesEndAt: F.salesEndAt.optional(),
    royaltyBps: F.royaltyBps.optional(),
  })
  .openapi("CreateEvent");

/**
 * PUT replaces the editable representation: omitted optional fields reset to their defaults.
 * Built from the shape rather than with `.extend()`: extending a registered schema renders
 * as allOf[CreateEvent, {version}], and two strict objects under allOf admit no body at all.
 */
export const ReplaceEventBody = z
  .strictObject({ ...CreateEventBody.shape, version: VersionField, override: ProtectionOverride.optional() })
  .openapi("ReplaceEvent");

/** PATCH changes only the fields present. */
export const PatchEventBody = z
  .strictObject({
    ...Object.fromEntries(Object.entries(F).map(([k, v]) => [k, (v as z.ZodType).optional()])),
    version: VersionField,
    override: ProtectionOverride.optional(),
  } as { [K in keyof typeof F]: z.ZodOptional<(typeof F)[K]> } & { version: typeof VersionField; override: z.ZodOptional<typeof ProtectionOverride> })
  .refine((b) => Object.keys(b).some((k) => k !== "version" && k !== "override"), "send at least one field to change")
  .openapi("PatchEvent");

export const StatusChangeBody = z
  .strictObject({
    to: z.enum(EVENT_STATUSES),
    reason: z.string().trim().min(3).max(500),
    version: VersionField,
    /** Required when moving to RESCHEDULED: the new schedule. */
    schedule: z
      .strictObject({ startsAt: F.startsAt, endsAt: F.endsAt, doorsOpenAt: F.doorsOpenAt.optional() })
      .optional(),
    /** Only with RESCHEDULED: reschedules an event with sold tickets (owners and admins). */
    override: ProtectionOverride.optional(),
  })
  .openapi("EventStatusChange");

export const EventListQuery = PageQuery.extend({
  status: z.enum(EVENT_STATUSES).optional(),
  venueId: Uuid.optional(),
  from: Instant.optional().openapi({ description: "Events starting at or after" }),
  to: Instant.optional().openapi({ description: "Events starting at or before" }),
  tag: Tag.optional(),
  q: z.string().trim().min(1).max(100).optional().openapi({ description: "Text contained in the name" }),
});

export const Event = z
  .object({
    id: z.string(),
    venueId: z.string(),
    slug: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    shortDescription: z.string().nullable(),
    status: z.enum(EVENT_STATUSES),
    statusReason: z.string().nullable(),
    statusChangedBy: z.string().nullable(),
    statusChangedAt: z.string().nullable(),
    visibility: z.enum(VISIBILITIES),
    isFeatured: z.boolean(),
    allowTransfers: z.boolean(),
    priorityScore: z.number().int(),
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
    metadata: z.record(z.string(), z.unknown()),
    timezone: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
    doorsOpenAt: z.string().nullable(),
    salesStartAt: z.string().nullable(),
    salesEndAt: z.string().nullable(),
    royaltyBps: z.number().int(),
    version: z.number().int(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Event");
export type EventDto = z.infer<typeof Event>;

/** The only way an event row leaves the worker. */
export function toEventDto(e: EventRow): EventDto {
  return {
    id: e.id,
    venueId: e.venueId,
    slug: e.slug,
    name: e.name,
    description: e.description,
    shortDescription: e.shortDescription,
    status: e.status,
    statusReason: e.statusReason,
    statusChangedBy: e.statusChangedBy,
    statusChangedAt: iso(e.statusChangedAt),
    visibility: e.visibility,
    isFeatured: e.isFeatured,
    allowTransfers: e.allowTransfers,
    priorityScore: e.priorityScore,
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
    metadata: e.metadata,
    timezone: e.timezone,
    startsAt: iso(e.startsAt)!,
    endsAt: iso(e.endsAt)!,
    doorsOpenAt: iso(e.doorsOpenAt),
    salesStartAt: iso(e.salesStartAt),
    salesEndAt: iso(e.salesEndAt),
    royaltyBps: e.royaltyBps,
    version: e.version,
    createdBy: e.createdBy,
    createdAt: iso(e.createdAt)!,
    updatedAt: iso(e.updatedAt)!,
  };
}
