import { and, desc, eq } from "drizzle-orm";
import type { TenantScope } from "../client";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { auditLog, type AuditRow } from "../schema";

export type AuditEntry = Omit<AuditRow, "tenantId" | "id" | "createdAt">;

export class AuditLogRepo {
  constructor(private readonly s: TenantScope) {}

  async append(id: string, entry: AuditEntry, now: number) {
    await this.s.db
      .insert(auditLog)
      .values({ ...entry, id, tenantId: this.s.tenantId, createdAt: now })
      .run();
  }

  async list(opts: { cursor?: Cursor; limit: number; action?: string; targetId?: string }) {
    const rows = await this.s.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.tenantId, this.s.tenantId),
          opts.action ? eq(auditLog.action, opts.action) : undefined,
          opts.targetId ? eq(auditLog.targetId, opts.targetId) : undefined,
          afterCursor(opts.cursor, auditLog.createdAt, auditLog.id, "desc"),
        ),
      )
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(opts.limit + 1)
      .all();
    return toPage(rows, opts.limit);
  }

  /** One target's entries (e.g. an event's history), newest first; served by audit_log_target_idx. */
  async listForTarget(targetType: string, targetId: string, cursor: Cursor | undefined, limit: number) {
    const rows = await this.s.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.tenantId, this.s.tenantId),
          eq(auditLog.targetType, targetType),
          eq(auditLog.targetId, targetId),
          afterCursor(cursor, auditLog.createdAt, auditLog.id, "desc"),
        ),
      )
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(limit + 1)
      .all();
    return toPage(rows, limit);
  }
}
