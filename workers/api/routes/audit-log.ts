import { createRoute, z } from "@hono/zod-openapi";
import { guard, STAFF_ADMINS, tenantOf } from "../../../src/auth/authenticate";
import { decodeCursor } from "../../../src/db/pagination";
import type { AuditRow } from "../../../src/db/schema";
import { AUTH_ERRORS, bearerAuth, createRouter, errorResponses, jsonContent } from "../../../src/http/openapi";
import { iso, PageQuery, pageOf } from "../../../src/schemas/common";

const AuditEntry = z
  .object({
    id: z.string(),
    action: z.string(),
    actorType: z.string(),
    actorId: z.string().nullable(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    requestId: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
  })
  .openapi("AuditEntry");

const AuditQuery = PageQuery.extend({
  action: z.string().max(64).regex(/^[a-z_.]+$/).optional(),
  targetId: z.string().max(64).optional(),
});

const toDto = (r: AuditRow): z.infer<typeof AuditEntry> => ({
  id: r.id,
  action: r.action,
  actorType: r.actorType,
  actorId: r.actorId,
  targetType: r.targetType,
  targetId: r.targetId,
  requestId: r.requestId,
  ip: r.ip,
  userAgent: r.userAgent,
  details: r.details ?? null,
  createdAt: iso(r.createdAt)!,
});

export const listAudit = createRoute({
  method: "get",
  path: "/v1/audit-log",
  tags: ["Audit"],
  security: bearerAuth,
  summary: "The tenant's audit log, newest first",
  middleware: guard({ roles: STAFF_ADMINS, scopes: ["audit:read"] }),
  request: { query: AuditQuery },
  responses: { 200: jsonContent(pageOf(AuditEntry, "AuditPage"), "A page of entries"), ...errorResponses(...AUTH_ERRORS) },
});

export const auditRoutes = createRouter().openapi(listAudit, async (c) => {
  const q = c.req.valid("query");
  const page = await tenantOf(c).db.audit.list({ limit: q.limit, cursor: decodeCursor(q.cursor), action: q.action, targetId: q.targetId });
  return c.json({ items: page.items.map(toDto), nextCursor: page.nextCursor }, 200);
});
