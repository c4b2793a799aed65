import { and, eq, isNull } from "drizzle-orm";
import type { TenantScope } from "../client";
import { oneTimeTokens, ONE_TIME_TOKEN_PURPOSES } from "../schema";

export type OneTimePurpose = (typeof ONE_TIME_TOKEN_PURPOSES)[number];

export class OneTimeTokensRepo {
  constructor(private readonly s: TenantScope) {}

  /** Issuing a new token of a purpose voids the user's earlier unused ones. */
  async issue(
    row: { id: string; userId: string; purpose: OneTimePurpose; tokenHash: string; expiresAt: number },
    now: number,
  ) {
    await this.s.db.batch([
      this.s.db
        .update(oneTimeTokens)
        .set({ usedAt: now })
        .where(
          and(
            eq(oneTimeTokens.tenantId, this.s.tenantId),
            eq(oneTimeTokens.userId, row.userId),
            eq(oneTimeTokens.purpose, row.purpose),
            isNull(oneTimeTokens.usedAt),
          ),
        ),
      this.s.db.insert(oneTimeTokens).values({ ...row, tenantId: this.s.tenantId, createdAt: now }),
    ]);
  }

  /** Single use: the conditional UPDATE lets exactly one caller consume it. */
  async consume(id: string, now: number): Promise<boolean> {
    const res = await this.s.db
      .update(oneTimeTokens)
      .set({ usedAt: now })
      .where(and(eq(oneTimeTokens.tenantId, this.s.tenantId), eq(oneTimeTokens.id, id), isNull(oneTimeTokens.usedAt)))
      .run();
    return res.meta.changes === 1;
  }
}
