import { sql } from "drizzle-orm";
import { check, foreignKey, index, integer, sqliteTable, text, unique, uniqueIndex } from "drizzle-orm/sqlite-core";
import { inList } from "./checks";

// Times are integer epoch milliseconds. Every table below `tenants` carries
// tenant_id, and child rows point at their parent through (tenant_id, id) so a
// row can never reference a parent that belongs to another tenant.

export const ROLES = ["owner", "admin", "organizer", "scanner", "customer"] as const;
export type Role = (typeof ROLES)[number];

export const TENANT_STATUSES = ["active", "suspended"] as const;
export const USER_STATUSES = ["active", "banned"] as const;
export const ONE_TIME_TOKEN_PURPOSES = ["verify_email", "password_reset"] as const;
export const ACTOR_TYPES = ["platform", "user", "api_key", "system", "anonymous"] as const;

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


export type TenantRow = typeof tenants.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
