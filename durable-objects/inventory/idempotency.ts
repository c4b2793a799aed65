import { IDEMPOTENCY_TTL_MS, type IdempotencyInput, type IdempotentOutcome, type InventoryResult } from "../../src/inventory/contract";
import { statusOf } from "./problems";
import { schedule, scheduleNoLaterThan, unschedule } from "./schedule";
import type { Db } from "./sql";

/**
 * Idempotency records of event-scoped writes (IETF Idempotency-Key draft). The key is
 * scoped by the route to tenant + principal; the request hash covers method, path and
 * canonical body.
 *
 * - same key, same hash: the stored response is replayed (`replayed: true`);
 * - same key, another hash: `key_reused` (422), whatever the first call's state;
 * - same key while the first call is still `in_flight`: `in_flight` (409).
 *
 * Business refusals are stored like successes, so a retry gets the same answer even if
 * the world changed meanwhile (capacity came back); a new attempt needs a new key.
 * Unexpected exceptions are never stored: the transaction rolls back with them and the
 * retry runs afresh. Records live IDEMPOTENCY_TTL_MS (24 h) by the DO's wall clock, not
 * the caller's `now`, so the retention promise holds whatever clock a caller passes.
 *
 * Hold and release complete inside one synchronous transaction, so they never leave an
 * `in_flight` record behind; the state exists for operations that must await between
 * claiming the key and finishing (checkout calling a payment provider).
 */
type RecordRow = {
  request_hash: string;
  state: "in_flight" | "done";
  status: number | null;
  result: string | null;
  expires_at: number;
  lease_until: number | null;
};

/** A stored outcome, or an in-flight call whose lease ran out: its caller died, so a retry takes over `ref`. */
export type Prior<T> = IdempotentOutcome<T> | { kind: "resumable"; ref: string };

const PURGE_ID = "idempotency_purge";

export function lookup<T>(db: Db, input: IdempotencyInput, wallNow: number): Prior<T> | null {
  const row = db.first<RecordRow>`
    SELECT request_hash, state, status, result, expires_at, lease_until FROM idempotency WHERE scoped_key = ${input.scopedKey}`;
  if (!row || row.expires_at <= wallNow) return null;
  if (row.request_hash !== input.requestHash) return { kind: "key_reused" };
  if (row.state === "in_flight") {
    const leaseOver = row.lease_until !== null && row.lease_until <= wallNow;
    return leaseOver && row.result ? { kind: "resumable", ref: (JSON.parse(row.result) as { ref: string }).ref } : { kind: "in_flight" };
  }
  return { kind: "response", replayed: true, status: row.status!, result: JSON.parse(row.result!) as InventoryResult<T> };
}

export function record(db: Db, input: IdempotencyInput, status: number, result: unknown, wallNow: number): void {
  const expiresAt = wallNow + IDEMPOTENCY_TTL_MS;
  db.run`
    INSERT INTO idempotency (scoped_key, request_hash, state, status, result, created_at, expires_at, lease_until)
    VALUES (${input.scopedKey}, ${input.requestHash}, 'done', ${status}, ${JSON.stringify(result)}, ${wallNow}, ${expiresAt}, NULL)
    ON CONFLICT (scoped_key) DO UPDATE SET
      request_hash = excluded.request_hash, state = excluded.state, status = excluded.status,
      result = excluded.result, expires_at = excluded.expires_at, lease_until = NULL`;
  scheduleNoLaterThan(db, PURGE_ID, "idempotency_purge", expiresAt);
}

/**
 * Claims the key for a call that must await something (checkout → payment provider)
 * before it can finish: retries answer 409 in flight until `leaseUntil`, then take over
 * `ref` (the order being checked out). `record` finishes it.
 */
export function claimInFlight(db: Db, input: IdempotencyInput, wallNow: number, leaseUntil: number, ref: string): void {
  const expiresAt = wallNow + IDEMPOTENCY_TTL_MS;
  db.run`
    INSERT INTO idempotency (scoped_key, request_hash, state, status, result, created_at, expires_at, lease_until)
    VALUES (${input.scopedKey}, ${input.requestHash}, 'in_flight', NULL, ${JSON.stringify({ ref })}, ${wallNow}, ${expiresAt}, ${leaseUntil})
    ON CONFLICT (scoped_key) DO UPDATE SET state = 'in_flight', result = excluded.result, lease_until = excluded.lease_until,
      expires_at = excluded.expires_at`;
  scheduleNoLaterThan(db, PURGE_ID, "idempotency_purge", expiresAt);
}

/** Ends an in-flight lease early (the caller failed cleanly), so a retry resumes at once. */
export function releaseLease(db: Db, scopedKey: string): void {
  db.run`UPDATE idempotency SET lease_until = 0 WHERE scoped_key = ${scopedKey} AND state = 'in_flight'`;
}

/**
 * Runs `op` under the key: replays, refuses, or runs it and records its outcome. Call
 * inside `transactionSync`, so the operation's writes and its record commit together.
 */
export function runIdempotent<T>(
  db: Db,
  input: IdempotencyInput,
  wallNow: number,
  successStatus: number,
  op: () => InventoryResult<T>,
): IdempotentOutcome<T> {
  const prior = lookup<T>(db, input, wallNow);
  // Only checkout leaves records in flight, and it resumes them itself.
  if (prior) return prior.kind === "resumable" ? { kind: "in_flight" } : prior;
  const result = op();
  const status = result.ok ? successStatus : statusOf(result.code);
  record(db, input, status, result, wallNow);
  return { kind: "response", replayed: false, status, result };
}

/** Deletes expired records and schedules the next purge at the oldest survivor's expiry. */
export function purgeExpired(db: Db, wallNow: number): void {
  db.run`DELETE FROM idempotency WHERE expires_at <= ${wallNow}`;
  const next = db.first<{ at: number | null }>`SELECT min(expires_at) AS at FROM idempotency`?.at ?? null;
  if (next === null) unschedule(db, PURGE_ID);
  else schedule(db, PURGE_ID, "idempotency_purge", next);
}
