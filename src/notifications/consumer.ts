import { loadConfig, type ApiConfig } from "../config/env";
import { createDb, verifiedTenantId, type Db } from "../db/client";
import { TenantDb } from "../db/tenant-db";
import { sentEmails } from "../db/schema";
import { errorFields, log } from "../observability/logger";
import { handleHolderNotice, type HolderNoticeDeps } from "./event-status-changed";
import { NotificationMessageSchema, type EmailMessage, type OrderConfirmedMessage } from "./messages";
import type { OrderRefundedMessage } from "./sale-messages";
import { formatMoney, renderEmail } from "./templates";

/**
 * Notification queue consumer. Each message is handled on its own: a malformed one is
 * acked and logged (never retried forever), a failing one is retried with backoff.
 * Every kind is idempotent under redelivery: emails by queue message id, domain events
 * by their outbox id.
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
      if (m.kind === "email") {
        await deliverEmail(db, config, msg.id, m);
      } else if (m.kind === "order.confirmed") {
        await confirmOrder(db, config, m);
      } else if (m.kind === "order.refunded") {
        await refundNotice(db, config, m);
      } else {
        // event.status_changed and event.changed_for_holders: the holder fan-out.
        const outcome = await handleHolderNotice(db, m, holderNoticeDeps(config));
        if (!outcome.processed) log("info", "holder notice already processed", { messageId: msg.id, outboxId: m.outboxId, kind: m.kind });
      }
      msg.ack();
    } catch (err) {
      log("error", "notification failed; will retry", { messageId: msg.id, kind: m.kind, attempts: msg.attempts, ...errorFields(err) });
      msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    }
  }
}

const holderNoticeDeps = (config: ApiConfig): HolderNoticeDeps => ({
  delivery: config.EMAIL_DELIVERY,
  appUrl: config.PUBLIC_APP_URL,
  now: Date.now(),
  continueWith: async (next) => {
    await config.NOTIFICATIONS.send(next, { contentType: "json" });
  },
});

/**
 * With EMAIL_DELIVERY=sink (local, tests) each email is stored in `sent_emails` keyed
 * by the queue message id, so redelivery is a no-op and tests can read what was "sent".
 * With `log`, only metadata is logged: bodies can hold one-time links. A real provider
 * plugs in here.
 */
async function deliverEmail(db: Db, config: ApiConfig, messageId: string, m: EmailMessage): Promise<void> {
  const { subject, body } = renderEmail(m);
  if (config.EMAIL_DELIVERY === "sink") {
    await db
      .insert(sentEmails)
      .values({ id: messageId, tenantId: m.tenantId, recipient: m.to, template: m.template, subject, body, createdAt: Date.now() })
      .onConflictDoNothing()
      .run();
  }
  log("info", "email delivered", { messageId, tenantId: m.tenantId, template: m.template, delivery: config.EMAIL_DELIVERY });
}

/**
 * Emails the buyer their confirmation, once per order: the email's id is derived from the
 * order id, so a redelivered message (or a second outbox send) stores nothing new.
 */
async function confirmOrder(db: Db, config: ApiConfig, m: OrderConfirmedMessage): Promise<void> {
  const tenantDb = new TenantDb(db, verifiedTenantId(m.tenantId));
  const [buyer, event] = await Promise.all([tenantDb.users.findById(m.buyerId), tenantDb.events.findById(m.eventId)]);
  if (!buyer) {
    log("warn", "order confirmation skipped: buyer not found", { tenantId: m.tenantId, orderId: m.orderId });
    return;
  }
  const total = formatMoney(m.totalMinor, m.currency);
  await deliverEmail(db, config, `order-confirmed:${m.orderId}`, {
    kind: "email",
    tenantId: m.tenantId,
    to: buyer.email,
    template: "order_confirmed",
    data: {
      name: buyer.name,
      eventName: event?.name ?? "your event",
      orderId: m.orderId,
      ticketCount: String(m.ticketNumbers.length),
      ticketNumbers: m.ticketNumbers.slice(0, 50).join(", "),
      total,
      link: `${config.PUBLIC_APP_URL}/orders/${m.orderId}`,
    },
  });
}

/** Tells the buyer about a refund, once per refund (the email id is derived from it). */
async function refundNotice(db: Db, config: ApiConfig, m: OrderRefundedMessage): Promise<void> {
  const buyer = await new TenantDb(db, verifiedTenantId(m.tenantId)).users.findById(m.buyerId);
  if (!buyer) {
    log("warn", "refund notice skipped: buyer not found", { tenantId: m.tenantId, orderId: m.orderId });
    return;
  }
  await deliverEmail(db, config, `order-refunded:${m.refundId}`, {
    kind: "email",
    tenantId: m.tenantId,
    to: buyer.email,
    template: "order_refunded",
    data: {
      name: buyer.name,
      orderId: m.orderId,
      amount: formatMoney(m.amountMinor, m.currency),
      ticketNumbers: m.ticketNumbers.slice(0, 50).join(", "),
      reason: m.reason,
      cancelled: String(m.cancelled),
      link: `${config.PUBLIC_APP_URL}/orders/${m.orderId}`,
    },
  });
}
