import type { Context, MiddlewareHandler } from "hono";
import { verifiedTenantId } from "../db/client";
import { CredentialLookup } from "../db/repositories/credentials";
import type { Role } from "../db/schema";
import { TenantDb } from "../db/tenant-db";
import type { AppEnv } from "../http/context";
import { inBackground } from "../http/background";
import { AppError } from "../http/errors";
import { sha256Hex, timingSafeEqualStrings } from "../lib/crypto";
import { looksLikeApiKey, parseApiKey } from "./api-key-format";
import { verifyAccessToken } from "./jwt";
import type { ApiKeyPrincipal, UserPrincipal } from "./principal";
import type { Scope } from "./scopes";

const API_KEY_TOUCH_INTERVAL_MS = 60_000;

function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** Platform routes: the platform admin key, compared in constant time. */
export const requirePlatformAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new AppError("UNAUTHENTICATED", "Send the platform admin key as a Bearer token");
  if (!(await timingSafeEqualStrings(token, c.var.config.PLATFORM_ADMIN_KEY))) {
    throw new AppError("TOKEN_INVALID", "The platform admin key is not valid");
  }
  c.set("principal", { kind: "platform" });
  await next();
};

async function userPrincipal(c: Parameters<MiddlewareHandler<AppEnv>>[0], token: string): Promise<UserPrincipal> {
  const claims = await verifyAccessToken(c.var.config, token, c.var.now());
  if (!claims) throw new AppError("TOKEN_INVALID");
  // Checked against D1 on every request so a ban, suspension, role change, logout or
  // password reset takes effect immediately rather than when the token expires.
  const row = await new CredentialLookup(c.var.db).userForAccessToken(claims.tid, claims.sub, claims.sid);
  if (!row || row.status !== "active" || row.tenantStatus !== "active" || row.tokenVersion !== claims.tv || row.sessionRevoked) {
    throw new AppError("TOKEN_INVALID");
  }
  return {
    kind: "user",
    tenantId: verifiedTenantId(row.tenantId),
    userId: row.id,
    role: row.role,
    sessionId: claims.sid,
    emailVerified: row.emailVerifiedAt !== null,
    accountCreatedAt: row.createdAt,
  };
}

async function apiKeyPrincipal(c: Parameters<MiddlewareHandler<AppEnv>>[0], token: string): Promise<ApiKeyPrincipal> {
  const parsed = parseApiKey(token);
  if (!parsed) throw new AppError("TOKEN_INVALID");
  const found = await new CredentialLookup(c.var.db).apiKeyByPrefix(parsed.prefix);
  const now = c.var.now();
  // Hash compare first and always, so a known prefix with a wrong secret costs the same.
  const matches = await timingSafeEqualStrings(await sha256Hex(token), found?.key.keyHash ?? "no-key");
  if (!found || !matches || found.tenantStatus !== "active" || found.key.revokedAt !== null) {
    throw new AppError("TOKEN_INVALID");
  }
  if (found.key.expiresAt !== null && found.key.expiresAt <= now) throw new AppError("TOKEN_INVALID", "API key expired");
  const tenantId = verifiedTenantId(found.key.tenantId);
  if (found.key.lastUsedAt === null || now - found.key.lastUsedAt > API_KEY_TOUCH_INTERVAL_MS) {
    await inBackground(c, new TenantDb(c.var.db, tenantId).apiKeys.touch(found.key.id, now));
  }
  return { kind: "api_key", tenantId, keyId: found.key.id, scopes: found.key.scopes as Scope[] };
}

/** Tenant routes: a JWT access token or a tenant API key. Sets principal + tenant db. */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new AppError("UNAUTHENTICATED", "Send an access token or API key as a Bearer token");
  const principal = looksLikeApiKey(token) ? await apiKeyPrincipal(c, token) : await userPrincipal(c, token);
  c.set("principal", principal);
  c.set("tenant", { principal, db: new TenantDb(c.var.db, principal.tenantId) });
  await next();
};

export interface Requirement {
  /** Roles allowed for user principals. */
  roles?: readonly Role[];
  /** Scopes (all required) that admit API key principals; omit to refuse keys. */
  scopes?: readonly Scope[];
}

export const authorize =
  (req: Requirement): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const p = c.var.tenant?.principal;
    if (!p) throw new AppError("UNAUTHENTICATED");
    if (p.kind === "user") {
      if (req.roles && !req.roles.includes(p.role)) throw new AppError("FORBIDDEN", "Your role does not allow this");
      if (!req.roles && req.scopes) throw new AppError("FORBIDDEN", "This operation is for API keys only");
    } else {
      if (!req.scopes) throw new AppError("FORBIDDEN", "API keys cannot perform this operation");
      const missing = req.scopes.filter((s) => !p.scopes.includes(s));
      if (missing.length) throw new AppError("INSUFFICIENT_SCOPE", `Missing scope(s): ${missing.join(", ")}`);
    }
    await next();
  };

export const STAFF_ADMINS: readonly Role[] = ["owner", "admin"];

/** Narrowing helper for handlers behind `authenticate`. */
export function tenantOf(c: { var: AppEnv["Variables"] }) {
  const t = c.var.tenant;
  if (!t) throw new AppError("UNAUTHENTICATED");
  return t;
}

/** Route middleware: authenticate, then authorize by role (users) or scope (API keys). */
export const guard = (req: Requirement): MiddlewareHandler<AppEnv>[] => [authenticate, authorize(req)];

/**
 * The calling user, for operations only people do (holding, buying, transferring tickets);
 * the route's guard already admits users only, this makes it explicit (403 otherwise).
 */
export function userOf(c: Context<AppEnv>, why = "API keys cannot do this"): UserPrincipal {
  const { principal } = tenantOf(c);
  if (principal.kind !== "user") throw new AppError("FORBIDDEN", why);
  return principal;
}
