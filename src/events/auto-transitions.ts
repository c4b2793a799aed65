import type { PreparedAudit } from "../audit/audit";
import { verifiedTenantId, type Db } from "../db/client";
import { findDueEvents } from "../db/repositories/due-events";
import type { EventRow, EventStatus } from "../db/schema";
import { TenantDb } from "../db/tenant-db";
import { dueTransition } from "../domain/event-status";
import { planStatusChange, type StatusChangeActor, type StatusChangePlan } from "../domain/event-transitions";
import { uuidv7 } from "../lib/ids";
import { errorFields, log } from "../observability/logger";
import { commitStatusChange } from "./status-change";

/** The clock acts as an admin would, and is recorded as `system`. */
export const SYSTEM_ACTOR: StatusChangeActor = { isAdmin: true, id: "system" };

/** The reason recorded for each transition the clock makes. */
export const AUTO_TRANSITION_REASONS: Partial<Record<EventStatus, string>> = {
  ON_SALE: "sales window opened",
  IN_PROGRESS: "event started",
  COMPLETED: "event ended",
};

/**
 * Writes per event per run: the clock walks at most PUBLISHED → ON_SALE → IN_PROGRESS →
 * COMPLETED (3), and each lost race costs one more. Bounds a pathological loop.
 */
const MAX_WRITES_PER_EVENT = 6;

export interface AdvanceResult {
  event: EventRow;
  steps: EventStatus[];
  /** Compare-and-set writes lost to a concurrent change (re-read and judged again). */
  lost: number;
  /** Outbox messages committed. */
  messages: number;
}

function systemAudit(event: EventRow, plan: StatusChangePlan, at: number, runId: string): PreparedAudit {
  return {
    id: uuidv7(at),
    createdAt: at,
    entry: {
      actorType: "system",
      actorId: null,
      action: "event.status_changed",
      targetType: "event",
      targetId: event.id,
      requestId: runId,
      ip: null,
      userAgent: null,
      details: plan.details,
    },
  };
}

/**
 * Applies every transition the clock has made due for one event, one recorded step at a
 * time, each compare-and-set on the version it was judged on. A concurrent change (a
 * manual cancel, a second cron run) makes the write lose; the event is then read again
 * and judged afresh, so the other change stands and nothing is recorded twice.
 *
 * Steps of one walk are recorded 1 ms apart so the history, ordered by time, lists them
 * in the order they happened.
 */
export async function advanceEvent(db: TenantDb, snapshot: EventRow, now: number, runId: string): Promise<AdvanceResult> {
  const result: AdvanceResult = { event: snapshot, steps: [], lost: 0, messages: 0 };
  for (let write = 0; write < MAX_WRITES_PER_EVENT; write++) {
    const event = result.event;
    const to = dueTransition(event, now);
    if (!to) break;
    const at = now + result.steps.length;
    const planned = planStatusChange(event, { to, reason: AUTO_TRANSITION_REASONS[to] ?? "scheduled transition" }, SYSTEM_ACTOR, at);
    if (!planned.ok) {
      // dueTransition and the machine disagree: a bug, not a state to retry.
      log("error", "auto-transition refused by the status machine", { eventId: event.id, from: event.status, to, code: planned.code });
      break;
    }
    const committed = await commitStatusChange(db, event, event.version, planned.plan, systemAudit(event, planned.plan, at, runId));
    if (committed.row) {
      result.event = committed.row;
      result.steps.push(to);
      result.messages += committed.messages;
      continue;
    }
    result.lost++;
    const current = await db.events.findById(event.id);
    if (!current) break; // deleted meanwhile
    result.event = current;
  }
  return result;
}

export interface AutoTransitionOptions {
  /** Due events read per query. */
  pageSize?: number;
  /** Pages per run; what is left waits for the next tick. */
  maxPages?: number;
}

export interface AutoTransitionSummary {
  events: number;
  transitions: number;
  lost: number;
  failed: number;
  /** Outbox messages committed (worth a drain when > 0). */
  messages: number;
}

/**
 * The cron's clock-driven transitions across all tenants, with `now` the controller's
 * scheduledTime. Idempotent: a second run at the same time finds nothing due.
 */
export async function runAutoTransitions(db: Db, now: number, opts: AutoTransitionOptions = {}): Promise<AutoTransitionSummary> {
  const pageSize = opts.pageSize ?? 100;
  const maxPages = opts.maxPages ?? 10;
  const runId = `cron-${uuidv7(now)}`;
  const summary: AutoTransitionSummary = { events: 0, transitions: 0, lost: 0, failed: 0, messages: 0 };
  let afterId: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const rows = await findDueEvents(db, now, afterId, pageSize);
    for (const row of rows) {
      try {
        // The tenant id comes from the row itself: the system acts on each event in its own tenant.
        const r = await advanceEvent(new TenantDb(db, verifiedTenantId(row.tenantId)), row, now, runId);
        summary.events++;
        summary.transitions += r.steps.length;
        summary.lost += r.lost;
        summary.messages += r.messages;
      } catch (err) {
        summary.failed++;
        log("error", "auto-transition failed; next tick retries", { eventId: row.id, tenantId: row.tenantId, ...errorFields(err) });
      }
    }
    if (rows.length < pageSize) break;
    afterId = rows[rows.length - 1]!.id;
  }
  return summary;
}
