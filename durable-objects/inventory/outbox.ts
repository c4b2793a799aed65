import { schedule, unschedule } from "./schedule";
import type { Db } from "./sql";

/**
 * The DO's outbox: effects of a committed sale that must reach other systems (the order
 * record in D1, one mint request per ticket, the buyer's confirmation). A row is written
 * in the same transaction as the change that causes it, and deleted only after its effect
 * was applied; failures are retried with backoff from the alarm, so a sale committed
 * while D1 or a queue is down is applied when they are back, and never lost.
 *
 * Rows carry no snapshot: the applier reads the order as it is at apply time. One row per
 * (kind, order) is enough; a change while a row is pending bumps its `gen`, and the
 * applier deletes the row only if `gen` did not move meanwhile, so a change that lands
 * during an apply is applied again rather than dropped.
 */
export type EffectKind = "order_record" | "mint_requests" | "notification" | "provider_refund" | "refund_record" | "audit" | "provider_cancel";

export type OutboxRow = {
  id: string;
  kind: EffectKind;
  ref: string;
  payload: string | null;
  gen: number;
  attempts: number;
  next_at: number;
};

/**
 * One outbox run reads due rows in rounds of `OUTBOX_ROUND_ROWS` (about a hundred orders'
 * three rows) and applies each round's rows kind by kind in batches (apply-effects.ts),
 * for at most `OUTBOX_MAX_ROUNDS` rounds; what is left is due at once and the alarm
 * comes back for it.
 */
export const OUTBOX_ROUND_ROWS = 300;
export const OUTBOX_MAX_ROUNDS = 20;

const OUTBOX_SCHEDULE_ID = "outbox";
const MAX_BACKOFF_MS = 5 * 60_000;

/** Delay before the n-th retry: 1 s, 2 s, 4 s, ... capped at 5 minutes. */
export const backoffMs = (attempts: number) => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempts - 1));

/** One effect with its own payload (an audit entry), keyed by `ref` so re-enqueueing is a no-op. */
export function enqueuePayload(db: Db, kind: EffectKind, ref: string, payload: unknown, now: number): void {
  db.run`
    INSERT INTO outbox (id, kind, ref, payload, created_at, next_at) VALUES (${`${kind}:${ref}`}, ${kind}, ${ref}, ${JSON.stringify(payload)}, ${now}, ${now})
    ON CONFLICT (id) DO NOTHING`;
  schedule(db, OUTBOX_SCHEDULE_ID, "outbox", now);
}

export function enqueueEffects(db: Db, orderId: string, kinds: EffectKind[], now: number): void {
  for (const kind of kinds) {
    db.run`
      INSERT INTO outbox (id, kind, ref, created_at, next_at) VALUES (${`${kind}:${orderId}`}, ${kind}, ${orderId}, ${now}, ${now})
      ON CONFLICT (id) DO UPDATE SET gen = gen + 1, next_at = min(outbox.next_at, excluded.next_at)`;
  }
  schedule(db, OUTBOX_SCHEDULE_ID, "outbox", now);
}

export function dueEffects(db: Db, now: number, limit: number): OutboxRow[] {
  return db.all<OutboxRow>`SELECT id, kind, ref, payload, gen, attempts, next_at FROM outbox WHERE next_at <= ${now} ORDER BY next_at, id LIMIT ${limit}`;
}

export function pendingEffects(db: Db): number {
  return db.first<{ n: number }>`SELECT count(*) AS n FROM outbox`!.n;
}

/** Done, unless the row changed while it was applied (then it runs again). */
export function markApplied(db: Db, row: OutboxRow): void {
  db.run`DELETE FROM outbox WHERE id = ${row.id} AND gen = ${row.gen}`;
}

/**
 * Settles the rows of one batch of effects together (call inside one transaction): each
 * applied row is deleted unless its `gen` moved, each failed one counts an attempt.
 */
export function settle(db: Db, applied: readonly OutboxRow[], failed: readonly { row: OutboxRow; error: string }[], now: number): void {
  for (const row of applied) markApplied(db, row);
  for (const f of failed) markFailed(db, f.row, now, f.error);
}

export function markFailed(db: Db, row: OutboxRow, now: number, error: string): void {
  const attempts = row.attempts + 1;
  db.run`UPDATE outbox SET attempts = ${attempts}, next_at = ${now + backoffMs(attempts)}, last_error = ${error.slice(0, 500)}
         WHERE id = ${row.id}`;
}

/** Points the outbox's schedule entry at its earliest due row (or removes it). */
export function rescheduleOutbox(db: Db): void {
  const next = db.first<{ at: number | null }>`SELECT min(next_at) AS at FROM outbox`?.at ?? null;
  if (next === null) unschedule(db, OUTBOX_SCHEDULE_ID);
  else schedule(db, OUTBOX_SCHEDULE_ID, "outbox", next);
}
