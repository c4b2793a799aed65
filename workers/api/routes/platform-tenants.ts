import { createRoute, z } from "@hono/zod-openapi";
import { audit } from "../../../src/audit/audit";
import { requirePlatformAdmin } from "../../../src/auth/authenticate";
import { hashPassword } from "../../../src/auth/password";
import { verifiedTenantId } from "../../../src/db/client";
import { decodeCursor } from "../../../src/db/pagination";
import { TenantsRepo } from "../../../src/db/repositories/tenants";
import { TenantDb } from "../../../src/db/tenant-db";
import { AppError } from "../../../src/http/errors";
import { BODY_ERRORS, createRouter, errorResponses, jsonBody, jsonContent, platformAuth } from "../../../src/http/openapi";
import { uuidv7 } from "../../../src/lib/ids";
import { IdParam, pageOf } from "../../../src/schemas/common";
import { CreateTenantBody, SuspendBody, Tenant, TenantListQuery, toTenantDto } from "../../../src/schemas/tenants";
import { assertPasswordPolicy } from "./auth";

const tags = ["Platform"];
const PLATFORM_ERRORS = ["UNAUTHENTICATED", "TOKEN_INVALID"] as const;
const TenantParams = z.strictObject({ tenantId: IdParam("tenantId") });
const CreatedTenant = z.object({ tenant: Tenant, ownerId: z.string() }).openapi("CreatedTenant");

export const createTenant = createRoute({
  method: "post",
  path: "/v1/platform/tenants",
  tags,
  security: platformAuth,
  summary: "Create a tenant and its owner",
  middleware: [requirePlatformAdmin],
  request: { body: jsonBody(CreateTenantBody) },
  responses: { 201: jsonContent(CreatedTenant, "Created"), ...errorResponses(...PLATFORM_ERRORS, ...BODY_ERRORS, "TENANT_SLUG_TAKEN", "WEAK_PASSWORD") },
});

export const listTenants = createRoute({
  method: "get",
  path: "/v1/platform/tenants",
  tags,
  security: platformAuth,
  summary: "List tenants",
  middleware: [requirePlatformAdmin],
  request: { query: TenantListQuery },
  responses: { 200: jsonContent(pageOf(Tenant, "TenantPage"), "A page of tenants"), ...errorResponses(...PLATFORM_ERRORS) },
});

export const getTenant = createRoute({
  method: "get",
  path: "/v1/platform/tenants/{tenantId}",
  tags,
  security: platformAuth,
  summary: "Get a tenant",
  middleware: [requirePlatformAdmin],
  request: { params: TenantParams },
  responses: { 200: jsonContent(Tenant, "The tenant"), ...errorResponses(...PLATFORM_ERRORS, "NOT_FOUND") },
});

export const suspendTenant = createRoute({
  method: "post",
  path: "/v1/platform/tenants/{tenantId}/suspend",
  tags,
  security: platformAuth,
  summary: "Suspend a tenant: every credential of it stops working at once",
  middleware: [requirePlatformAdmin],
  request: { params: TenantParams, body: jsonBody(SuspendBody) },
  responses: { 200: jsonContent(Tenant, "Suspended"), ...errorResponses(...PLATFORM_ERRORS, ...BODY_ERRORS, "NOT_FOUND") },
});

export const reactivateTenant = createRoute({
  method: "post",
  path: "/v1/platform/tenants/{tenantId}/reactivate",
  tags,
  security: platformAuth,
  summary: "Lift a suspension",
  middleware: [requirePlatformAdmin],
  request: { params: TenantParams },
  responses: { 200: jsonContent(Tenant, "Active"), ...errorResponses(...PLATFORM_ERRORS, "NOT_FOUND") },
});

export const platformRoutes = createRouter()
  .openapi(createTenant, async (c) => {
    const body = c.req.valid("json");
    assertPasswordPolicy(body.owner.password, body.owner.email);
    const now = c.var.now();
    const tenant = { id: uuidv7(now), slug: body.slug, name: body.name };
    const ownerId = uuidv7(now);
    const repo = new TenantsRepo(c.var.db);
    const ok = await repo.createWithOwner(
      tenant,
      { id: ownerId, email: body.owner.email, name: body.owner.name, passwordHash: await hashPassword(body.owner.password) },
      now,
    );
    if (!ok) throw new AppError("TENANT_SLUG_TAKEN", `The slug "${body.slug}" is taken`);
    await audit(c, new TenantDb(c.var.db, verifiedTenantId(tenant.id)), {
      action: "tenant.created",
      targetType: "tenant",
      targetId: tenant.id,
      details: { slug: tenant.slug, ownerId },
    });
    c.header("location", `/v1/platform/tenants/${tenant.id}`);
    return c.json({ tenant: toTenantDto((await repo.findById(tenant.id))!), ownerId }, 201);
  })
  .openapi(listTenants, async (c) => {
    const q = c.req.valid("query");
    const page = await new TenantsRepo(c.var.db).list({ limit: q.limit, cursor: decodeCursor(q.cursor), status: q.status });
    return c.json({ items: page.items.map(toTenantDto), nextCursor: page.nextCursor }, 200);
  })
  .openapi(getTenant, async (c) => {
    const t = await new TenantsRepo(c.var.db).findById(c.req.valid("param").tenantId);
    if (!t) throw new AppError("NOT_FOUND", "No such tenant");
    return c.json(toTenantDto(t), 200);
  })
  .openapi(suspendTenant, async (c) => {
    const { tenantId } = c.req.valid("param");
    const { reason } = c.req.valid("json");
    const t = await new TenantsRepo(c.var.db).setStatus(tenantId, "suspended", reason, c.var.now());
    if (!t) throw new AppError("NOT_FOUND", "No such tenant");
    await audit(c, new TenantDb(c.var.db, verifiedTenantId(t.id)), { action: "tenant.suspended", targetType: "tenant", targetId: t.id, details: { reason } });
    return c.json(toTenantDto(t), 200);
  })
  .openapi(reactivateTenant, async (c) => {
    const { tenantId } = c.req.valid("param");
    const t = await new TenantsRepo(c.var.db).setStatus(tenantId, "active", null, c.var.now());
    if (!t) throw new AppError("NOT_FOUND", "No such tenant");
    await audit(c, new TenantDb(c.var.db, verifiedTenantId(t.id)), { action: "tenant.reactivated", targetType: "tenant", targetId: t.id });
    return c.json(toTenantDto(t), 200);
  });
