import { MintRequestSchema } from "../../src/mint/messages";

/**
 * The mint queue consumer's first duty: claim one `mints` row per ticket. The claim is
 * an insert keyed by ticket id, so the at-least-once queue (redeliveries, a second send
 * from a retried outbox) can never start a second mint for one ticket. Building,
 * signing and sending the Bubblegum transaction arrive with the minting issue; until
 * then claimed rows wait in state `queued`.
 *
 * Messages of the dead-letter queue (a message that failed max_retries times) mark
 * their mint `failed`, so admins see it and can retry it.
 */
export async function handleMintBatch(batch: MessageBatch<unknown>, db: D1Database): Promise<void> {
  const dead = batch.queue.endsWith("-dlq");
  for (const msg of batch.messages) {
    const parsed = MintRequestSchema.safeParse(msg.body);
    if (!parsed.success) {
      // Retrying cannot fix a malformed message: log it and let it go.
      console.error(JSON.stringify({ level: "error", msg: "mint: invalid message dropped", messageId: msg.id, queue: batch.queue }));
      msg.ack();
      continue;
    }
    const m = parsed.data;
    const now = Date.now();
    try {
      if (dead) {
        await db
          .prepare(
            `INSERT INTO mints (ticket_id, tenant_id, event_id, order_id, state, attempts, last_error, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'failed', ?5, 'retry budget exhausted', ?6, ?6)
             ON CONFLICT (ticket_id) DO UPDATE SET state = 'failed', last_error = excluded.last_error, updated_at = excluded.updated_at
             WHERE mints.state <> 'confirmed'`,
          )
          .bind(m.ticketId, m.tenantId, m.eventId, m.orderId, msg.attempts, now)
          .run();
      } else {
        await db
          .prepare(
            `INSERT INTO mints (ticket_id, tenant_id, event_id, order_id, state, attempts, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5, ?5)
             ON CONFLICT (ticket_id) DO NOTHING`,
          )
          .bind(m.ticketId, m.tenantId, m.eventId, m.orderId, now)
          .run();
      }
      msg.ack();
    } catch (err) {
      console.error(JSON.stringify({ level: "error", msg: "mint: claim failed; will retry", messageId: msg.id, error: String(err) }));
      msg.retry({ delaySeconds: Math.min(300, 2 ** msg.attempts) });
    }
  }
}
