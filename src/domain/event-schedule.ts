import { AppError, type FieldError } from "../http/errors";

/** An event's times in epoch ms, as stored. Optional times are null when unset. */
export interface Schedule {
  startsAt: number;
  endsAt: number;
  doorsOpenAt: number | null;
  salesStartAt: number | null;
  salesEndAt: number | null;
}

export type ScheduleField = keyof Schedule;

interface Rule {
  /** Whether the schedule breaks this rule. */
  broken: (s: Schedule) => boolean;
  /** The field the rule is about, and what to say about it. */
  field: ScheduleField;
  message: string;
  /** The other field involved: named instead when only it was sent (see `sent`). */
  other: ScheduleField;
  otherMessage: string;
}

/**
 * Cross-field rules of an event's schedule; the same ones the D1 CHECK constraints
 * enforce (plus "sales open before the event ends"), checked here first so a client
 * gets a field-level 400 instead of a constraint failure.
 */
const RULES: readonly Rule[] = [
  {
    broken: (s) => s.endsAt <= s.startsAt,
    field: "endsAt",
    message: "must be after startsAt",
    other: "startsAt",
    otherMessage: "must be before endsAt",
  },
  {
    broken: (s) => s.doorsOpenAt !== null && s.doorsOpenAt > s.startsAt,
    field: "doorsOpenAt",
    message: "must not be after startsAt",
    other: "startsAt",
    otherMessage: "must not be before doorsOpenAt",
  },
  {
    broken: (s) => s.salesStartAt !== null && s.salesEndAt !== null && s.salesEndAt <= s.salesStartAt,
    field: "salesEndAt",
    message: "must be after salesStartAt",
    other: "salesStartAt",
    otherMessage: "must be before salesEndAt",
  },
  {
    broken: (s) => s.salesEndAt !== null && s.salesEndAt > s.endsAt,
    field: "salesEndAt",
    message: "must not be after endsAt",
    other: "endsAt",
    otherMessage: "must not be before salesEndAt",
  },
  {
    // With a sales end, the two rules above already imply this one.
    broken: (s) => s.salesEndAt === null && s.salesStartAt !== null && s.salesStartAt >= s.endsAt,
    field: "salesStartAt",
    message: "must be before endsAt",
    other: "endsAt",
    otherMessage: "must be after salesStartAt",
  },
];

export interface ScheduleCheckOptions {
  /** Prefix of the reported field paths, e.g. "body" or "body.schedule". */
  prefix?: string;
  /**
   * The fields the client sent, when the schedule merges a partial update onto stored
   * values. A broken rule is reported on its main field unless only the other field
   * was sent: PATCH {startsAt} past the stored end names body.startsAt, not body.endsAt.
   * Omit when the client sent the whole schedule.
   */
  sent?: Iterable<string>;
}

/** Every broken rule as a field error (at most one per field); empty when the schedule is valid. */
export function scheduleErrors(s: Schedule, opts: ScheduleCheckOptions = {}): FieldError[] {
  const prefix = opts.prefix ?? "body";
  const sent = opts.sent ? new Set(opts.sent) : null;
  const out = new Map<string, FieldError>();
  for (const rule of RULES) {
    if (!rule.broken(s)) continue;
    const useOther = sent !== null && !sent.has(rule.field) && sent.has(rule.other);
    const field = `${prefix}.${useOther ? rule.other : rule.field}`;
    if (!out.has(field)) out.set(field, { field, message: useOther ? rule.otherMessage : rule.message });
  }
  return [...out.values()];
}

/** Throws 400 VALIDATION_FAILED listing every broken rule. */
export function assertValidSchedule(s: Schedule, opts: ScheduleCheckOptions = {}): void {
  const errors = scheduleErrors(s, opts);
  if (errors.length > 0) throw new AppError("VALIDATION_FAILED", "The schedule is inconsistent", { errors });
}
