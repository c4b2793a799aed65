import type { Context } from "hono";
import { prepareAudit, type PreparedAudit } from "../audit/audit";
import type { TenantPrincipal } from "../auth/principal";
import type { OutboxMessage } from "../db/repositories/events";
import type { EventStatus } from "../db/schema";
import { isTenantAdmin } from "../domain/event-access";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { rpc, type InventoryStub } from "../inventory/client";
import type { TierCounts } from "../inventory/contract";
import { uuidv7 } from "../lib/ids";
import { EventChangedForHoldersOutboxBodySchema } from "../notifications/messages";

/**
 * Sold-ticket protection (seed 002 "Sold Ticket Protection"): once tickets are sold, what
 * buyers paid for is fixed. Changes to an event's venue, times or time zone (by PATCH, PUT
 * or a reschedule), and to a sold tier's currency or price rules, are refused with
 * 409 PROTECTED_FIELD listing the `fields`, unless a tenant owner or admin sends
 * `override: { reason }`. An override is audited (event.protected_override /
 * tier.protected_override, with the fields, reason and before/after) and tells the holders,
 * both in the change's own D1 batch.
 *
 * The event's EventInventory DO is the authority on what is sold: its `counts()` are asked
 * whenever a protected field changes, and when it cannot be reached the change is refused
 * with 503 DEPENDENCY_UNAVAILABLE rather than made blind. Capacity below what is held and
 * sold is a separate rule the DO enforces (CAPACITY_BELOW_COMMITTED).
 */

/** Event fields holders bought: where and when. */
export const EVENT_PROTECTED_FIELDS = ["venueId", "startsAt", "endsAt", "doorsOpenAt", "timezone"] as const;
/** A tier's money: its currency and every price rule (API field names, as in the tier diff). */
export const TIER_PROTECTED_FIELDS = [
  "currency",
  "priceMinor",
  "serviceFeeMinor",
  "facilityFeeMinor",
  "taxBps",
  "earlyBird",
  "lastMinute",
  "groupDiscount",
] as const;

/**
 * States an event cannot have sold in: sales need ON_SALE, which only comes after
 * PUBLISHED, and no transition leads from there back to these. The DO is not asked.
 */
const NEVER_SOLD: readonly EventStatus[] = ["DRAFT", "REVIEW", "APPROVED"];

export interface ProtectionOverride {
  reason: string;
}

export type FieldDiff = Record<string, { from: unknown; to: unknown }>;

/** Refuses an override from anyone but a tenant owner or admin (API keys included), whether or not it would be needed. */
export function assertMayOverride(p: TenantPrincipal, override: ProtectionOverride | undefined): void {
  if (override && !isTenantAdmin(p)) throw new AppError("FORBIDDEN", "only tenant admins may override sold-ticket protection");
}

/** Tickets sold per tier as the DO counts them; 503 DEPENDENCY_UNAVAILABLE when it cannot be reached. */
export async function soldByTier(inventory: InventoryStub, status: EventStatus): Promise<Map<string, number>> {
  if (NEVER_SOLD.includes(status)) return new Map();
  const counts = await rpc<TierCounts[]>("counts", inventory.counts());
  return new Map(counts.map((t) => [t.tierId, t.sold]));
}

export const totalSold = (sold: Map<string, number>) => [...sold.values()].reduce((a, b) => a + b, 0);

/** What a change may do: no protected field of something sold changes, or an admin overrode. */
export type ProtectionVerdict = { overridden: false } | { overridden: true; fields: string[]; reason: string; sold: number };

/**
 * The verdict on a change of the protected `fields` (those that change) of something that
 * has `sold` tickets. Throws 409 PROTECTED_FIELD without an override. `prefix` is where the
 * fields sit in the request ("body", "body.schedule").
 */
export function judgeProtectedChange(
  fields: readonly string[],
  sold: number,
  override: ProtectionOverride | undefined,
  opts: { what: string; prefix?: string },
): ProtectionVerdict {
  if (fields.length === 0 || sold === 0) return { overridden: false };
  if (!override) {
    const prefix = opts.prefix ?? "body";
    throw new AppError(
      "PROTECTED_FIELD",
      `${sold} ticket(s) of this ${opts.what} are sold, so ${fields.join(", ")} cannot change; a tenant owner or admin may send ` +
        "`override: { reason }` to change it anyway, which is audited and tells the ticket holders",
      { fields: [...fields], sold, errors: fields.map((f) => ({ field: `${prefix}.${f}`, message: "protected: tickets are sold" })) },
    );
  }
  return { overridden: true, fields: [...fields], reason: override.reason, sold };
}

/** The protected fields that a diff changes, in the list's order. */
export const protectedIn = (list: readonly string[], diff: object) => list.filter((f) => f in diff);

/** Audit details of an override: which fields, why, how many were sold, and their values before and after. */
export function overrideDetails(v: { fields: string[]; reason: string; sold: number }, diff: FieldDiff, extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    fields: v.fields,
    reason: v.reason,
    sold: v.sold,
    before: Object.fromEntries(v.fields.map((f) => [f, diff[f]?.from ?? null])),
    after: Object.fromEntries(v.fields.map((f) => [f, diff[f]?.to ?? null])),
  };
}

export interface OverrideRecord {
  audit: PreparedAudit;
  message?: OutboxMessage;
}

/**
 * The override's audit entry and (unless the change already tells holders, as a reschedule
 * does) the outbox message that tells them, to be written in the change's own batch.
 */
export function overrideRecord(
  c: Context<AppEnv>,
  target: { type: "event" | "tier"; id: string; tenantId: string; eventId: string; tierId?: string },
  verdict: Extract<ProtectionVerdict, { overridden: true }>,
  diff: FieldDiff,
  at: number,
  opts: { notify: boolean } = { notify: true },
): OverrideRecord {
  const action = target.type === "event" ? "event.protected_override" : "tier.protected_override";
  const extra = target.type === "tier" ? { eventId: target.eventId } : {};
  // Tenant configuration stored as sent, like the event and tier diffs.
  const audit = prepareAudit(c, { action, targetType: target.type, targetId: target.id, details: overrideDetails(verdict, diff, extra), verbatim: true }, at);
  if (!opts.notify) return { audit };
  const changes = Object.fromEntries(verdict.fields.map((f) => [f, { from: diff[f]?.from ?? null, to: diff[f]?.to ?? null }]));
  const body = EventChangedForHoldersOutboxBodySchema.parse({
    kind: "event.changed_for_holders",
    tenantId: target.tenantId,
    eventId: target.eventId,
    ...(target.tierId ? { tierId: target.tierId } : {}),
    fields: verdict.fields,
    changes,
    reason: verdict.reason,
    at,
  });
  return { audit, message: { id: uuidv7(at), topic: "notifications", body } };
}
