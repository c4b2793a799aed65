import { and, desc, eq, getTableColumns, inArray, is, Param, Placeholder, sql, type Column, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { OrderDto } from "../../inventory/contract";
import type { Db, TenantScope } from "../client";
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
   * Upserts orders and all their tickets, one D1 batch (one transaction) per
   * `SNAPSHOT_BATCH_ORDERS` orders: the EventInventory outbox hands over the orders due in
   * a round together, one batch's worth per call. One statement per row, so each binds
   * one row's columns (19 for an order, 16 for a ticket; D1 allows 100). A row is only overwritten by a higher `rev`, so applying an old
   * snapshot after a newer one (a slow retry) changes nothing, and applying the same one
   * twice is a no-op. More orders than one batch takes are written in several batches,
   * each all or nothing; a failure after the first leaves the earlier ones written, which
   * a retry of the whole list re-applies harmlessly.
   */
  async upsertSnapshots(list: readonly OrderDto[]): Promise<void> {
    // The D1 binding under drizzle (drizzle() returns it as $client; the Db type omits it).
    const d1 = (this.s.db as Db & { $client: D1Database }).$client;
    const { order: orderSql, ticket: ticketSql } = snapshotStatements(this.s.db);
    for (let i = 0; i < list.length; i += SNAPSHOT_BATCH_ORDERS) {
      const orderStmt = d1.prepare(orderSql.sql);
      const ticketStmt = d1.prepare(ticketSql.sql);
      const statements: D1PreparedStatement[] = [];
      const now = Date.now();
      for (const order of list.slice(i, i + SNAPSHOT_BATCH_ORDERS)) {
        const { order: row, tickets: rows } = snapshotRows(this.s.tenantId, order, now);
        statements.push(orderStmt.bind(...orderSql.bind(row)));
        for (const t of rows) statements.push(ticketStmt.bind(...ticketSql.bind(t)));
      }
      if (statements.length > 0) await d1.batch(statements);
    }
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

/** Orders per D1 batch in `upsertSnapshots` (each with its tickets: a few hundred statements at most). */
export const SNAPSHOT_BATCH_ORDERS = 50;

/** The D1 rows of one snapshot of an order, as the schema types them. */
function snapshotRows(tenantId: string, order: OrderDto, now: number) {
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
  const ticketRows = order.tickets.map(
    (t) =>
      ({
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
      }) satisfies typeof tickets.$inferInsert,
  );
  return { order: row, tickets: ticketRows };
}

/** A statement drizzle built once, with named placeholders, and how to bind a row to it. */
interface RowStatement<Row> {
  sql: string;
  /** The row's values in parameter order, encoded by their columns (JSON columns serialised). */
  bind(row: Row): unknown[];
}

/**
 * Builds the statement once with drizzle (placeholders for every column), so each row
 * costs a bind instead of a query build: building a drizzle upsert per row cost more
 * CPU than the rest of the outbox's D1 write put together (a sell-out writes thousands).
 */
function rowStatement<T extends SQLiteTable, Row extends Record<string, unknown>>(
  query: { toSQL(): { sql: string; params: unknown[] } },
  table: T,
): RowStatement<Row> {
  const columns = getTableColumns(table) as Record<string, Column>;
  const { sql: text, params } = query.toSQL();
  // Insert values come back as Param(placeholder, column); anything else (a literal bound
  // into the SQL) would not be bound per row, so it is refused here.
  const slots = params.map((p) => {
    const placeholder = is(p, Param) ? p.value : p;
    if (!is(placeholder, Placeholder) || !(placeholder.name in columns)) throw new Error(`rowStatement: unexpected parameter in ${text}`);
    return { key: placeholder.name, column: columns[placeholder.name]! };
  });
  return {
    sql: text,
    bind: (row) =>
      slots.map(({ key, column }) => {
        const value = row[key];
        // A column the row leaves out would be bound as NULL, not given its default: refuse.
        if (value === undefined) throw new Error(`rowStatement: no value for ${key}`);
        return value === null ? null : column.mapToDriverValue(value);
      }),
  };
}

/** Every column of the table as a placeholder named by its key. */
function placeholders(table: SQLiteTable): Record<string, Placeholder> {
  return Object.fromEntries(Object.keys(getTableColumns(table)).map((key) => [key, sql.placeholder(key)]));
}

/** `SET col = excluded.col` for the given columns: the update writes the values the insert carried. */
function fromExcluded(table: SQLiteTable, keys: string[]): Record<string, SQL> {
  const columns = getTableColumns(table) as Record<string, Column>;
  return Object.fromEntries(keys.map((key) => [key, sql`excluded.${sql.identifier(columns[key]!.name)}`]));
}

let snapshotSql: { order: RowStatement<ReturnType<typeof snapshotRows>["order"]>; ticket: RowStatement<ReturnType<typeof snapshotRows>["tickets"][number]> } | undefined;

/**
 * The two upserts of a snapshot: insert, or on conflict by id update only when the
 * incoming `rev` is higher (SQLite's upsert decides per row). The SQL text does not
 * depend on the database instance, so it is built once per isolate.
 */
function snapshotStatements(db: Db) {
  snapshotSql ??= {
    order: rowStatement(
      db
        .insert(orders)
        .values(placeholders(orders) as never)
        .onConflictDoUpdate({
          target: orders.id,
          // Everything but the identity and the creation time.
          set: fromExcluded(orders, Object.keys(getTableColumns(orders)).filter((k) => k !== "id" && k !== "tenantId" && k !== "createdAt")),
          setWhere: sql`excluded.${sql.identifier(orders.rev.name)} > ${orders.rev}`,
        }),
      orders,
    ),
    ticket: rowStatement(
      db
        .insert(tickets)
        .values(placeholders(tickets) as never)
        .onConflictDoUpdate({
          target: tickets.id,
          set: fromExcluded(tickets, ["status", "code", "codeVersion", "holderId", "checkedInAt", "checkedInGate", "updatedAt", "rev"]),
          setWhere: sql`excluded.${sql.identifier(tickets.rev.name)} > ${tickets.rev}`,
        }),
      tickets,
    ),
  };
  return snapshotSql;
}
