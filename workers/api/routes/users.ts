import { createRoute, z } from "@hono/zod-openapi";
import { audit } from "../../../src/audit/audit";
import { guard, STAFF_ADMINS, tenantOf } from "../../../src/auth/authenticate";
import { decodeCursor } from "../../../src/db/pagination";
import type { UserRow } from "../../../src/db/schema";
import type { TenantDb } from "../../../src/db/tenant-db";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { User } from "../../../src/schemas/auth";
import { IdParam, pageOf } from "../../../src/schemas/common";
import { BanBody, RoleChangeBody, toUserDto, UserListQuery } from "../../../src/schemas/users";

const tags = ["Users"];
const UserPage = pageOf(User, "UserPage");
const UserIdParams = z.strictObject({ userId: IdParam("userId") });
const read = guard({ roles: STAFF_ADMINS, scopes: ["users:read"] });
const write = guard({ roles: STAFF_ADMINS, scopes: ["users:write"] });

export const listUsers = createRoute({
  method: "get",
  path: "/v1/users",
  tags,
  security: bearerAuth,
  summary: "List the tenant's users",
  middleware: read,
  request: { query: UserListQuery },
  responses: { 200: jsonContent(UserPage, "A page of users"), ...errorResponses(...AUTH_ERRORS) },
});

export const getUser = createRoute({
  method: "get",
  path: "/v1/users/{userId}",
  tags,
  security: bearerAuth,
  summary: "Get one user",
  middleware: read,
  request: { params: UserIdParams },
  responses: { 200: jsonContent(User, "The user"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const changeRole = createRoute({
  method: "patch",
  path: "/v1/users/{userId}/role",
  tags,
  security: bearerAuth,
  summary: "Change a user's role",
  description: "Only owners grant or take away the owner role; the last active owner cannot be demoted.",
  middleware: write,
  request: { params: UserIdParams, body: jsonBody(RoleChangeBody) },
  responses: { 200: jsonContent(User, "Updated user"), ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "NOT_FOUND", "LAST_OWNER") },
});

export const banUser = createRoute({
  method: "post",
  path: "/v1/users/{userId}/ban",
  tags,
  security: bearerAuth,
  summary: "Ban a user; their tokens stop working at once",
  middleware: write,
  request: { params: UserIdParams, body: jsonBody(BanBody) },
  responses: { 200: jsonContent(User, "Banned user"), ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "NOT_FOUND", "LAST_OWNER", "CONFLICT") },
});

export const unbanUser = createRoute({
  method: "post",
  path: "/v1/users/{userId}/unban",
  tags,
  security: bearerAuth,
  summary: "Lift a ban",
  middleware: write,
  request: { params: UserIdParams },
  responses: { 200: jsonContent(User, "Active user"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

async function target(db: TenantDb, id: string): Promise<UserRow> {
  const user = await db.users.findById(id);
  if (!user) throw new AppError("NOT_FOUND", "No such user");
  return user;
}

/**
 * Owners are managed only by owners. API keys manage only non-staff-admin accounts: a key
 * with users:write must not be able to mint an admin, who could then mint any key.
 */
function assertMayManage(actorRole: string | null, victim: UserRow, newRole?: string) {
  const touchesOwner = victim.role === "owner" || newRole === "owner";
  if (touchesOwner && actorRole !== "owner") throw new AppError("FORBIDDEN", "Only an owner can manage owners");
  const touchesAdmin = victim.role === "admin" || newRole === "admin";
  if (touchesAdmin && actorRole === null) throw new AppError("FORBIDDEN", "API keys cannot manage admins");
}

export const userRoutes = createRouter()
  .openapi(listUsers, async (c) => {
    const q = c.req.valid("query");
    const page = await tenantOf(c).db.users.list({ limit: q.limit, cursor: decodeCursor(q.cursor), role: q.role, status: q.status });
    return c.json({ items: page.items.map(toUserDto), nextCursor: page.nextCursor }, 200);
  })
  .openapi(getUser, async (c) => c.json(toUserDto(await target(tenantOf(c).db, c.req.valid("param").userId)), 200))
  .openapi(changeRole, async (c) => {
    const { principal, db } = tenantOf(c);
    const victim = await target(db, c.req.valid("param").userId);
    const { role } = c.req.valid("json");
    assertMayManage(principal.kind === "user" ? principal.role : null, victim, role);
    if (victim.role === role) return c.json(toUserDto(victim), 200);
    if (victim.role === "owner" && victim.status === "active" && (await db.users.countActiveOwners()) <= 1) {
      throw new AppError("LAST_OWNER");
    }
    const now = c.var.now();
    await db.users.setRole(victim.id, role, now);
    await audit(c, db, { action: "user.role_changed", targetType: "user", targetId: victim.id, details: { from: victim.role, to: role } });
    return c.json(toUserDto({ ...victim, role, updatedAt: now }), 200);
  })
  .openapi(banUser, async (c) => {
    const { principal, db } = tenantOf(c);
    const victim = await target(db, c.req.valid("param").userId);
    const { reason } = c.req.valid("json");
    if (principal.kind === "user" && principal.userId === victim.id) throw new AppError("CONFLICT", "You cannot ban yourself");
    assertMayManage(principal.kind === "user" ? principal.role : null, victim);
    if (victim.role === "owner" && (await db.users.countActiveOwners()) <= 1) throw new AppError("LAST_OWNER");
    const now = c.var.now();
    if (victim.status !== "banned") {
      await db.users.ban(victim.id, reason, now);
      await db.refreshTokens.revokeAllForUser(victim.id, "banned", now);
      await audit(c, db, { action: "user.banned", targetType: "user", targetId: victim.id, details: { reason } });
    }
    return c.json(toUserDto({ ...victim, status: "banned" }), 200);
  })
  .openapi(unbanUser, async (c) => {
    const { principal, db } = tenantOf(c);
    const victim = await target(db, c.req.valid("param").userId);
    assertMayManage(principal.kind === "user" ? principal.role : null, victim);
    if (victim.status === "banned") {
      await db.users.unban(victim.id, c.var.now());
      await audit(c, db, { action: "user.unbanned", targetType: "user", targetId: victim.id });
    }
    return c.json(toUserDto({ ...victim, status: "active" }), 200);
  });
