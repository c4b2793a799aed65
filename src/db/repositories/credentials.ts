import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { apiKeys, oneTimeTokens, refreshTokens, tenants, users } from "../schema";

/**
 * Lookups that start from a secret and *discover* the tenant: a refresh token,
 * a one-time email token, an API key prefix, an access token's (tid, sub). Each
 * returns the tenant status with the row so the caller can refuse a suspended
 * tenant in the same step. Nothing else in the codebase reads without a tenant.
 */
export class CredentialLookup {
  constructor(private readonly db: Db) {}

  /**
   * The user behind an access token, with tenant status and whether the token's session
   * (refresh family) is still alive, so logout and reuse detection end access tokens too.
   */
  async userForAccessToken(tenantId: string, userId: string, sessionId: string) {
    return accessTokenQuery(this.db).get({ tenantId, userId, sessionId });
  }

  async refreshToken(tokenHash: string) {
    return this.db
      .select({ token: refreshTokens, tenantStatus: tenants.status })
      .from(refreshTokens)
      .innerJoin(tenants, eq(tenants.id, refreshTokens.tenantId))
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .get();
  }

  async oneTimeToken(tokenHash: string) {
    return this.db
      .select({ token: oneTimeTokens, tenantStatus: tenants.status })
      .from(oneTimeTokens)
      .innerJoin(tenants, eq(tenants.id, oneTimeTokens.tenantId))
      .where(eq(oneTimeTokens.tokenHash, tokenHash))
      .get();
  }

  async apiKeyByPrefix(prefix: string) {
    return this.db
      .select({ key: apiKeys, tenantStatus: tenants.status })
      .from(apiKeys)
      .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
      .where(eq(apiKeys.prefix, prefix))
      .get();
  }
}

/**
 * The query behind every authenticated request, built once per drizzle instance (a prepared
 * statement with placeholders) instead of once per request: building it cost more CPU than
 * running it.
 */
const accessTokenQueries = new WeakMap<Db, ReturnType<typeof buildAccessTokenQuery>>();

function buildAccessTokenQuery(db: Db) {
  const tenantId = sql.placeholder("tenantId");
  return db
    .select({
      sessionRevoked: sql<number>`exists (select 1 from ${refreshTokens} where ${refreshTokens.tenantId} = ${tenantId} and ${refreshTokens.familyId} = ${sql.placeholder("sessionId")} and ${refreshTokens.revokedAt} is not null)`,
      id: users.id,
      tenantId: users.tenantId,
      role: users.role,
      status: users.status,
      tokenVersion: users.tokenVersion,
      emailVerifiedAt: users.emailVerifiedAt,
      createdAt: users.createdAt,
      tenantStatus: tenants.status,
    })
    .from(users)
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .where(and(eq(users.tenantId, tenantId), eq(users.id, sql.placeholder("userId"))))
    .prepare();
}

function accessTokenQuery(db: Db) {
  let q = accessTokenQueries.get(db);
  if (!q) {
    q = buildAccessTokenQuery(db);
    accessTokenQueries.set(db, q);
  }
  return q;
}
