import type { Db } from "../db/client";
import { OutboxRepo } from "../db/repositories/outbox";
import type { OutboxRow } from "../db/schema";
import { errorFields, log } from "../observability/logger";

/** The queue each outbox topic is sent to. */
export interface OutboxQueues {
  notifications: BatchSender;
}

/** The part of a Queue binding the drain uses (tests pass fakes). */
export interface BatchSender {
  sendBatch(messages: Iterable<MessageSendRequest>): Promise<unknown>;
}

export interface DrainOptions {
  /** Rows per sendBatch (Queues accept at most 100 messages, 256 KB, per batch). */
  batchSize?: number;
  /** Batches per drain, so one drain stays bounded however large the backlog. */
  maxBatches?: number;
}

export interface DrainResult {
  sent: number;
  failed: number;
}

/**
 * Sends unsent outbox rows to their queues, oldest first, and marks them sent. A batch
 * the queue refuses stays pending with its attempts counted and the error recorded; the
 * next drain (the next status change's, or the cron's within minutes) sends it again.
 *
 * Delivery is at least once: a drain that dies between sending and marking, or two
 * drains racing (a request's tail and the cron), can send a row twice. Every message
 * therefore carries the outbox id as `outboxId`, and consumers act on each id once.
 *
 * Never throws: it runs in waitUntil after a response, where an error has nowhere to go.
 */
export async function drainOutbox(db: Db, queues: OutboxQueues, now: number, opts: DrainOptions = {}): Promise<DrainResult> {
  const batchSize = opts.batchSize ?? 50;
  const maxBatches = opts.maxBatches ?? 10;
  const repo = new OutboxRepo(db);
  const result: DrainResult = { sent: 0, failed: 0 };
  try {
    for (let i = 0; i < maxBatches; i++) {
      const rows = await repo.pending(batchSize);
      if (rows.length === 0) break;
      const ids = rows.map((r) => r.id);
      try {
        await sendRows(queues, rows);
      } catch (err) {
        const fields = errorFields(err);
        log("error", "outbox: send failed; rows stay pending", { rows: ids.length, ...fields });
        await repo.markFailed(ids, String(fields.errorMessage ?? fields.error));
        result.failed += ids.length;
        // The queue is refusing: later rows would fail the same way. Next drain retries.
        break;
      }
      await repo.markSent(ids, now);
      result.sent += ids.length;
      if (rows.length < batchSize) break;
    }
  } catch (err) {
    log("error", "outbox: drain failed", errorFields(err));
  }
  if (result.sent || result.failed) log("info", "outbox drained", { ...result });
  return result;
}

async function sendRows(queues: OutboxQueues, rows: OutboxRow[]): Promise<void> {
  const byTopic = new Map<OutboxRow["topic"], OutboxRow[]>();
  for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
  for (const [topic, group] of byTopic) {
    await queues[topic].sendBatch(group.map((r) => ({ body: { ...r.body, outboxId: r.id }, contentType: "json" as const })));
  }
}
