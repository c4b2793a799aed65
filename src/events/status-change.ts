import type { PreparedAudit } from "../audit/audit";
import type { OutboxMessage } from "../db/repositories/events";
import type { EventRow } from "../db/schema";
import type { TenantDb } from "../db/tenant-db";
import type { StatusChangePlan } from "../domain/event-transitions";
import { uuidv7 } from "../lib/ids";
import { EventStatusChangedOutboxBodySchema, type EventStatusChangedOutboxBody } from "../notifications/messages";

export interface CommittedStatusChange {
  /** The event after the change; null when `expectedVersion` was stale or the event is gone. */
  row: EventRow | null;
  /** Outbox messages committed with it (0 or 1); worth a drain when > 0. */
  messages: number;
}

/** The domain event holders hear about, as stored in the outbox. */
export function statusChangedMessage(event: EventRow, plan: StatusChangePlan, at: number): EventStatusChangedOutboxBody {
  return EventStatusChangedOutboxBodySchema.parse({
    kind: "event.status_changed",
    tenantId: event.tenantId,
    eventId: event.id,
    from: plan.from,
    to: plan.to,
    reason: plan.reason,
    at,
    ...(plan.schedule ? { schedule: plan.schedule } : {}),
  });
}

/**
 * Commits a planned status change, compare-and-set on `expectedVersion`: the row, its
 * history entry and (for changes holders must hear about) the outbox message go in one
 * D1 batch, and only if this write won. The route and the cron both come through here,
 * so a manual change racing the clock leaves exactly one of them in the history.
 */
export async function commitStatusChange(
  db: TenantDb,
  event: EventRow,
  expectedVersion: number,
  plan: StatusChangePlan,
  audit: PreparedAudit,
): Promise<CommittedStatusChange> {
  const messages: OutboxMessage[] = plan.notifyHolders
    ? [{ id: uuidv7(audit.createdAt), topic: "notifications", body: statusChangedMessage(event, plan, audit.createdAt) }]
    : [];
  const row = await db.events.update(event.id, expectedVersion, plan.changes, audit, messages);
  return { row, messages: row ? messages.length : 0 };
}
