import { sql } from "drizzle-orm";
import { check, foreignKey, index, integer, sqliteTable, text, unique } from "drizzle-orm/sqlite-core";
import { inList } from "./checks";
import { tenants } from "./identity";
import { events } from "./events";

/**
 * Orders and tickets in D1 are the durable read model of what the event's EventInventory
 * Durable Object decided: the DO commits a sale together with an outbox row and then
 * upserts the whole order (with its tickets) here, retrying until it lands. `rev` is the
 * DO's revision of the order: an upsert only wins with a higher rev, so a late retry of an
 * older snapshot never overwrites a newer one (ARCHITECTURE.md "Who owns which state").
 */
export const ORDER_STATUSES = ["pending", "paid", "expired", "cancelled", "refunded", "partially_refunded"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const PAYMENT_PROVIDERS = ["none", "stripe", "local"] as const;

export const orders = sqliteTable(
  "orders",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    buyerId: text("buyer_id").notNull(),
    holdId: text("hold_id").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull(),
    currency: text("currency").notNull(),
    totalMinor: integer("total_minor").notNull(),
    /** The hold's lines with their locked quotes (tier, quantity, itemised price). */
    items: text("items", { mode: "json" }).$type<unknown[]>().notNull(),
    ticketCount: integer("ticket_count").notNull(),
    paymentProvider: text("payment_provider", { enum: PAYMENT_PROVIDERS }).notNull(),
    paymentIntentId: text("payment_intent_id"),
    createdAt: integer("created_at").notNull(),
    /** Payment deadline of a pending order. */
    expiresAt: integer("expires_at"),
    paidAt: integer("paid_at"),
    updatedAt: integer("updated_at").notNull(),
    rev: integer("rev").notNull(),
    /** Sum refunded so far, in minor units. */
    refundedMinor: integer("refunded_minor").notNull().default(0),
    /** Risk signals raised at checkout (src/fraud); non-empty means flagged for review. */
    flags: text("flags", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
  },
  (t) => [
    unique("orders_tenant_id_unique").on(t.tenantId, t.id),
    index("orders_buyer_idx").on(t.tenantId, t.buyerId, t.createdAt, t.id),
    index("orders_event_idx").on(t.tenantId, t.eventId, t.createdAt, t.id),
    foreignKey({ columns: [t.tenantId, t.eventId], foreignColumns: [events.tenantId, events.id] }),
    check("orders_status_check", inList("status", ORDER_STATUSES)),
    check("orders_provider_check", inList("payment_provider", PAYMENT_PROVIDERS)),
    check("orders_total_check", sql`${t.totalMinor} >= 0 and ${t.ticketCount} >= 1`),
    check("orders_currency_check", sql`length(${t.currency}) = 3`),
    check("orders_items_check", sql`json_valid(${t.items})`),
    check("orders_rev_check", sql`${t.rev} >= 1`),
    check("orders_refunded_check", sql`${t.refundedMinor} >= 0 and ${t.refundedMinor} <= ${t.totalMinor}`),
  ],
);

export const TICKET_STATUSES = ["valid", "checked_in", "refunded", "cancelled", "transferred"] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const tickets = sqliteTable(
  "tickets",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    orderId: text("order_id").notNull(),
    tierId: text("tier_id").notNull(),
    /** Unique within the event, counted by the event's DO from 1. */
    number: integer("number").notNull(),
    holderId: text("holder_id").notNull(),
    status: text("status", { enum: TICKET_STATUSES }).notNull(),
    /** Signed, offline-verifiable code (docs/adr/0007-ticket-codes.md); null until signed. */
    code: text("code"),
    codeVersion: integer("code_version").notNull(),
    /** This ticket's share of its line's total, in minor units. */
    priceMinor: integer("price_minor").notNull(),
    issuedAt: integer("issued_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    rev: integer("rev").notNull(),
    checkedInAt: integer("checked_in_at"),
    checkedInGate: text("checked_in_gate"),
  },
  (t) => [
    unique("tickets_event_number_unique").on(t.tenantId, t.eventId, t.number),
    index("tickets_holder_idx").on(t.tenantId, t.holderId, t.issuedAt, t.id),
    index("tickets_order_idx").on(t.tenantId, t.orderId),
    index("tickets_event_idx").on(t.tenantId, t.eventId, t.tierId),
    foreignKey({ columns: [t.tenantId, t.eventId], foreignColumns: [events.tenantId, events.id] }),
    foreignKey({ columns: [t.tenantId, t.orderId], foreignColumns: [orders.tenantId, orders.id] }),
    check("tickets_status_check", inList("status", TICKET_STATUSES)),
    check("tickets_number_check", sql`${t.number} >= 1 and ${t.codeVersion} >= 1 and ${t.priceMinor} >= 0`),
  ],
);

/**
 * One mint per ticket, claimed by the minting worker from the mint queue (the Solana side
 * arrives in a later issue). The primary key on ticket_id is what makes at-least-once
 * delivery mint at most once.
 */
export const MINT_STATES = ["queued", "building", "submitted", "confirmed", "failed"] as const;
export const mints = sqliteTable(
  "mints",
  {
    ticketId: text("ticket_id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    orderId: text("order_id").notNull(),
    state: text("state", { enum: MINT_STATES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("mints_state_idx").on(t.state, t.updatedAt),
    index("mints_event_idx").on(t.tenantId, t.eventId),
    check("mints_state_check", inList("state", MINT_STATES)),
  ],
);

/**
 * Refunds as the DO decided them: one row per refund of an order (whole or partial), with
 * the provider's refund once it confirmed. Read by buyers (their order), admins and reports.
 */
export const REFUND_STATUSES = ["requested", "succeeded", "failed", "not_needed"] as const;
export const refunds = sqliteTable(
  "refunds",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    orderId: text("order_id").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    ticketIds: text("ticket_ids", { mode: "json" }).$type<string[]>().notNull(),
    reason: text("reason").notNull(),
    status: text("status", { enum: REFUND_STATUSES }).notNull(),
    providerRefundId: text("provider_refund_id"),
    requestedBy: text("requested_by").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("refunds_order_idx").on(t.tenantId, t.orderId),
    index("refunds_event_idx").on(t.tenantId, t.eventId, t.createdAt),
    foreignKey({ columns: [t.tenantId, t.orderId], foreignColumns: [orders.tenantId, orders.id] }),
    check("refunds_status_check", inList("status", REFUND_STATUSES)),
    check("refunds_amount_check", sql`${t.amountMinor} >= 0`),
  ],
);

export type OrderRow = typeof orders.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;
export type TicketRow = typeof tickets.$inferSelect;
