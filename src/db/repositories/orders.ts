import { and, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { OrderDto } from "../../inventory/contract";
import type { TenantScope } from "../client";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { orders, refunds, tickets, type OrderRow, type OrderStatus, type RefundRow, type TicketRow } from "../schema";

export interface OrderWithTickets extends OrderRow {
  tickets: TicketRow[];
}

/**
 * Orders and tickets as D1 keeps them: written only by the EventInventory outbox (as a
 * snapshot of the DO's order, newest revision wins), read by buyers, staff and reports.
 */
export class OrdersRepo {
  constructor(private readonly s: TenantScope) {}

  private mine() {
    return eq(orders.tenantId, this.s.tenantId);
  }

  /**
   * Upserts the order and all its tickets in one batch. A row is only overwritten by a
   * higher `rev`, so applying an old snapshot after a newer one (a slow retry) changes
   * nothing, and applying the same one twice is a no-op.
   */
  async upsertSnapshot(order: OrderDto): Promise<void> {
    const tenantId = this.s.tenantId;
    const now = Date.now();
    const row = {
      id: order.orderId,
      tenantId,
      eventId: order.eventId,
      buyerId: order.buyerId,
      holdId: order.holdId,
      status: order.status,
      currency: order.currency,
      totalMinor: order.totalMinor,
      items: order.items,
      ticketCount: order.items.reduce((n, l) => n + l.quantity, 0),
      paymentProvider: order.payment?.provider ?? (order.totalMinor === 0 ? "none" : "local"),
      paymentIntentId: order.payment?.intentId ?? null,
      createdAt: order.createdAt,
      expiresAt: order.expiresAt,
      paidAt: order.paidAt,
      updatedAt: now,
      rev: order.rev,
      refundedMinor: order.refundedMinor,
      flags: order.flags,
    } satisfies typeof orders.$inferInsert;
    const { id: _id, tenantId: _t, createdAt: _c, ...changes } = row;
    const statements: BatchItem<"sqlite">[] = [
      this.s.db
        .insert(orders)
        .values(row)
        .onConflictDoUpdate({ target: orders.id, set: changes, setWhere: sql`excluded.rev > ${orders.rev}` }),
    ];
    for (const t of order.tickets) {
      const ticket = {
        id: t.ticketId,
        tenantId,
        eventId: order.eventId,
        orderId: order.orderId,
        tierId: t.tierId,
        number: t.number,
        holderId: t.holderId,
        status: t.status,
        code: t.code,
        codeVersion: t.codeVersion,
        priceMinor: t.priceMinor,
        issuedAt: t.issuedAt,
        updatedAt: now,
        rev: order.rev,
        checkedInAt: t.checkedInAt,
        checkedInGate: t.checkedInGate,
      } satisfies typeof tickets.$inferInsert;
      statements.push(
        this.s.db
          .insert(tickets)
          .values(ticket)
          .onConflictDoUpdate({
            target: tickets.id,
            set: {
              status: ticket.status,
              code: ticket.code,
              codeVersion: ticket.codeVersion,
              holderId: ticket.holderId,
              checkedInAt: ticket.checkedInAt,
              checkedInGate: ticket.checkedInGate,
              updatedAt: now,
              rev: ticket.rev,
            },
            setWhere: sql`excluded.rev > ${tickets.rev}`,
          }),
      );
    }
    await this.s.db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  }

  async ticket(id: string): Promise<TicketRow | undefined> {
    return this.s.db.select().from(tickets).where(and(eq(tickets.tenantId, this.s.tenantId), eq(tickets.id, id))).get();
  }

  /** Events where tickets wait for `holderId` (a pending transfer to an email address). */
  async eventsWithTicketsHeldBy(holderId: string): Promise<string[]> {
    const rows = await this.s.db
      .selectDistinct({ eventId: tickets.eventId })
      .from(tickets)
      .where(and(eq(tickets.tenantId, this.s.tenantId), eq(tickets.holderId, holderId)))
      .all();
    return rows.map((r) => r.eventId);
  }

  async refundsOf(orderId: string): Promise<RefundRow[]> {
    return this.s.db
      .select()
      .from(refunds)
      .where(and(eq(refunds.tenantId, this.s.tenantId), eq(refunds.orderId, orderId)))
      .orderBy(refunds.createdAt)
      .all();
  }

  async get(id: string): Promise<OrderRow | undefined> {
    return this.s.db.select().from(orders).where(and(this.mine(), eq(orders.id, id))).get();
  }

  async withTickets(rows: OrderRow[]): Promise<OrderWithTickets[]> {
    if (rows.length === 0) return [];
    // D1 binds at most 100 parameters per statement: the tenant id plus up to 90 order ids.
    const all: TicketRow[] = [];
    for (let i = 0; i < rows.length; i += 90) {
      const ids = rows.slice(i, i + 90).map((r) => r.id);
      all.push(
        ...(await this.s.db
          .select()
          .from(tickets)
          .where(and(eq(tickets.tenantId, this.s.tenantId), inArray(tickets.orderId, ids)))
          .orderBy(tickets.number)
          .all()),
      );
    }
    return rows.map((r) => ({ ...r, tickets: all.filter((t) => t.orderId === r.id) }));
  }

  /** The tenant's orders matching `where`, newest first, a page after `cursor`. */
  private async page(where: (SQL | undefined)[], f: { limit: number; cursor?: Cursor }) {
    const rows = await this.s.db
      .select()
      .from(orders)
      .where(and(this.mine(), ...where, afterCursor(f.cursor, orders.createdAt, orders.id, "desc")))
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(f.limit + 1)
      .all();
    return toPage(rows, f.limit);
  }

  listForBuyer(buyerId: string, f: { limit: number; cursor?: Cursor; eventId?: string }) {
    return this.page([eq(orders.buyerId, buyerId), f.eventId ? eq(orders.eventId, f.eventId) : undefined], f);
  }

  /** An event's orders for staff. */
  listForEvent(eventId: string, f: { limit: number; cursor?: Cursor; status?: OrderStatus }) {
    return this.page([eq(orders.eventId, eventId), f.status ? eq(orders.status, f.status) : undefined], f);
  }

  /**
   * Orders checkout flagged for review (a non-empty `flags` array, src/fraud). No index
   * covers `flags`: the query walks the tenant's orders, fine for a review queue; a
   * partial index on (tenant_id, created_at, id) WHERE flags <> '[]' is the next step.
   */
  listFlagged(f: { limit: number; cursor?: Cursor; eventId?: string }) {
    return this.page([sql`json_array_length(${orders.flags}) > 0`, f.eventId ? eq(orders.eventId, f.eventId) : undefined], f);
  }

  /** The buyer's tickets, newest first. */
  async ticketsOfHolder(holderId: string, f: { limit: number; cursor?: Cursor; eventId?: string }) {
    const rows = await this.s.db
      .select()
      .from(tickets)
      .where(
        and(
          eq(tickets.tenantId, this.s.tenantId),
          eq(tickets.holderId, holderId),
          f.eventId ? eq(tickets.eventId, f.eventId) : undefined,
          afterCursor(f.cursor, tickets.issuedAt, tickets.id, "desc"),
        ),
      )
      .orderBy(desc(tickets.issuedAt), desc(tickets.id))
      .limit(f.limit + 1)
      .all();
    return toPage(rows, f.limit, (t) => t.issuedAt);
  }

  /** Sold/issued counts per tier for an event (reconciliation with the DO's counters). */
  async ticketCountsByTier(eventId: string): Promise<{ tierId: string; n: number }[]> {
    return this.s.db
      .select({ tierId: tickets.tierId, n: sql<number>`count(*)` })
      .from(tickets)
      .where(and(eq(tickets.tenantId, this.s.tenantId), eq(tickets.eventId, eventId)))
      .groupBy(tickets.tierId)
      .all();
  }
}
