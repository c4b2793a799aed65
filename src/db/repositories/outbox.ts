import { and, asc, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../client";
import { outbox, type OutboxRow } from "../schema";

/**
 * The outbox across all tenants: platform-level, used only by the drain (request
 * tail and cron), never by tenant routes. Rows are written by the repository whose
 * change causes them, in the same batch (see EventsRepo.update).
 */
export class OutboxRepo {
  constructor(private readonly db: Db) {}

  /** Unsent rows, oldest first. */
  async pending(limit: number): Promise<OutboxRow[]> {
    return this.db.select().from(outbox).where(isNull(outbox.sentAt)).orderBy(asc(outbox.createdAt), asc(outbox.id)).limit(limit).all();
  }

  async markSent(ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(outbox)
      .set({ sentAt: now, attempts: sql`${outbox.attempts} + 1` })
      .where(and(inArray(outbox.id, ids), isNull(outbox.sentAt)))
      .run();
  }

  async markFailed(ids: string[], error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(outbox)
      .set({ attempts: sql`${outbox.attempts} + 1`, lastError: error.slice(0, 1000) })
      .where(and(inArray(outbox.id, ids), isNull(outbox.sentAt)))
      .run();
  }
}
