import { and, asc, gt, sql } from "drizzle-orm";
import type { PreparedAudit } from "../audit/audit";
import type { Db } from "../db/client";
import type { OutboxMessage } from "../db/repositories/events";
import { events, type EventRow } from "../db/schema";
import { TenantDb } from "../db/tenant-db";
import { verifiedTenantId } from "../db/client";
import type { StatusChangePlan } from "../domain/event-transitions";
import { inventoryOf, type InventoryNamespace } from "../inventory/client";
import type { GateState } from "../inventory/contract";
import { uuidv7 } from "../lib/ids";
import { withTimeout } from "../lib/timeout";
import { EventStatusChangedOutboxBodySchema, type EventStatusChangedOutboxBody } from "../notifications/messages";
import { errorFields, log } from "../observability/logger";

export interface CommittedStatusChange {
  /** The event after the change; null when `expectedVersion` was stale or the event is gone. */
  row: EventRow | null;
  /** Outbox messages committed with it (0 or 1); worth a drain when > 0. */
  messages: number;
  /** Whether the new gate reached the event's inventory (false: logged, the cron pushes it again). */
  gatePushed?: boolean;
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
 *
 * With `inventory`, the committed state is then pushed to the event's EventInventory DO,
 * which opens its sales gate for ON_SALE and closes it for every other status. D1 stays
 * the record: a push that fails is logged, not answered as a failure of the change, and
 * `resyncLaggingGates` (every cron tick) pushes the gate of every event whose DO lags.
 * The cron's own transitions rely on that job rather than on this parameter.
 *
 * `extraAudits` are further entries about the same change (a reschedule that overrode
 * sold-ticket protection), written in the same batch and only if the change won.
 */
export async function commitStatusChange(
  db: TenantDb,
  event: EventRow,
  expectedVersion: number,
  plan: StatusChangePlan,
  audit: PreparedAudit,
  inventory?: InventoryNamespace,
  extraAudits: PreparedAudit[] = [],
): Promise<CommittedStatusChange> {
  const messages: OutboxMessage[] = plan.notifyHolders
    ? [{ id: uuidv7(audit.createdAt), topic: "notifications", body: statusChangedMessage(event, plan, audit.createdAt) }]
    : [];
  const row = await db.events.update(event.id, expectedVersion, plan.changes, audit, messages, extraAudits);
  const committed: CommittedStatusChange = { row, messages: row ? messages.length : 0 };
  if (row && inventory) committed.gatePushed = await pushGate(inventory, row, recordGateIn(db));
  return committed;
}

/** `pushGate`'s record step for events of one tenant: the version its DO confirmed, in D1. */
export const recordGateIn = (db: TenantDb) => (e: EventRow) => db.events.recordGateVersion(e.id, e.version);

/** What the event's D1 row says about selling, as the DO takes it. */
export const gateStateOf = (e: EventRow): GateState => ({
  status: e.status,
  eventVersion: e.version,
  salesStartAt: e.salesStartAt,
  salesEndAt: e.salesEndAt,
  startsAt: e.startsAt,
  reason: e.statusReason,
  visibility: e.visibility,
});

const GATE_PUSH_TIMEOUT_MS = 5_000;

/**
 * Pushes the event's gate to its DO; false (logged) when the DO could not be reached. The
 * DO keeps the newest `eventVersion` it has seen, so a late or repeated push is harmless.
 */
export async function pushGate(inventory: InventoryNamespace, e: EventRow, record?: (e: EventRow) => Promise<unknown>): Promise<boolean> {
  try {
    await withTimeout(inventoryOf(inventory, e.tenantId, e.id).syncGate(gateStateOf(e)), GATE_PUSH_TIMEOUT_MS);
  } catch (err) {
    log("error", "inventory: gate push failed; the cron pushes it again", { eventId: e.id, tenantId: e.tenantId, status: e.status, version: e.version, ...errorFields(err) });
    return false;
  }
  // Record what the DO has confirmed (never moving backwards); a failure here only means
  // one more harmless re-push by the cron.
  if (record) {
    await record(e).catch((err: unknown) => log("warn", "inventory: could not record the pushed gate version", { eventId: e.id, ...errorFields(err) }));
  }
  return true;
}

/**
 * A failed push tried again a few times within seconds (run it in the background, after
 * the answer): a DO that was briefly unreachable (reset, overloaded) then gets the gate
 * long before the cron's resync, so sales open on time, and buyers stop being served on a
 * cancelled or newly private event (ADR 0006), within seconds. Pushing an older version
 * later is harmless: the DO keeps the newest. True once a push landed.
 */
export async function retryGatePush(
  inventory: InventoryNamespace,
  e: EventRow,
  record?: (e: EventRow) => Promise<unknown>,
  delaysMs: readonly number[] = [250, 1000, 2500],
): Promise<boolean> {
  for (const ms of delaysMs) {
    await new Promise((r) => setTimeout(r, ms));
    if (await pushGate(inventory, e, record)) return true;
  }
  return false;
}

/**
 * The cron's repair of the gate: pushes the gate of every live event whose confirmed gate
 * version lags its version (a push that failed, the cron's own transitions, events that
 * predate the DO), across tenants, whatever the age of the change. Pushing an unchanged
 * gate changes nothing in the DO.
 */
export async function resyncLaggingGates(db: Db, inventory: InventoryNamespace, pageSize = 100, maxPages = 20) {
  const summary = { events: 0, failed: 0 };
  let after: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const rows: EventRow[] = await db
      .select()
      .from(events)
      .where(
        and(
          sql`${events.deletedAt} is null and (${events.gateVersion} is null or ${events.gateVersion} < ${events.version})`,
          after ? gt(events.id, after) : undefined,
        ),
      )
      .orderBy(asc(events.id))
      .limit(pageSize)
      .all();
    const record = (r: EventRow) => recordGateIn(new TenantDb(db, verifiedTenantId(r.tenantId)))(r);
    const pushed = await Promise.all(rows.map((row) => pushGate(inventory, row, record)));
    summary.events += rows.length;
    summary.failed += pushed.filter((ok) => !ok).length;
    if (rows.length < pageSize) break;
    after = rows[rows.length - 1]!.id;
  }
  return summary;
}
