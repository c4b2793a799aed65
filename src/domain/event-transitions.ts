import type { EventChanges } from "../db/repositories/events";
import type { EventRow, EventStatus } from "../db/schema";
import type { FieldError } from "../http/errors";
import { checkTransition, NOTIFY_HOLDERS_ON } from "./event-status";
import { scheduleErrors, type Schedule } from "./event-schedule";
import { iso } from "../schemas/common";

/**
 * Planning a status change, shared by the status route and the cron: what the machine
 * says, what the row becomes, what the history records and whether holders must be
 * told. Pure (the clock is passed in); committing the plan is src/events/status-change.ts.
 */

/** New times for a reschedule (epoch ms). `doorsOpenAt` undefined keeps the doors' lead time. */
export interface NewSchedule {
  startsAt: number;
  endsAt: number;
  doorsOpenAt?: number | null;
}

export interface StatusChangeRequest {
  to: EventStatus;
  reason: string;
  schedule?: NewSchedule;
  /** A sold-ticket protection override (src/protection); only a reschedule takes one. */
  override?: { reason: string };
}

export interface StatusChangeActor {
  /** Owner/admin user, or the system clock; API keys and organizers are not. */
  isAdmin: boolean;
  /** Stored as statusChangedBy: a user id, `api_key:<id>` or `system`. */
  id: string;
}

export interface StatusChangePlan {
  from: EventStatus;
  to: EventStatus;
  reason: string;
  changes: EventChanges;
  /** The history entry's details. */
  details: Record<string, unknown>;
  /** Ticket holders must hear about this change (an outbox message). */
  notifyHolders: boolean;
  /** The new times, on a reschedule. */
  schedule?: { startsAt: number; endsAt: number; doorsOpenAt: number | null };
  /** The times a reschedule changes, as clients see them (for sold-ticket protection); empty otherwise. */
  scheduleChanges: Record<string, { from: string | null; to: string | null }>;
}

export type StatusChangeRefusal =
  | { code: "INVALID_TRANSITION" | "FORBIDDEN"; allowed: readonly EventStatus[] }
  | { code: "VALIDATION_FAILED"; errors: FieldError[] };

export type PlanResult = { ok: true; plan: StatusChangePlan } | ({ ok: false } & StatusChangeRefusal);

const SCHEDULE_PREFIX = "body.schedule";

/**
 * Which requests carry a schedule is decided before the machine: RESCHEDULED needs one,
 * every other target refuses one. Checked first because it is about the request alone.
 */
export function scheduleShapeErrors(req: StatusChangeRequest): FieldError[] {
  if (req.to === "RESCHEDULED" && !req.schedule) return [{ field: SCHEDULE_PREFIX, message: "required when moving to RESCHEDULED" }];
  if (req.to !== "RESCHEDULED" && req.schedule) return [{ field: SCHEDULE_PREFIX, message: "only a move to RESCHEDULED takes a schedule" }];
  if (req.to !== "RESCHEDULED" && req.override) return [{ field: "body.override", message: "only a move to RESCHEDULED takes an override" }];
  return [];
}

/**
 * The event's times after a reschedule, or the field errors that refuse it. Same
 * cross-field rules as any edit (event-schedule.ts, against the stored sales window),
 * plus: the new start lies in the future, and the date actually changes. Doors keep
 * their lead time before the start unless the request sets them (null clears them).
 */
export function rescheduledTimes(event: EventRow, s: NewSchedule, now: number): { ok: true; times: Schedule } | { ok: false; errors: FieldError[] } {
  const doorsOpenAt =
    s.doorsOpenAt !== undefined ? s.doorsOpenAt : event.doorsOpenAt === null ? null : s.startsAt - (event.startsAt - event.doorsOpenAt);
  const times: Schedule = { startsAt: s.startsAt, endsAt: s.endsAt, doorsOpenAt, salesStartAt: event.salesStartAt, salesEndAt: event.salesEndAt };
  const sent = ["startsAt", "endsAt", ...(s.doorsOpenAt !== undefined ? ["doorsOpenAt"] : [])];
  const errors = scheduleErrors(times, { prefix: SCHEDULE_PREFIX, sent });
  const has = (field: string) => errors.some((e) => e.field === `${SCHEDULE_PREFIX}.${field}`);
  if (!has("startsAt") && s.startsAt <= now) errors.push({ field: `${SCHEDULE_PREFIX}.startsAt`, message: "must be in the future" });
  if (errors.length === 0 && s.startsAt === event.startsAt && s.endsAt === event.endsAt) {
    errors.push({ field: `${SCHEDULE_PREFIX}.startsAt`, message: "a reschedule must change startsAt or endsAt" });
  }
  return errors.length ? { ok: false, errors } : { ok: true, times };
}

export function planStatusChange(event: EventRow, req: StatusChangeRequest, actor: StatusChangeActor, now: number): PlanResult {
  const shape = scheduleShapeErrors(req);
  if (shape.length) return { ok: false, code: "VALIDATION_FAILED", errors: shape };

  const verdict = checkTransition(event.status, req.to, { isAdmin: actor.isAdmin });
  if (!verdict.ok) return { ok: false, code: verdict.code, allowed: verdict.allowed };

  const from = event.status;
  const changes: EventChanges = {
    status: req.to,
    statusReason: req.reason,
    statusChangedBy: actor.id,
    statusChangedAt: now,
    updatedBy: actor.id,
    updatedAt: now,
  };
  const details: Record<string, unknown> = { from, to: req.to, reason: req.reason };
  let schedule: StatusChangePlan["schedule"];
  const scheduleChanges: StatusChangePlan["scheduleChanges"] = {};

  if (req.schedule) {
    const r = rescheduledTimes(event, req.schedule, now);
    if (!r.ok) return { ok: false, code: "VALIDATION_FAILED", errors: r.errors };
    schedule = { startsAt: r.times.startsAt, endsAt: r.times.endsAt, doorsOpenAt: r.times.doorsOpenAt };
    Object.assign(changes, schedule);
    details.schedule = {
      before: { startsAt: iso(event.startsAt), endsAt: iso(event.endsAt), doorsOpenAt: iso(event.doorsOpenAt) },
      after: { startsAt: iso(schedule.startsAt), endsAt: iso(schedule.endsAt), doorsOpenAt: iso(schedule.doorsOpenAt) },
    };
    for (const f of ["startsAt", "endsAt", "doorsOpenAt"] as const) {
      if (event[f] !== schedule[f]) scheduleChanges[f] = { from: iso(event[f]), to: iso(schedule[f]) };
    }
  }

  return {
    ok: true,
    plan: { from, to: req.to, reason: req.reason, changes, details, notifyHolders: NOTIFY_HOLDERS_ON.includes(req.to), schedule, scheduleChanges },
  };
}
