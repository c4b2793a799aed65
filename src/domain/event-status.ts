import type { EventStatus } from "../db/schema";

/**
 * The event status machine: pure data and functions, no bindings, table-tested in
 * test/domain/event-status.test.ts. Seed 002's transitions plus seed 000's RESCHEDULED,
 * and SOLD_OUT → ON_SALE (capacity came back: refunds, expiries, a raise).
 * COMPLETED and CANCELLED are terminal.
 */
export const TRANSITIONS: Readonly<Record<EventStatus, readonly EventStatus[]>> = {
  DRAFT: ["REVIEW", "PUBLISHED"],
  REVIEW: ["APPROVED", "DRAFT"],
  APPROVED: ["PUBLISHED"],
  PUBLISHED: ["ON_SALE", "IN_PROGRESS", "CANCELLED", "POSTPONED", "RESCHEDULED"],
  ON_SALE: ["SOLD_OUT", "SALES_PAUSED", "IN_PROGRESS", "CANCELLED", "POSTPONED", "RESCHEDULED"],
  SALES_PAUSED: ["ON_SALE", "IN_PROGRESS", "CANCELLED", "POSTPONED", "RESCHEDULED"],
  SOLD_OUT: ["ON_SALE", "IN_PROGRESS", "CANCELLED", "POSTPONED", "RESCHEDULED"],
  IN_PROGRESS: ["COMPLETED", "CANCELLED"],
  POSTPONED: ["PUBLISHED", "RESCHEDULED", "CANCELLED"],
  RESCHEDULED: ["PUBLISHED", "ON_SALE", "CANCELLED"],
  COMPLETED: [],
  CANCELLED: [],
};

/** Review decisions (approve, reject) belong to tenant admins. */
const ADMIN_ONLY: ReadonlyArray<readonly [EventStatus, EventStatus]> = [
  ["REVIEW", "APPROVED"],
  ["REVIEW", "DRAFT"],
];

/** Changes ticket holders must hear about. */
export const NOTIFY_HOLDERS_ON: readonly EventStatus[] = ["POSTPONED", "RESCHEDULED", "CANCELLED"];

/** States in which the event is visible in the public catalogue (when its visibility is PUBLIC). */
export const PUBLICLY_LISTED: readonly EventStatus[] = [
  "PUBLISHED",
  "ON_SALE",
  "SALES_PAUSED",
  "SOLD_OUT",
  "IN_PROGRESS",
  "POSTPONED",
  "RESCHEDULED",
];

export const isTerminal = (s: EventStatus) => TRANSITIONS[s].length === 0;

/**
 * States in which schedule, time zone and venue may be edited directly. Once an event is
 * public (and until it is postponed) those change only through RESCHEDULED, which tells
 * ticket holders; a silent PATCH would not.
 */
export const SCHEDULE_EDITABLE: readonly EventStatus[] = ["DRAFT", "REVIEW", "APPROVED", "POSTPONED"];
export const SCHEDULE_FIELDS = ["startsAt", "endsAt", "doorsOpenAt", "timezone", "venueId"] as const;

/** Events that may be deleted: never published, or over. Live ones are cancelled instead. */
export const DELETABLE: readonly EventStatus[] = ["DRAFT", "REVIEW", "APPROVED", "COMPLETED", "CANCELLED"];

export type TransitionVerdict =
  | { ok: true }
  | { ok: false; code: "INVALID_TRANSITION"; allowed: readonly EventStatus[] }
  | { ok: false; code: "FORBIDDEN"; allowed: readonly EventStatus[] };

export interface TransitionActor {
  /** Owner/admin (or the system clock). */
  isAdmin: boolean;
}

export function checkTransition(from: EventStatus, to: EventStatus, actor: TransitionActor): TransitionVerdict {
  const allowed = TRANSITIONS[from];
  if (!allowed.includes(to)) return { ok: false, code: "INVALID_TRANSITION", allowed };
  if (!actor.isAdmin && ADMIN_ONLY.some(([f, t]) => f === from && t === to)) {
    return { ok: false, code: "FORBIDDEN", allowed };
  }
  return { ok: true };
}

export interface TimedEvent {
  status: EventStatus;
  salesStartAt: number | null;
  salesEndAt: number | null;
  startsAt: number;
  endsAt: number;
}

/**
 * The transition the clock makes due at `now`, or null. Applied repeatedly by the cron
 * until null, so an event the cron missed for a while still reaches the state its times
 * call for (a published event whose sales window passed unseen goes straight to
 * IN_PROGRESS at its start, then COMPLETED), each step recorded. POSTPONED and
 * RESCHEDULED wait for a person: their old times no longer mean anything.
 */
export function dueTransition(e: TimedEvent, now: number): EventStatus | null {
  switch (e.status) {
    case "PUBLISHED":
      if (now >= e.startsAt) return "IN_PROGRESS";
      if (e.salesStartAt !== null && now >= e.salesStartAt && (e.salesEndAt === null || now < e.salesEndAt)) {
        return "ON_SALE";
      }
      return null;
    case "ON_SALE":
    case "SOLD_OUT":
    case "SALES_PAUSED":
      return now >= e.startsAt ? "IN_PROGRESS" : null;
    case "IN_PROGRESS":
      return now >= e.endsAt ? "COMPLETED" : null;
    default:
      return null;
  }
}
