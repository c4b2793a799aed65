import { lt, or, and, isNotNull } from "drizzle-orm";
import type { Db } from "../client";
import { oneTimeTokens, outbox, refreshTokens } from "../schema";

/** Keep spent credentials a week for investigations, then delete them (all tenants). */
export const SPENT_CREDENTIAL_RETENTION_MS = 7 * 24 * 3600_000;

export async function purgeSpentCredentials(db: Db, now: number) {
  const cutoff = now - SPENT_CREDENTIAL_RETENTION_MS;
  const [r, o] = await db.batch([
    db.delete(refreshTokens).where(or(lt(refreshTokens.expiresAt, cutoff), and(isNotNull(refreshTokens.revokedAt), lt(refreshTokens.revokedAt, cutoff)))),
    db.delete(oneTimeTokens).where(lt(oneTimeTokens.expiresAt, cutoff)),
  ]);
  return { refreshTokens: r.meta.changes, oneTimeTokens: o.meta.changes };
}

/** Sent outbox rows are kept a week for investigations; consumers' dedupe records outlive them. */
export const SENT_OUTBOX_RETENTION_MS = 7 * 24 * 3600_000;

export async function purgeSentOutbox(db: Db, now: number) {
  const res = await db.delete(outbox).where(and(isNotNull(outbox.sentAt), lt(outbox.sentAt, now - SENT_OUTBOX_RETENTION_MS))).run();
  return { outbox: res.meta.changes };
}
