import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from "drizzle-orm";
import type { Db } from "../client";
import { events, type EventRow } from "../schema";

/**
 * Events the clock has moved, across all tenants: the cron's query. It mirrors
 * `dueTransition` (src/domain/event-status.ts), which stays the judge: a row this
 * returns is re-checked there before anything is written. Keyset-paged by id.
 */
export async function findDueEvents(db: Db, now: number, afterId: string | null, limit: number): Promise<EventRow[]> {
  const due = or(
    and(eq(events.status, "PUBLISHED"), lte(events.salesStartAt, now), or(isNull(events.salesEndAt), gt(events.salesEndAt, now))),
    and(inArray(events.status, ["PUBLISHED", "ON_SALE", "SOLD_OUT", "SALES_PAUSED"]), lte(events.startsAt, now)),
    and(eq(events.status, "IN_PROGRESS"), lte(events.endsAt, now)),
  );
  return db
    .select()
    .from(events)
    .where(and(isNull(events.deletedAt), due, afterId === null ? undefined : sql`${events.id} > ${afterId}`))
    .orderBy(asc(events.id))
    .limit(limit)
    .all();
}
