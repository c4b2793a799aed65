import { claimTicketsSentTo } from "../../../src/domain/ticket-claims";
import { errorFields, log } from "../../../src/observability/logger";
import { inBackground } from "../../../src/http/background";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { audit, clientIp } from "../../../src/audit/audit";
import { publicJwks } from "../../../src/auth/jwt";
import { LoginThrottle } from "../../../src/auth/login-throttle";
import { consumeOneTimeToken, issueOneTimeToken } from "../../../src/auth/one-time-tokens";
import { burnPasswordCheck, hashPassword, passwordPolicyProblem, verifyPassword } from "../../../src/auth/password";
import { issueTokens, revokeSession, rotateRefreshToken } from "../../../src/auth/sessions";
import { verifiedTenantId } from "../../../src/db/client";
import { TenantsRepo } from "../../../src/db/repositories/tenants";
import { TenantDb } from "../../../src/db/tenant-db";
import type { AppEnv } from "../../../src/http/context";
import { AppError } from "../../../src/http/errors";
import { BODY_ERRORS, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { uuidv7 } from "../../../src/lib/ids";
import { enqueueNotification } from "../../../src/notifications/messages";
import {
  Jwks,
  LoginBody,
  RefreshBody,
  RegisterBody,
  ResetConfirmBody,
  ResetRequestBody,
  Session,
  TokenPair,
  VerifyEmailBody,
} from "../../../src/schemas/auth";
import { toUserDto } from "../../../src/schemas/users";

const tags = ["Auth"];

/** Resolves a tenant named by slug on an unauthenticated entry point; suspended = absent. */
async function activeTenant(c: Context<AppEnv>, slug: string) {
  const t = await new TenantsRepo(c.var.db).findBySlug(slug);
  return t && t.status === "active" ? t : undefined;
}

export function assertPasswordPolicy(password: string, email?: string) {
  const problem = passwordPolicyProblem(password, email);
  if (problem) throw new AppError("WEAK_PASSWORD", problem, { errors: [{ field: "body.password", message: problem }] });
}

export async function sendVerificationEmail(c: Context<AppEnv>, db: TenantDb, user: { id: string; tenantId: string; email: string; name: string }) {
  const token = await issueOneTimeToken(c, db, user.id, "verify_email");
  await enqueueNotification(c.var.config.NOTIFICATIONS, {
    kind: "email",
    tenantId: user.tenantId,
    to: user.email,
    template: "verify_email",
    data: { name: user.name, link: `${c.var.config.PUBLIC_APP_URL}/verify-email?token=${token}` },
  });
  await audit(c, db, { action: "auth.email.verification_sent", targetType: "user", targetId: user.id });
}

export const register = createRoute({
  method: "post",
  path: "/v1/auth/register",
  tags,
  summary: "Register a customer account in a tenant",
  request: { body: jsonBody(RegisterBody) },
  responses: {
    201: jsonContent(Session, "Registered; a verification email was queued"),
    ...errorResponses(...BODY_ERRORS, "NOT_FOUND", "EMAIL_TAKEN", "WEAK_PASSWORD"),
  },
});

export const login = createRoute({
  method: "post",
  path: "/v1/auth/login",
  tags,
  summary: "Exchange email and password for tokens",
  request: { body: jsonBody(LoginBody) },
  responses: {
    200: jsonContent(Session, "Logged in"),
    ...errorResponses(...BODY_ERRORS, "INVALID_CREDENTIALS", "FORBIDDEN", "LOGIN_THROTTLED"),
  },
});

export const refresh = createRoute({
  method: "post",
  path: "/v1/auth/refresh",
  tags,
  summary: "Rotate a refresh token",
  description: "Every refresh token works once. Presenting a used one revokes its whole session family.",
  request: { body: jsonBody(RefreshBody) },
  responses: {
    200: jsonContent(TokenPair, "New token pair"),
    ...errorResponses(...BODY_ERRORS, "TOKEN_INVALID", "REFRESH_TOKEN_REUSED"),
  },
});

export const logout = createRoute({
  method: "post",
  path: "/v1/auth/logout",
  tags,
  summary: "Revoke the session of a refresh token",
  request: { body: jsonBody(RefreshBody) },
  responses: { 204: { description: "Session revoked (also for unknown tokens)" }, ...errorResponses(...BODY_ERRORS) },
});

export const resetRequest = createRoute({
  method: "post",
  path: "/v1/auth/password-reset/request",
  tags,
  summary: "Email a password reset link",
  description: "Always 202, whether or not the account exists, so it cannot be used to probe for accounts.",
  request: { body: jsonBody(ResetRequestBody) },
  responses: { 202: { description: "Accepted" }, ...errorResponses(...BODY_ERRORS) },
});

export const resetConfirm = createRoute({
  method: "post",
  path: "/v1/auth/password-reset/confirm",
  tags,
  summary: "Set a new password with a reset token",
  request: { body: jsonBody(ResetConfirmBody) },
  responses: { 204: { description: "Password changed; all sessions revoked" }, ...errorResponses(...BODY_ERRORS, "ONE_TIME_TOKEN_INVALID", "WEAK_PASSWORD") },
});

export const verifyEmail = createRoute({
  method: "post",
  path: "/v1/auth/verify-email",
  tags,
  summary: "Confirm an email address with the emailed token",
  request: { body: jsonBody(VerifyEmailBody) },
  responses: { 204: { description: "Email verified" }, ...errorResponses(...BODY_ERRORS, "ONE_TIME_TOKEN_INVALID") },
});

export const jwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags,
  summary: "Public keys that verify access tokens",
  responses: { 200: jsonContent(Jwks, "JSON Web Key Set"), ...errorResponses("CONFIG_INVALID") },
});

export const authRoutes = createRouter()
  .openapi(register, async (c) => {
    const body = c.req.valid("json");
    const tenant = await activeTenant(c, body.tenant);
    if (!tenant) throw new AppError("NOT_FOUND", "No such tenant");
    assertPasswordPolicy(body.password, body.email);
    const now = c.var.now();
    const db = new TenantDb(c.var.db, verifiedTenantId(tenant.id));
    const id = uuidv7(now);
    const created = await db.users.create(
      { id, email: body.email, name: body.name, passwordHash: await hashPassword(body.password), role: "customer" },
      now,
    );
    if (!created) throw new AppError("EMAIL_TAKEN", "An account with this email already exists in this tenant");
    const user = (await db.users.findById(id))!;
    await audit(c, db, { action: "auth.registered", targetType: "user", targetId: id, actor: { actorType: "user", actorId: id } });
    await sendVerificationEmail(c, db, user);
    const tokens = await issueTokens(c, db, user);
    return c.json({ user: toUserDto(user), tokens }, 201);
  })
  .openapi(login, async (c) => {
    const body = c.req.valid("json");
    const now = c.var.now();
    const tenant = await activeTenant(c, body.tenant);
    const throttle = await LoginThrottle.for(c.var.config, tenant?.id ?? `slug:${body.tenant}`, body.email, clientIp(c));
    try {
      await throttle.assertAllowed(now);
    } catch (err) {
      if (tenant) {
        await audit(c, new TenantDb(c.var.db, verifiedTenantId(tenant.id)), {
          action: "auth.login.throttled",
          details: { email: body.email },
          actor: { actorType: "anonymous", actorId: null },
        });
      }
      throw err;
    }
    if (!tenant) {
      await burnPasswordCheck(body.password);
      await throttle.recordFailure(now);
      throw new AppError("INVALID_CREDENTIALS");
    }
    const db = new TenantDb(c.var.db, verifiedTenantId(tenant.id));
    const user = await db.users.findByEmail(body.email);
    const check = user ? await verifyPassword(body.password, user.passwordHash) : (await burnPasswordCheck(body.password), null);
    if (!user || !check?.ok) {
      await throttle.recordFailure(now);
      await audit(c, db, {
        action: "auth.login.failed",
        targetType: "user",
        targetId: user?.id,
        details: { email: body.email, reason: user ? "bad_password" : "unknown_email" },
        actor: { actorType: "anonymous", actorId: null },
      });
      throw new AppError("INVALID_CREDENTIALS");
    }
    if (user.status !== "active") {
      await audit(c, db, { action: "auth.login.failed", targetType: "user", targetId: user.id, details: { reason: "banned" }, actor: { actorType: "user", actorId: user.id } });
      throw new AppError("FORBIDDEN", "This account is disabled");
    }
    await throttle.recordSuccess();
    if (check.needsRehash) await db.users.setPassword(user.id, await hashPassword(body.password), now, false);
    await db.users.recordLogin(user.id, now);
    const tokens = await issueTokens(c, db, user);
    await audit(c, db, { action: "auth.login.succeeded", targetType: "user", targetId: user.id, actor: { actorType: "user", actorId: user.id } });
    return c.json({ user: toUserDto({ ...user, lastLoginAt: now }), tokens }, 200);
  })
  .openapi(refresh, async (c) => c.json(await rotateRefreshToken(c, c.req.valid("json").refreshToken), 200))
  .openapi(logout, async (c) => {
    await revokeSession(c, c.req.valid("json").refreshToken);
    return c.body(null, 204);
  })
  .openapi(resetRequest, async (c) => {
    const body = c.req.valid("json");
    const tenant = await activeTenant(c, body.tenant);
    if (tenant) {
      const db = new TenantDb(c.var.db, verifiedTenantId(tenant.id));
      const user = await db.users.findByEmail(body.email);
      if (user && user.status === "active") {
        const token = await issueOneTimeToken(c, db, user.id, "password_reset");
        await enqueueNotification(c.var.config.NOTIFICATIONS, {
          kind: "email",
          tenantId: tenant.id,
          to: user.email,
          template: "password_reset",
          data: { link: `${c.var.config.PUBLIC_APP_URL}/reset-password?token=${token}` },
        });
        await audit(c, db, { action: "auth.password.reset_requested", targetType: "user", targetId: user.id, actor: { actorType: "anonymous", actorId: null } });
      }
    }
    return c.body(null, 202);
  })
  .openapi(resetConfirm, async (c) => {
    const body = c.req.valid("json");
    const { db, user } = await consumeOneTimeToken(c, body.token, "password_reset", (u) =>
      assertPasswordPolicy(body.newPassword, u.email),
    );
    const now = c.var.now();
    await db.users.setPassword(user.id, await hashPassword(body.newPassword), now, true);
    // Whoever held the old password may hold sessions too: end them all.
    await db.refreshTokens.revokeAllForUser(user.id, "password_reset", now);
    if (user.emailVerifiedAt === null) await db.users.markEmailVerified(user.id, now);
    await audit(c, db, { action: "auth.password.reset", targetType: "user", targetId: user.id, actor: { actorType: "user", actorId: user.id } });
    await enqueueNotification(c.var.config.NOTIFICATIONS, { kind: "email", tenantId: user.tenantId, to: user.email, template: "password_changed", data: {} });
    return c.body(null, 204);
  })
  .openapi(verifyEmail, async (c) => {
    const { db, user } = await consumeOneTimeToken(c, c.req.valid("json").token, "verify_email");
    await db.users.markEmailVerified(user.id, c.var.now());
    await audit(c, db, { action: "auth.email.verified", targetType: "user", targetId: user.id, actor: { actorType: "user", actorId: user.id } });
    // The address is proven: tickets sent to it before the account existed become the user's.
    await inBackground(
      c,
      claimTicketsSentTo(db, c.var.config.EVENT_INVENTORY, user, c.var.now()).catch((err) =>
        log("error", "transfers: claim after verification failed; the user can claim later", { userId: user.id, ...errorFields(err) }),
      ),
    );
    return c.body(null, 204);
  })
  .openapi(jwks, async (c) => {
    c.header("cache-control", "public, max-age=300");
    return c.json(await publicJwks(c.var.config), 200);
  });
