import { loadConfig } from "../config/env";
import { createDb } from "../db/client";
import { sentEmails } from "../db/schema";
import { errorFields, log } from "../observability/logger";
import { NotificationMessageSchema } from "./messages";
import { renderEmail } from "./templates";

/**
 * Notification queue consumer. With EMAIL_DELIVERY=sink (local, tests) each email
 * is stored in `sent_emails` keyed by the queue message id, so redelivery is a
 * no-op and tests can read what was "sent". With `log`, only metadata is logged:
 * bodies can hold one-time links. A real provider plugs in here.
 */
export async function handleNotificationBatch(batch: MessageBatch<unknown>, env: object): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(config.DB);
  for (const msg of batch.messages) {
    const parsed = NotificationMessageSchema.safeParse(msg.body);
    if (!parsed.success) {
      log("error", "notification dropped: invalid message", { messageId: msg.id, issues: parsed.error.issues.length });
      msg.ack();
      continue;
    }
    const m = parsed.data;
    try {
      const { subject, body } = renderEmail(m);
      if (config.EMAIL_DELIVERY === "sink") {
        await db
          .insert(sentEmails)
          .values({ id: msg.id, tenantId: m.tenantId, recipient: m.to, template: m.template, subject, body, createdAt: Date.now() })
          .onConflictDoNothing()
          .run();
      }
      log("info", "email delivered", { messageId: msg.id, tenantId: m.tenantId, template: m.template, delivery: config.EMAIL_DELIVERY });
      msg.ack();
    } catch (err) {
      log("error", "email delivery failed; will retry", { messageId: msg.id, attempts: msg.attempts, ...errorFields(err) });
      msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    }
  }
}
