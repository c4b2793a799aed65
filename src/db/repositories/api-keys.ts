import { and, desc, eq, isNull } from "drizzle-orm";
import type { TenantScope } from "../client";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { apiKeys, type ApiKeyRow } from "../schema";

export class ApiKeysRepo {
  constructor(private readonly s: TenantScope) {}

  async insert(row: Omit<ApiKeyRow, "tenantId" | "revokedAt" | "lastUsedAt">) {
    await this.s.db
      .insert(apiKeys)
      .values({ ...row, tenantId: this.s.tenantId })
      .run();
  }

  async findById(id: string) {
    return this.s.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, this.s.tenantId), eq(apiKeys.id, id)))
      .get();
  }

  async list(opts: { cursor?: Cursor; limit: number }) {
    const rows = await this.s.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, this.s.tenantId), afterCursor(opts.cursor, apiKeys.createdAt, apiKeys.id, "desc")))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(opts.limit + 1)
      .all();
    return toPage(rows, opts.limit);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const res = await this.s.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.tenantId, this.s.tenantId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .run();
    return res.meta.changes === 1;
  }

  async touch(id: string, now: number) {
    await this.s.db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(and(eq(apiKeys.tenantId, this.s.tenantId), eq(apiKeys.id, id)))
      .run();
  }
}
