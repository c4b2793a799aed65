import type { Context } from "hono";
import { verifiedTenantId } from "../db/client";
import { CredentialLookup } from "../db/repositories/credentials";
import type { OneTimePurpose } from "../db/repositories/one-time-tokens";
import type { UserRow } from "../db/schema";
import { TenantDb } from "../db/tenant-db";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { randomToken, sha256Hex } from "../lib/crypto";

/** Email verification lives a day; a password reset an hour. */
export const ONE_TIME_TTL_MS: Record<OneTimePurpose, number> = {
  verify_email: 24 * 3600_000,
  password_reset: 3600_000,
};

/** Issues a single-use token; returns the plaintext (only ever put in an email). */
export async function issueOneTimeToken(c: Context<AppEnv>, db: TenantDb, userId: string, purpose: OneTimePurpose) {
  const now = c.var.now();
  const token = randomToken(32);
  await db.oneTimeTokens.issue(
    { id: uuidv7(now), userId, purpose, tokenHash: await sha256Hex(token), expiresAt: now + ONE_TIME_TTL_MS[purpose] },
    now,
  );
  return token;
}

/**
 * Consumes a token of the given purpose. Unknown, expired, used, wrong-purpose and
 * suspended-tenant tokens all answer the same ONE_TIME_TOKEN_INVALID.
 */
export async function consumeOneTimeToken(
  c: Context<AppEnv>,
  token: string,
  purpose: OneTimePurpose,
  /** Runs before the token is spent, so a rejected attempt (e.g. weak password) keeps it usable. */
  precheck?: (user: UserRow) => void,
) {
  const now = c.var.now();
  const found = await new CredentialLookup(c.var.db).oneTimeToken(await sha256Hex(token));
  const t = found?.token;
  if (!found || !t || found.tenantStatus !== "active" || t.purpose !== purpose || t.usedAt !== null || t.expiresAt <= now) {
    throw new AppError("ONE_TIME_TOKEN_INVALID");
  }
  const db = new TenantDb(c.var.db, verifiedTenantId(t.tenantId));
  const user = await db.users.findById(t.userId);
  if (!user) throw new AppError("ONE_TIME_TOKEN_INVALID");
  precheck?.(user);
  if (!(await db.oneTimeTokens.consume(t.id, now))) throw new AppError("ONE_TIME_TOKEN_INVALID");
  return { db, user };
}
