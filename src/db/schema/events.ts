import { sql } from "drizzle-orm";
import { check, foreignKey, index, integer, primaryKey, sqliteTable, text, unique, uniqueIndex } from "drizzle-orm/sqlite-core";
import { inList } from "./checks";
import { tenants, users } from "./identity";

export const EVENT_STATUSES = [
  "DRAFT",
  "REVIEW",
  "APPROVED",
  "PUBLISHED",
  "ON_SALE",
  "SALES_PAUSED",
  "SOLD_OUT",
  "IN_PROGRESS",
  "COMPLETED",
  "CANCELLED",
  "POSTPONED",
  "RESCHEDULED",
] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
export const VISIBILITIES = ["PUBLIC", "UNLISTED", "PRIVATE"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export const venues = sqliteTable(
  "venues",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    addressLine1: text("address_line1").notNull(),
    addressLine2: text("address_line2"),
    city: text("city").notNull(),
    region: text("region"),
    postalCode: text("postal_code"),
    country: text("country").notNull(),
    timezone: text("timezone").notNull(),
    capacity: integer("capacity").notNull(),
    createdBy: text("created_by").notNull(),
    version: integer("version").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    unique("venues_tenant_id_unique").on(t.tenantId, t.id),
    index("venues_tenant_idx").on(t.tenantId, t.createdAt, t.id),
    check("venues_capacity_check", sql`${t.capacity} > 0 and ${t.capacity} <= 1000000`),
    check("venues_country_check", sql`length(${t.country}) = 2 and ${t.country} = upper(${t.country})`),
    check("venues_name_check", sql`length(${t.name}) between 1 and 200`),
    check("venues_version_check", sql`${t.version} >= 1`),
  ],
);

/** Organizers allowed to run events at a venue (owners and admins always may). */
export const venueAccess = sqliteTable(
  "venue_access",
  {
    tenantId: text("tenant_id").notNull(),
    venueId: text("venue_id").notNull(),
    userId: text("user_id").notNull(),
    grantedBy: text("granted_by").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.venueId, t.userId] }),
    index("venue_access_user_idx").on(t.tenantId, t.userId),
    foreignKey({ columns: [t.tenantId, t.venueId], foreignColumns: [venues.tenantId, venues.id] }).onDelete("cascade"),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete("cascade"),
  ],
);

export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    venueId: text("venue_id").notNull(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    shortDescription: text("short_description"),
    status: text("status", { enum: EVENT_STATUSES }).notNull().default("DRAFT"),
    statusReason: text("status_reason"),
    statusChangedBy: text("status_changed_by"),
    statusChangedAt: integer("status_changed_at"),
    visibility: text("visibility", { enum: VISIBILITIES }).notNull().default("PUBLIC"),
    isFeatured: integer("is_featured", { mode: "boolean" }).notNull().default(false),
    priorityScore: integer("priority_score").notNull().default(0),
    bannerImageUrl: text("banner_image_url"),
    thumbnailImageUrl: text("thumbnail_image_url"),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    primaryCategoryId: text("primary_category_id"),
    ageRestriction: integer("age_restriction"),
    dressCode: text("dress_code"),
    cancellationPolicy: text("cancellation_policy"),
    refundPolicy: text("refund_policy"),
    metaTitle: text("meta_title"),
    metaDescription: text("meta_description"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    timezone: text("timezone").notNull(),
    startsAt: integer("starts_at").notNull(),
    endsAt: integer("ends_at").notNull(),
    doorsOpenAt: integer("doors_open_at"),
    salesStartAt: integer("sales_start_at"),
    salesEndAt: integer("sales_end_at"),
    royaltyBps: integer("royalty_bps").notNull().default(0),
    /** Whether holders may transfer their tickets to someone else. */
    allowTransfers: integer("allow_transfers", { mode: "boolean" }).notNull().default(true),
    version: integer("version").notNull().default(1),
    // Id of the audit entry written with the last change; lets the audit insert in the
    // same batch check that *its* update won (see EventsRepo.update).
    lastChangeId: text("last_change_id"),
    // events.version last confirmed by the event's EventInventory DO (gate pushed). The
    // cron re-pushes every event where this lags `version`, however old the change.
    gateVersion: integer("gate_version"),
    createdBy: text("created_by").notNull(),
    updatedBy: text("updated_by"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    unique("events_tenant_id_unique").on(t.tenantId, t.id),
    // Slugs are unique per venue among live events; a deleted event frees its slug.
    uniqueIndex("events_venue_slug_unique").on(t.tenantId, t.venueId, t.slug).where(sql`deleted_at is null`),
    index("events_tenant_start_idx").on(t.tenantId, t.startsAt, t.id),
    index("events_status_due_idx").on(t.status, t.salesStartAt, t.startsAt, t.endsAt),
    index("events_updated_idx").on(t.updatedAt),
    index("events_gate_lag_idx")
      .on(t.id)
      .where(sql`deleted_at is null and (gate_version is null or gate_version < version)`),
    foreignKey({ columns: [t.tenantId, t.venueId], foreignColumns: [venues.tenantId, venues.id] }),
    check("events_status_check", inList("status", EVENT_STATUSES)),
    check("events_visibility_check", inList("visibility", VISIBILITIES)),
    check("events_name_check", sql`length(${t.name}) between 1 and 300`),
    check("events_slug_check", sql`length(${t.slug}) between 1 and 120`),
    check("events_schedule_check", sql`${t.endsAt} > ${t.startsAt}`),
    check("events_doors_check", sql`${t.doorsOpenAt} is null or ${t.doorsOpenAt} <= ${t.startsAt}`),
    check(
      "events_sales_window_check",
      sql`${t.salesStartAt} is null or ${t.salesEndAt} is null or ${t.salesEndAt} > ${t.salesStartAt}`,
    ),
    check("events_sales_end_check", sql`${t.salesEndAt} is null or ${t.salesEndAt} <= ${t.endsAt}`),
    check("events_royalty_check", sql`${t.royaltyBps} between 0 and 10000`),
    check("events_age_check", sql`${t.ageRestriction} is null or ${t.ageRestriction} between 0 and 100`),
    check("events_priority_check", sql`${t.priorityScore} between 0 and 1000`),
    check("events_version_check", sql`${t.version} >= 1`),
    check("events_tags_check", sql`json_valid(${t.tags}) and json_array_length(${t.tags}) <= 20`),
    check("events_metadata_check", sql`json_valid(${t.metadata}) and length(${t.metadata}) <= 8192`),
  ],
);

/**
 * D1 outbox: messages committed in the same batch as the change that causes them and
 * sent to their queue afterwards (right after the response, and by the cron for
 * stragglers). Consumers dedupe on the message id, so a resend is harmless.
 */
export const OUTBOX_TOPICS = ["notifications"] as const;
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    topic: text("topic", { enum: OUTBOX_TOPICS }).notNull(),
    body: text("body", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    sentAt: integer("sent_at"),
  },
  (t) => [
    index("outbox_pending_idx").on(t.sentAt, t.createdAt),
    check("outbox_topic_check", inList("topic", OUTBOX_TOPICS)),
    check("outbox_body_check", sql`json_valid(${t.body})`),
  ],
);

/**
 * Domain events the notification consumer has processed, one row per outbox message:
 * the consumer dedupes on `outbox_id`, so a message sent twice (a drain that crashed
 * after sending, two drains racing) is acted on once.
 */
export const EVENT_NOTIFICATION_KINDS = ["event.status_changed"] as const;
export const eventNotifications = sqliteTable(
  "event_notifications",
  {
    outboxId: text("outbox_id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    kind: text("kind", { enum: EVENT_NOTIFICATION_KINDS }).notNull(),
    toStatus: text("to_status", { enum: EVENT_STATUSES }).notNull(),
    /** Ticket holders told (0 until tickets exist). */
    recipients: integer("recipients").notNull(),
    processedAt: integer("processed_at").notNull(),
  },
  (t) => [
    index("event_notifications_event_idx").on(t.tenantId, t.eventId, t.processedAt),
    foreignKey({ columns: [t.tenantId, t.eventId], foreignColumns: [events.tenantId, events.id] }),
    check("event_notifications_kind_check", inList("kind", EVENT_NOTIFICATION_KINDS)),
    check("event_notifications_to_status_check", inList("to_status", EVENT_STATUSES)),
    check("event_notifications_recipients_check", sql`${t.recipients} >= 0`),
  ],
);


export type VenueRow = typeof venues.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type EventNotificationRow = typeof eventNotifications.$inferSelect;
