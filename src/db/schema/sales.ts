import { sql } from "drizzle-orm";
import { check, foreignKey, index, integer, sqliteTable, text, unique } from "drizzle-orm/sqlite-core";
import { events } from "./events";

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


export type TicketTierRow = typeof ticketTiers.$inferSelect;
