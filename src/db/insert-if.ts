import { and, eq, getTableColumns, sql, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { tenants } from "./schema";

/**
 * `insert into <table> select <row> where <condition>`: a row that is written only if a
 * condition holds when the statement runs, for D1 batches whose later statements must
 * depend on an earlier compare-and-set having won. Each value is encoded by its column
 * (JSON columns serialised, by name, in the table's order), so adding a column cannot
 * shift values. Built with the query builder because drizzle's D1 batch cannot bind the
 * parameters of a raw `db.run(sql)` statement. The one-row source is the tenant's row.
 */
export function insertIf<T extends SQLiteTable>(db: Db, table: T, tenantId: string, row: Record<string, unknown>, condition: SQL) {
  const columns = getTableColumns(table);
  const fields = Object.fromEntries(
    Object.entries(columns).map(([key, column]) => [key, sql`${sql.param(row[key] ?? null, column)}`.as(key)]),
  ) as Record<string, SQL.Aliased>;
  return db
    .insert(table)
    .select(db.select(fields).from(tenants).where(and(eq(tenants.id, tenantId), condition)) as never);
}
