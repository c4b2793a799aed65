import type { Context } from "hono";
import { verifiedTenantId } from "../db/client";
import { CredentialLookup } from "../db/repositories/credentials";
import type { Role } from "../db/schema";
import { TenantDb } from "../db/tenant-db";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { uuidv7 } from "../lib/ids";
import { randomToken, sha256Hex } from "../lib/crypto";
import { audit } from "../audit/audit";
import { signAccessToken } from "./jwt";

export interface TokenPairDto {
  tokenType: "Bearer";
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

/** Refresh tokens are opaque (`bor_` + 256 random bits); only their SHA-256 is stored. */
const newRefreshToken = () => `bor_${randomToken(32)}`;

export async function issueTokens(
  c: Context<AppEnv>,
  db: TenantDb,
  user: { id: string; tenantId: string; role: Role; tokenVersion: number },
  familyId: string = uuidv7(c.var.now()),
  refreshId: string = uuidv7(c.var.now()),
): Promise<TokenPairDto> {
  const { config } = c.var;
  const now = c.var.now();
  const refreshToken = newRefreshToken();
  await db.refreshTokens.insert(
    {
      id: refreshId,
      userId: user.id,
      familyId,
      tokenHash: await sha256Hex(refreshToken),
      expiresAt: now + config.REFRESH_TOKEN_TTL_SECONDS * 1000,
    },
    now,
  );
  const accessToken = await signAccessToken(
    config,
    { sub: user.id, tid: user.tenantId, role: user.role, tv: user.tokenVersion, sid: familyId },
    now,
  );
  return {
    tokenType: "Bearer",
    accessToken,
    expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    refreshExpiresIn: config.REFRESH_TOKEN_TTL_SECONDS,
  };
}

/**
 * Rotation with reuse detection: every refresh consumes the presented token and
 * issues a successor in the same family. Presenting a consumed token means it was
 * copied: the whole family (the thief's and the owner's sessions) is revoked.
 */
export async function rotateRefreshToken(c: Context<AppEnv>, presented: string): Promise<TokenPairDto> {
  const now = c.var.now();
  const lookup = new CredentialLookup(c.var.db);
  const found = await lookup.refreshToken(await sha256Hex(presented));
  if (!found || found.tenantStatus !== "active") throw new AppError("TOKEN_INVALID");
  const t = found.token;
  const db = new TenantDb(c.var.db, verifiedTenantId(t.tenantId));
  const reuse = async () => {
    await db.refreshTokens.revokeFamily(t.familyId, "reuse_detected", now);
    await audit(c, db, {
      action: "auth.refresh_reuse_detected",
      targetType: "user",
      targetId: t.userId,
      details: { familyId: t.familyId },
      actor: { actorType: "anonymous", actorId: null },
    });
    return new AppError("REFRESH_TOKEN_REUSED", "This refresh token was already used; the session has been revoked");
  };
  if (t.revokedAt !== null) throw new AppError("TOKEN_INVALID");
  if (t.usedAt !== null) throw await reuse();
  if (t.expiresAt <= now) throw new AppError("TOKEN_INVALID");
  const user = await db.users.findById(t.userId);
  if (!user || user.status !== "active") throw new AppError("TOKEN_INVALID");

  const successorId = uuidv7(now);
  if (!(await db.refreshTokens.claim(t.id, successorId, now))) throw await reuse();
  const tokens = await issueTokens(c, db, user, t.familyId, successorId);
  // A concurrent reuse may have revoked the family between our claim and the insert
  // above; its revoke then missed the successor. Re-check so the family stays dead.
  if (await db.refreshTokens.familyRevoked(t.familyId)) {
    await db.refreshTokens.revokeFamily(t.familyId, "reuse_detected", now);
    throw new AppError("REFRESH_TOKEN_REUSED", "This session was revoked while refreshing");
  }
  await audit(c, db, {
    action: "auth.refreshed",
    targetType: "user",
    targetId: user.id,
    details: { familyId: t.familyId },
    actor: { actorType: "user", actorId: user.id },
  });
  return tokens;
}

/** Logout revokes the presented token's family. Unknown tokens are ignored (idempotent). */
export async function revokeSession(c: Context<AppEnv>, presented: string): Promise<void> {
  const found = await new CredentialLookup(c.var.db).refreshToken(await sha256Hex(presented));
  if (!found) return;
  const t = found.token;
  const db = new TenantDb(c.var.db, verifiedTenantId(t.tenantId));
  await db.refreshTokens.revokeFamily(t.familyId, "logout", c.var.now());
  await audit(c, db, {
    action: "auth.logout",
    targetType: "user",
    targetId: t.userId,
    details: { familyId: t.familyId },
    actor: { actorType: "user", actorId: t.userId },
  });
}
