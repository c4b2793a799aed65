import { z } from "@hono/zod-openapi";
import type { TenantRow } from "../db/schema";
import { Email, iso, PageQuery, Password, PersonName, TenantSlug } from "./common";

export const CreateTenantBody = z
  .strictObject({
    slug: TenantSlug,
    name: z.string().trim().min(1).max(200),
    owner: z.strictObject({ email: Email, name: PersonName, password: Password }),
  })
  .openapi("CreateTenant");

export const SuspendBody = z.strictObject({ reason: z.string().trim().min(3).max(500) }).openapi("SuspendTenant");

export const TenantListQuery = PageQuery.extend({ status: z.enum(["active", "suspended"]).optional() });

export const Tenant = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(["active", "suspended"]),
    suspendedReason: z.string().nullable(),
    suspendedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Tenant");

export function toTenantDto(t: TenantRow): z.infer<typeof Tenant> {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    status: t.status,
    suspendedReason: t.suspendedReason,
    suspendedAt: iso(t.suspendedAt),
    createdAt: iso(t.createdAt)!,
  };
}
