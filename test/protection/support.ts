import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { registerUser, type TenantFixture } from "../helpers/fixtures";
import { buy, drainInventory } from "../orders/support";
import { onSaleEvent } from "../sales/support";

/** An ON_SALE event with a free tier (paid at once) of which a customer bought `quantity` tickets, recorded in D1. */
export async function soldEvent(tenant: TenantFixture, quantity = 1, tierOverrides: Record<string, unknown> = {}) {
  const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 50, ...tierOverrides });
  const buyer = await registerUser(tenant);
  const order = await buy(buyer.tokens.accessToken, event.id, tier.id, quantity);
  expect(order.status, order.text).toBe(201);
  await drainInventory(tenant.id, event.id);
  return { event: event as typeof event & { venueId: string; startsAt: string; endsAt: string }, tier, buyer };
}

export interface AuditEntry {
  action: string;
  actorId: string | null;
  targetId: string | null;
  details: Record<string, unknown> | null;
}

/** The tenant's audit entries for a target, oldest first (optionally one action only). */
export async function auditOf(tenantId: string, targetId: string, action?: string): Promise<AuditEntry[]> {
  const { results } = await env.DB.prepare(
    "SELECT action, actor_id, target_id, details FROM audit_log WHERE tenant_id = ? AND target_id = ? AND (?3 IS NULL OR action = ?3) ORDER BY created_at, id",
  )
    .bind(tenantId, targetId, action ?? null)
    .all<Record<string, string | null>>();
  return results.map((r) => ({
    action: r.action!,
    actorId: r.actor_id ?? null,
    targetId: r.target_id ?? null,
    details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
  }));
}

export interface SentEmailRow {
  id: string;
  recipient: string;
  template: string;
  subject: string;
  body: string;
}

/** The holder emails one outbox message produced. */
export async function holderEmails(outboxId: string): Promise<SentEmailRow[]> {
  const prefix = `holder-notice:${outboxId}:`;
  const { results } = await env.DB.prepare("SELECT id, recipient, template, subject, body FROM sent_emails WHERE substr(id, 1, ?2) = ?1 ORDER BY recipient")
    .bind(prefix, prefix.length)
    .all<SentEmailRow>();
  return results;
}
