import { sql } from "drizzle-orm";
import {
  check,
  foreignKey,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  unique,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

// Times are integer epoch milliseconds. Every table below `tenants` carries
// tenant_id, and child rows point at their parent through (tenant_id, id) so a
// row can never reference a parent that belongs to another tenant.

export const ROLES = ["owner", "admin", "organizer", "scanner", "customer"] as const;
export type Role = (typeof ROLES)[number];

export const TENANT_STATUSES = ["active", "suspended"] as const;
export const USER_STATUSES = ["active", "banned"] as const;
export const ONE_TIME_TOKEN_PURPOSES = ["verify_email", "password_reset"] as const;
export const ACTOR_TYPES = ["platform", "user", "api_key", "system", "anonymous"] as const;

const inList = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(", ")})`);

export const tenants = sqliteTable(
  "tenants",
  {
    id: text("id").primaryKey(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    status: text("status", { enum: TENANT_STATUSES }).notNull().default("active"),
    suspendedReason: text("suspended_reason"),
    suspendedAt: integer("suspended_at"),
    // Bumped with every change to the tenant's events; part of the public catalogue's
    // edge-cache key, so a change is visible everywhere at once (see routes/public-catalogue.ts).
    catalogVersion: integer("catalog_version").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("tenants_slug_unique").on(t.slug),
    check("tenants_status_check", inList("status", TENANT_STATUSES)),
    check("tenants_slug_check", sql`length(${t.slug}) between 3 and 63`),
    check("tenants_name_check", sql`length(${t.name}) between 1 and 200`),
  ],
);

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    status: text("status", { enum: USER_STATUSES }).notNull().default("active"),
    // Bumped whenever every outstanding access token of the user must die
    // (password change/reset); access tokens carry the value they were issued with.
    tokenVersion: integer("token_version").notNull().default(0),
    emailVerifiedAt: integer("email_verified_at"),
    bannedAt: integer("banned_at"),
    bannedReason: text("banned_reason"),
    lastLoginAt: integer("last_login_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    unique("users_tenant_email_unique").on(t.tenantId, t.email),
    unique("users_tenant_id_unique").on(t.tenantId, t.id),
    check("users_role_check", inList("role", ROLES)),
    check("users_status_check", inList("status", USER_STATUSES)),
    check("users_email_check", sql`length(${t.email}) between 3 and 254 and ${t.email} = lower(${t.email})`),
    check("users_token_version_check", sql`${t.tokenVersion} >= 0`),
  ],
);

export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    userId: text("user_id").notNull(),
    // All tokens descending from one login share a family; reuse of a rotated
    // token revokes the family.
    familyId: text("family_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    replacedBy: text("replaced_by"),
    revokedAt: integer("revoked_at"),
    revokedReason: text("revoked_reason"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_unique").on(t.tokenHash),
    index("refresh_tokens_family_idx").on(t.tenantId, t.familyId),
    index("refresh_tokens_user_idx").on(t.tenantId, t.userId),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete("cascade"),
    check("refresh_tokens_expiry_check", sql`${t.expiresAt} > ${t.createdAt}`),
  ],
);

export const oneTimeTokens = sqliteTable(
  "one_time_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    userId: text("user_id").notNull(),
    purpose: text("purpose", { enum: ONE_TIME_TOKEN_PURPOSES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("one_time_tokens_hash_unique").on(t.tokenHash),
    index("one_time_tokens_user_idx").on(t.tenantId, t.userId, t.purpose),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete("cascade"),
    check("one_time_tokens_purpose_check", inList("purpose", ONE_TIME_TOKEN_PURPOSES)),
    check("one_time_tokens_expiry_check", sql`${t.expiresAt} > ${t.createdAt}`),
  ],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // Public, unique part of the key, shown in listings so a leaked key can be identified.
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    createdBy: text("created_by").notNull(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
    lastUsedAt: integer("last_used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("api_keys_prefix_unique").on(t.prefix),
    index("api_keys_tenant_idx").on(t.tenantId, t.createdAt),
    check("api_keys_name_check", sql`length(${t.name}) between 1 and 100`),
    check("api_keys_scopes_check", sql`json_valid(${t.scopes}) and json_array_length(${t.scopes}) > 0`),
    check("api_keys_expiry_check", sql`${t.expiresAt} is null or ${t.expiresAt} > ${t.createdAt}`),
  ],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    actorType: text("actor_type", { enum: ACTOR_TYPES }).notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    requestId: text("request_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("audit_log_tenant_time_idx").on(t.tenantId, t.createdAt, t.id),
    index("audit_log_target_idx").on(t.tenantId, t.targetType, t.targetId, t.createdAt, t.id),
    check("audit_log_actor_type_check", inList("actor_type", ACTOR_TYPES)),
  ],
);

// Local/dev mail sink: the notification consumer records every email it
// "delivers" here, keyed by the queue message id so redelivery is harmless.
export const sentEmails = sqliteTable(
  "sent_emails",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    recipient: text("recipient").notNull(),
    template: text("template").notNull(),
    subject: text("subject").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("sent_emails_recipient_idx").on(t.tenantId, t.recipient, t.createdAt)],
);

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

/**
 * Ticket tiers: the descriptive record of each tier and its configuration as last set.
 * What is in force (capacity, price rules, limits) lives in the event's EventInventory
 * Durable Object, which every tier write pushes to; `applied_version` is the version the
 * DO last confirmed, so a row whose push failed says so (`version > applied_version`)
 * until the next tier write or POST /v1/events/{eventId}/tiers/sync re-pushes it.
 * Optional price rules are column pairs that are both set or both null. (The CHECKs spell out
 * `is not null` on purpose: a comparison with NULL is NULL, which a CHECK lets through.)
 */
export const ticketTiers = sqliteTable(
  "ticket_tiers",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    eventId: text("event_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    capacity: integer("capacity").notNull(),
    currency: text("currency").notNull(),
    priceMinor: integer("price_minor").notNull(),
    serviceFeeMinor: integer("service_fee_minor").notNull().default(0),
    facilityFeeMinor: integer("facility_fee_minor").notNull().default(0),
    taxBps: integer("tax_bps").notNull().default(0),
    earlyBirdPriceMinor: integer("early_bird_price_minor"),
    earlyBirdUntil: integer("early_bird_until"),
    lastMinutePriceMinor: integer("last_minute_price_minor"),
    lastMinuteFrom: integer("last_minute_from"),
    groupMinQuantity: integer("group_min_quantity"),
    groupDiscountBps: integer("group_discount_bps"),
    minPerOrder: integer("min_per_order").notNull().default(1),
    maxPerOrder: integer("max_per_order").notNull(),
    maxPerBuyer: integer("max_per_buyer").notNull(),
    salesStartAt: integer("sales_start_at"),
    salesEndAt: integer("sales_end_at"),
    version: integer("version").notNull().default(1),
    appliedVersion: integer("applied_version").notNull().default(0),
    createdBy: text("created_by").notNull(),
    updatedBy: text("updated_by"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    unique("ticket_tiers_tenant_id_unique").on(t.tenantId, t.id),
    index("ticket_tiers_event_idx").on(t.tenantId, t.eventId, t.createdAt, t.id),
    foreignKey({ columns: [t.tenantId, t.eventId], foreignColumns: [events.tenantId, events.id] }),
    check("ticket_tiers_name_check", sql`length(${t.name}) between 1 and 100`),
    check("ticket_tiers_description_check", sql`${t.description} is null or length(${t.description}) <= 2000`),
    check("ticket_tiers_capacity_check", sql`${t.capacity} > 0 and ${t.capacity} <= 1000000`),
    check("ticket_tiers_currency_check", sql`length(${t.currency}) = 3 and ${t.currency} glob '[A-Z][A-Z][A-Z]'`),
    check("ticket_tiers_price_check", sql`${t.priceMinor} >= 0`),
    check("ticket_tiers_fees_check", sql`${t.serviceFeeMinor} >= 0 and ${t.facilityFeeMinor} >= 0`),
    check("ticket_tiers_tax_check", sql`${t.taxBps} between 0 and 10000`),
    check(
      "ticket_tiers_early_bird_check",
      sql`(${t.earlyBirdPriceMinor} is null and ${t.earlyBirdUntil} is null) or (${t.earlyBirdPriceMinor} is not null and ${t.earlyBirdUntil} is not null and ${t.earlyBirdPriceMinor} >= 0)`,
    ),
    check(
      "ticket_tiers_last_minute_check",
      sql`(${t.lastMinutePriceMinor} is null and ${t.lastMinuteFrom} is null) or (${t.lastMinutePriceMinor} is not null and ${t.lastMinuteFrom} is not null and ${t.lastMinutePriceMinor} >= 0)`,
    ),
    check(
      "ticket_tiers_group_discount_check",
      sql`(${t.groupMinQuantity} is null and ${t.groupDiscountBps} is null) or (${t.groupMinQuantity} is not null and ${t.groupDiscountBps} is not null and ${t.groupMinQuantity} >= 2 and ${t.groupDiscountBps} between 0 and 10000)`,
    ),
    check("ticket_tiers_per_order_check", sql`${t.minPerOrder} >= 1 and ${t.maxPerOrder} >= ${t.minPerOrder}`),
    check("ticket_tiers_per_buyer_check", sql`${t.maxPerBuyer} >= 1`),
    check(
      "ticket_tiers_sales_window_check",
      sql`${t.salesStartAt} is null or ${t.salesEndAt} is null or ${t.salesEndAt} > ${t.salesStartAt}`,
    ),
    check("ticket_tiers_version_check", sql`${t.version} >= 1 and ${t.appliedVersion} between 0 and ${t.version}`),
  ],
);

export type TenantRow = typeof tenants.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export type VenueRow = typeof venues.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type EventNotificationRow = typeof eventNotifications.$inferSelect;
export type TicketTierRow = typeof ticketTiers.$inferSelect;
