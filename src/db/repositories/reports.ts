import { and, asc, eq, gte, inArray, isNull, lte, sql, type SQL } from "drizzle-orm";
import type { TenantScope } from "../client";
import { events, ticketTiers, type EventStatus } from "../schema";

/**
 * Orders that were paid carry money in a report: those with a payment time and status paid,
 * refunded, partially_refunded, or cancelled (an event's cancellation refunds its paid
 * orders in full and marks them cancelled). Pending, expired and unpaid cancelled orders
 * never took any money. Refunded orders stay in: their money was taken, and what went back
 * is counted as refunds.
 */
export const PAID_ORDER_STATUSES = ["paid", "refunded", "partially_refunded", "cancelled"] as const;

/** Which events a report covers: one event, or a venue's events starting in [from, to]. */
export type ReportScope = { eventId: string } | { venueId: string; from?: number; to?: number };

/** Paid orders of one event in one currency. */
export interface OrderAggregate {
  eventId: string;
  currency: string;
  orders: number;
  tickets: number;
  /** sum(total_minor) */
  gross: number;
  /** sum(refunded_minor) */
  refunds: number;
  /** Orders with anything refunded. */
  refundedOrders: number;
}

/** The lines of paid orders for one tier of one event in one currency (sums of their locked quotes). */
export interface LineAggregate {
  eventId: string;
  tierId: string;
  currency: string;
  quantity: number;
  subtotal: number;
  groupDiscount: number;
  serviceFees: number;
  facilityFees: number;
  tax: number;
  total: number;
}

/** Tickets of one tier of one event, by status. */
export interface TicketAggregate {
  eventId: string;
  tierId: string;
  issued: number;
  refunded: number;
  cancelled: number;
  checkedIn: number;
}

export interface ReportTier {
  eventId: string;
  tierId: string;
  name: string;
  deleted: boolean;
}

export interface ReportEvent {
  id: string;
  name: string;
  status: EventStatus;
  startsAt: number;
}

/** The paid-order condition on the orders table (aliased `prefix`). */
const paidOrder = (prefix = "") =>
  sql.raw(`${prefix}paid_at is not null and ${prefix}status in (${PAID_ORDER_STATUSES.map((s) => `'${s}'`).join(", ")})`);

/**
 * Tenant-scoped aggregate reads for sales reports. Everything is summed in D1 (a line per
 * order item via json_each), so a report costs a handful of grouped queries however many
 * orders an event has. Every statement names the tenant; the venue's events come from a
 * subquery that names it too.
 */
export class ReportsRepo {
  constructor(private readonly s: TenantScope) {}

  /** `column` restricted to the scope's event ids (live events only). */
  private inScope(column: SQL, scope: ReportScope): SQL {
    if ("eventId" in scope) return sql`${column} = ${scope.eventId}`;
    const from = scope.from !== undefined ? sql` and starts_at >= ${scope.from}` : sql``;
    const to = scope.to !== undefined ? sql` and starts_at <= ${scope.to}` : sql``;
    return sql`${column} in (select id from events where tenant_id = ${this.s.tenantId} and venue_id = ${scope.venueId} and deleted_at is null${from}${to})`;
  }

  /** The venue's live events starting in [from, to], by start; at most `limit`. */
  async venueEvents(venueId: string, f: { from?: number; to?: number; limit: number }): Promise<ReportEvent[]> {
    return this.s.db
      .select({ id: events.id, name: events.name, status: events.status, startsAt: events.startsAt })
      .from(events)
      .where(
        and(
          eq(events.tenantId, this.s.tenantId),
          eq(events.venueId, venueId),
          isNull(events.deletedAt),
          f.from !== undefined ? gte(events.startsAt, f.from) : undefined,
          f.to !== undefined ? lte(events.startsAt, f.to) : undefined,
        ),
      )
      .orderBy(asc(events.startsAt), asc(events.id))
      .limit(f.limit)
      .all();
  }

  async orderTotals(scope: ReportScope): Promise<OrderAggregate[]> {
    return this.s.db.all<OrderAggregate>(sql`
      select event_id as eventId, currency, count(*) as orders, sum(ticket_count) as tickets,
             sum(total_minor) as gross, sum(refunded_minor) as refunds, sum(refunded_minor > 0) as refundedOrders
      from orders
      where tenant_id = ${this.s.tenantId} and ${paidOrder()} and ${this.inScope(sql.raw("event_id"), scope)}
      group by event_id, currency`);
  }

  async lineTotals(scope: ReportScope): Promise<LineAggregate[]> {
    const q = (field: string) => sql.raw(`coalesce(sum(json_extract(l.value, '$.quote.${field}')), 0)`);
    return this.s.db.all<LineAggregate>(sql`
      select o.event_id as eventId, json_extract(l.value, '$.tierId') as tierId, o.currency as currency,
             coalesce(sum(json_extract(l.value, '$.quantity')), 0) as quantity,
             ${q("subtotalMinor")} as subtotal, ${q("groupDiscountMinor")} as groupDiscount,
             ${q("serviceFeesMinor")} as serviceFees, ${q("facilityFeesMinor")} as facilityFees,
             ${q("taxMinor")} as tax, ${q("totalMinor")} as total
      from orders o, json_each(o.items) l
      where o.tenant_id = ${this.s.tenantId} and ${paidOrder("o.")} and ${this.inScope(sql.raw("o.event_id"), scope)}
      group by o.event_id, tierId, o.currency`);
  }

  async ticketCounts(scope: ReportScope): Promise<TicketAggregate[]> {
    return this.s.db.all<TicketAggregate>(sql`
      select event_id as eventId, tier_id as tierId, count(*) as issued,
             sum(status = 'refunded') as refunded, sum(status = 'cancelled') as cancelled,
             sum(checked_in_at is not null) as checkedIn
      from tickets
      where tenant_id = ${this.s.tenantId} and ${this.inScope(sql.raw("event_id"), scope)}
      group by event_id, tier_id`);
  }

  /** The scope's tiers (deleted ones too: they may have sold), in the order they were created. */
  async tiers(scope: ReportScope): Promise<ReportTier[]> {
    const rows = await this.s.db
      .select({ eventId: ticketTiers.eventId, tierId: ticketTiers.id, name: ticketTiers.name, deletedAt: ticketTiers.deletedAt })
      .from(ticketTiers)
      .where(
        and(
          eq(ticketTiers.tenantId, this.s.tenantId),
          "eventId" in scope
            ? eq(ticketTiers.eventId, scope.eventId)
            : inArray(
                ticketTiers.eventId,
                this.s.db
                  .select({ id: events.id })
                  .from(events)
                  .where(
                    and(
                      eq(events.tenantId, this.s.tenantId),
                      eq(events.venueId, scope.venueId),
                      isNull(events.deletedAt),
                      scope.from !== undefined ? gte(events.startsAt, scope.from) : undefined,
                      scope.to !== undefined ? lte(events.startsAt, scope.to) : undefined,
                    ),
                  ),
              ),
        ),
      )
      .orderBy(asc(ticketTiers.createdAt), asc(ticketTiers.id))
      .all();
    return rows.map((r) => ({ eventId: r.eventId, tierId: r.tierId, name: r.name, deleted: r.deletedAt !== null }));
  }
}
