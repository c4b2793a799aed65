import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { TenantPrincipal } from "../../src/auth/principal";
import { createDb, verifiedTenantId } from "../../src/db/client";
import type { EventStatus, Role } from "../../src/db/schema";
import { TenantDb } from "../../src/db/tenant-db";
import { call } from "../helpers/http";

export const OWNER_BODY = {
  name: "Hall One",
  addressLine1: "1 Main Street",
  city: "Berlin",
  country: "DE",
  timezone: "Europe/Berlin",
  capacity: 500,
};

/** The tenant's data layer, as the routes see it, for assertions below the HTTP surface. */
export const tenantDb = (tenantId: string) => new TenantDb(createDb(env.DB), verifiedTenantId(tenantId));

export interface AuditEntry {
  id: string;
  action: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, any> | null;
}

/** A venue's audit entries through GET /v1/audit-log?targetId=, oldest first. */
export async function auditOf(token: string, venueId: string): Promise<AuditEntry[]> {
  const res = await call("GET", `/v1/audit-log?targetId=${venueId}&limit=100`, { token });
  expect(res.status, res.text).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  return (res.body.items as AuditEntry[]).reverse();
}

/**
 * An event row at the venue in the given status, written straight to D1: venue rules must
 * hold whatever route or cron put the event there, and the event routes are not needed.
 */
export async function insertEvent(tenantId: string, venueId: string, status: EventStatus, opts: { deleted?: boolean } = {}) {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO events (id, tenant_id, venue_id, slug, name, status, timezone, starts_at, ends_at, created_by, created_at, updated_at, deleted_at)
     VALUES (?, ?, ?, ?, ?, ?, 'Europe/Berlin', ?, ?, 'test', ?, ?, ?)`,
  )
    .bind(id, tenantId, venueId, `e-${id}`, `Event ${status}`, status, now + 86_400_000, now + 90_000_000, now, now, opts.deleted ? now : null)
    .run();
  return id;
}

/** A user principal as authentication would build it, for calling domain checks directly. */
export const userPrincipal = (tenantId: string, userId: string, role: Role): TenantPrincipal => ({
  kind: "user",
  tenantId: verifiedTenantId(tenantId),
  userId,
  role,
  sessionId: "test-session",
  emailVerified: true,
  accountCreatedAt: 0,
});
