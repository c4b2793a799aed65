import { z } from "@hono/zod-openapi";
import { ROLES, type UserRow } from "../db/schema";
import { iso, PageQuery } from "./common";
import type { User } from "./auth";

export const UserListQuery = PageQuery.extend({
  role: z.enum(ROLES).optional(),
  status: z.enum(["active", "banned"]).optional(),
});

export const RoleChangeBody = z.strictObject({ role: z.enum(ROLES) }).openapi("RoleChange");
export const BanBody = z.strictObject({ reason: z.string().trim().min(3).max(500) }).openapi("BanRequest");

/** The only way a user row leaves the worker: no hash, no token version. */
export function toUserDto(u: UserRow): z.infer<typeof User> {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    status: u.status,
    emailVerified: u.emailVerifiedAt !== null,
    createdAt: iso(u.createdAt)!,
    lastLoginAt: iso(u.lastLoginAt),
  };
}
