import type { Db } from "./sql";

/**
 * Work the DO must do at a time, multiplexed over its single alarm: the alarm is always
 * set to the earliest due_at (or cleared when nothing is due), so after any change to
 * this table call `rearm`. The alarm handler re-reads the real state (holds, records)
 * rather than trusting these rows, so a late, repeated or spurious alarm is harmless.
 */
export type ScheduleKind = "hold_expiry" | "idempotency_purge" | "order_expiry" | "outbox" | "saga";

export function schedule(db: Db, id: string, kind: ScheduleKind, dueAt: number, ref: string | null = null): void {
  db.run`INSERT INTO schedule (id, kind, due_at, ref) VALUES (${id}, ${kind}, ${dueAt}, ${ref})
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, due_at = excluded.due_at, ref = excluded.ref`;
}

/** Schedules `id` at `dueAt` unless it is already due earlier. */
export function scheduleNoLaterThan(db: Db, id: string, kind: ScheduleKind, dueAt: number): void {
  db.run`INSERT INTO schedule (id, kind, due_at) VALUES (${id}, ${kind}, ${dueAt})
         ON CONFLICT (id) DO UPDATE SET due_at = min(schedule.due_at, excluded.due_at)`;
}

export function unschedule(db: Db, id: string): void {
  db.run`DELETE FROM schedule WHERE id = ${id}`;
}

export function nextDue(db: Db): number | null {
  return db.first<{ due: number | null }>`SELECT min(due_at) AS due FROM schedule`?.due ?? null;
}

/** Points the alarm at the earliest scheduled work. */
export async function rearm(db: Db, storage: DurableObjectStorage): Promise<void> {
  const due = nextDue(db);
  const current = await storage.getAlarm();
  if (due === null) {
    if (current !== null) await storage.deleteAlarm();
  } else if (current !== due) {
    await storage.setAlarm(due);
  }
}
