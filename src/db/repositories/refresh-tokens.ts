import { and, eq, isNotNull, isNull, type SQL } from "drizzle-orm";
import type { TenantScope } from "../client";
import { refreshTokens } from "../schema";

export class RefreshTokensRepo {
  constructor(private readonly s: TenantScope) {}

  async insert(row: { id: string; userId: string; familyId: string; tokenHash: string; expiresAt: number }, now: number) {
    await this.s.db
      .insert(refreshTokens)
      .values({ ...row, tenantId: this.s.tenantId, createdAt: now })
      .run();
  }

  /**
   * Marks the token used iff it is still unused and unrevoked. The conditional
   * UPDATE is the rotation's compare-and-set: of two concurrent refreshes with the
   * same token exactly one gets `true`; the other is treated as reuse.
   */
  async claim(id: string, replacedBy: string, now: number): Promise<boolean> {
    const res = await this.s.db
      .update(refreshTokens)
      .set({ usedAt: now, replacedBy })
      .where(
        and(
          eq(refreshTokens.tenantId, this.s.tenantId),
          eq(refreshTokens.id, id),
          isNull(refreshTokens.usedAt),
          isNull(refreshTokens.revokedAt),
        ),
      )
      .run();
    return res.meta.changes === 1;
  }

  async revokeFamily(familyId: string, reason: string, now: number) {
    await this.revokeWhere(eq(refreshTokens.familyId, familyId), reason, now);
  }

  /** True when any token of the family has been revoked (logout, reuse, ban...). */
  async familyRevoked(familyId: string): Promise<boolean> {
    const row = await this.s.db
      .select({ id: refreshTokens.id })
      .from(refreshTokens)
      .where(
        and(eq(refreshTokens.tenantId, this.s.tenantId), eq(refreshTokens.familyId, familyId), isNotNull(refreshTokens.revokedAt)),
      )
      .limit(1)
      .get();
    return row !== undefined;
  }

  async revokeAllForUser(userId: string, reason: string, now: number) {
    await this.revokeWhere(eq(refreshTokens.userId, userId), reason, now);
  }

  private async revokeWhere(selector: SQL, reason: string, now: number) {
    await this.s.db
      .update(refreshTokens)
      .set({ revokedAt: now, revokedReason: reason })
      .where(and(eq(refreshTokens.tenantId, this.s.tenantId), selector, isNull(refreshTokens.revokedAt)))
      .run();
  }
}
