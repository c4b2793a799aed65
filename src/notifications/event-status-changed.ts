import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { eventNotifications } from "../db/schema";
import { log } from "../observability/logger";
import type { EventStatusChangedMessage } from "./messages";

export interface EventNotificationOutcome {
  /** False when this outbox message was processed before (a redelivery or a resend). */
  processed: boolean;
  recipients: number;
}

/**
 * Tells an event's ticket holders that it was postponed, rescheduled or cancelled.
 * Idempotent by outbox id: the `event_notifications` row is the record that the
 * message was acted on, and a second delivery of the same outbox message finds it.
 */
export async function handleEventStatusChanged(db: Db, m: EventStatusChangedMessage, now: number): Promise<EventNotificationOutcome> {
  const done = await db
    .select({ recipients: eventNotifications.recipients })
    .from(eventNotifications)
    .where(eq(eventNotifications.outboxId, m.outboxId))
    .get();
  if (done) return { processed: false, recipients: done.recipients };

  // Holder fan-out plugs in here once tickets exist (sales issues): page through the
  // event's valid tickets and enqueue one email per holder with a deterministic id
  // (outboxId + ticket id) so that a crash between fan-out and the insert below, which
  // makes the whole message run again, sends nobody a second email. Record last.
  const recipients = 0;

  const inserted = await db
    .insert(eventNotifications)
    .values({
      outboxId: m.outboxId,
      tenantId: m.tenantId,
      eventId: m.eventId,
      kind: m.kind,
      toStatus: m.to,
      recipients,
      processedAt: now,
    })
    .onConflictDoNothing()
    .run();
  // A concurrent delivery of the same message may have won the insert: it counts once.
  const processed = inserted.meta.changes === 1;
  if (processed) {
    log("info", "event status change processed; no ticket holders to notify yet", {
      tenantId: m.tenantId,
      eventId: m.eventId,
      outboxId: m.outboxId,
      from: m.from,
      to: m.to,
      recipients,
    });
  }
  return { processed, recipients };
}
