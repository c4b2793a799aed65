import { and, desc, eq, sql } from "drizzle-orm";
import type { TenantScope } from "../client";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { orders } from "../schema";

/**
 * Orders checkout flagged for review (a non-empty `flags` array, src/fraud), of one tenant,
 * newest first. No index covers `flags`: the query walks the tenant's orders, which is fine
 * for a review queue; a partial index on (tenant_id, created_at, id) WHERE flags <> '[]' is
 * the step when it is not.
 */
export class FlaggedOrdersRepo {
  constructor(private readonly s: TenantScope) {}

  async list(f: { limit: number; cursor?: Cursor; eventId?: string }) {
    const rows = await this.s.db
      .select()
      .from(orders)
      .where(
        and(
          eq(orders.tenantId, this.s.tenantId),
          sql`json_array_length(${orders.flags}) > 0`,
          f.eventId ? eq(orders.eventId, f.eventId) : undefined,
          afterCursor(f.cursor, orders.createdAt, orders.id, "desc"),
        ),
      )
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(f.limit + 1)
      .all();
    return toPage(rows, f.limit);
  }
}
