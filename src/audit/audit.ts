import type { Context } from "hono";
import { actorOf, type Principal } from "../auth/principal";
import type { AuditEntry } from "../db/repositories/audit-log";
import type { TenantDb } from "../db/tenant-db";
import type { AppEnv } from "../http/context";
import { uuidv7 } from "../lib/ids";
import { redact } from "../observability/logger";

/** Auth and admin events recorded in the tenant's audit log. */
export type AuditAction =
  | "auth.login.succeeded"
  | "auth.login.failed"
  | "auth.login.throttled"
  | "auth.refreshed"
  | "auth.refresh_reuse_detected"
  | "auth.logout"
  | "auth.registered"
  | "auth.password.changed"
  | "auth.password.reset_requested"
  | "auth.password.reset"
  | "auth.email.verification_sent"
  | "auth.email.verified"
  | "user.banned"
  | "user.unbanned"
  | "user.role_changed"
  | "api_key.created"
  | "api_key.revoked"
  | "tenant.created"
  | "tenant.suspended"
  | "tenant.reactivated"
  | "venue.created"
  | "venue.updated"
  | "venue.deleted"
  | "venue.access_granted"
  | "venue.access_revoked"
  | "event.created"
  | "event.updated"
  | "event.deleted"
  | "event.status_changed"
  | "event.protected_override"
  | "tier.created"
  | "tier.create_reverted"
  | "tier.updated"
  | "tier.update_reverted"
  | "tier.synced"
  | "tier.protected_override";

export interface AuditInput {
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
  /** Defaults to the request's principal; login attempts name the user explicitly. */
  actor?: { actorType: "platform" | "user" | "api_key" | "system" | "anonymous"; actorId: string | null };
  /**
   * Details are the tenant's own resource data (an event's before/after diff), stored as
   * sent: redacting keys like `token` there would falsify the history. Never set it for
   * details that may hold credentials.
   */
  verbatim?: boolean;
}

export function clientIp(c: Context<AppEnv>): string | null {
  return c.req.header("cf-connecting-ip") ?? c.req.header("x-real-ip") ?? null;
}

export interface PreparedAudit {
  id: string;
  entry: AuditEntry;
  createdAt: number;
}

/**
 * Builds an audit entry from the request (actor, request id, ip, user agent) without writing it.
 * `now` defaults to the request clock; pass the time the change itself records to keep them equal.
 */
export function prepareAudit(c: Context<AppEnv>, input: AuditInput, now: number = c.var.now()): PreparedAudit {
  const actor = input.actor ?? actorOf(c.var.principal as Principal | undefined);
  return {
    id: uuidv7(now),
    createdAt: now,
    entry: {
      ...actor,
      action: input.action,
      targetType: input.targetType ?? null,
      targetId: input.targetId ?? null,
      requestId: c.var.requestId,
      ip: clientIp(c),
      userAgent: c.req.header("user-agent")?.slice(0, 512) ?? null,
      // Belt and braces: details never carry secrets even if a caller passes one.
      details: input.details ? (input.verbatim ? input.details : (redact(input.details) as Record<string, unknown>)) : null,
    },
  };
}

export async function audit(c: Context<AppEnv>, db: TenantDb, input: AuditInput): Promise<void> {
  const { id, entry, createdAt } = prepareAudit(c, input);
  await db.audit.append(id, entry, createdAt);
}
