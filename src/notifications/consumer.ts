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
 * Notification queue consumer. Each message is handled on its own, except order
 * confirmations, which a sell-out sends by the thousand: those of one batch are looked up
 * and stored together (confirmOrders). A malformed message is acked and logged (never
 * retried forever), a failing one is retried with backoff. Every kind is idempotent under
 * redelivery: emails by queue message id, order emails by order id, domain events by their
 * outbox id.
 */
export async function handleNotificationBatch(batch: MessageBatch<unknown>, env: object): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(config.DB);
  const confirmations: Confirmation[] = [];
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
        confirmations.push({ msg, m });
        continue;
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
  if (confirmations.length === 0) return;
  try {
    await confirmOrders(db, config, confirmations.map((x) => x.m));
    for (const { msg } of confirmations) msg.ack();
  } catch (err) {
    // One at a time, so a message that cannot succeed does not take the others with it.
    log("warn", "order confirmations failed as a batch; trying one by one", { messages: confirmations.length, ...errorFields(err) });
    for (const { msg, m } of confirmations) {
      try {
        await confirmOrders(db, config, [m]);
        msg.ack();
      } catch (one) {
        log("error", "order confirmation failed; will retry", { messageId: msg.id, orderId: m.orderId, attempts: msg.attempts, ...errorFields(one) });
        msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
      }
    }
  }
}

type Confirmation = { msg: Message<unknown>; m: OrderConfirmedMessage };

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
function deliverEmail(db: Db, config: ApiConfig, messageId: string, m: EmailMessage): Promise<void> {
  return deliverEmails(db, config, [{ id: messageId, email: m }]);
}

/** deliverEmail for several emails, the sink's rows in one D1 batch. */
async function deliverEmails(db: Db, config: ApiConfig, emails: { id: string; email: EmailMessage }[]): Promise<void> {
  if (emails.length === 0) return;
  if (config.EMAIL_DELIVERY === "sink") {
    const now = Date.now();
    const [first, ...rest] = emails.map(({ id, email: m }) => {
      const { subject, body } = renderEmail(m);
      return db.insert(sentEmails).values({ id, tenantId: m.tenantId, recipient: m.to, template: m.template, subject, body, createdAt: now }).onConflictDoNothing();
    });
    await db.batch([first!, ...rest]);
  }
  for (const { id, email: m } of emails) log("info", "email delivered", { messageId: id, tenantId: m.tenantId, template: m.template, delivery: config.EMAIL_DELIVERY });
}

/**
 * Emails each buyer their confirmation, once per order: the email's id is derived from the
 * order id, so a redelivered message (or a second outbox send) stores nothing new. The
 * buyers and events of a batch are read with one query each per tenant (up to 90 ids), and
 * the sink's rows written in one D1 batch; any failure retries the batch's confirmations.
 */
async function confirmOrders(db: Db, config: ApiConfig, all: OrderConfirmedMessage[]): Promise<void> {
  const byTenant = new Map<string, OrderConfirmedMessage[]>();
  for (const m of all) byTenant.set(m.tenantId, [...(byTenant.get(m.tenantId) ?? []), m]);
  const emails: { id: string; email: EmailMessage }[] = [];
  for (const [tenantId, messages] of byTenant) {
    const tenantDb = new TenantDb(db, verifiedTenantId(tenantId));
    const buyers = new Map<string, { email: string; name: string }>();
    const events = new Map<string, string>();
    for (const ids of chunks([...new Set(messages.map((m) => m.buyerId))], 90)) for (const u of await tenantDb.users.contactsOf(ids)) buyers.set(u.id, u);
    for (const ids of chunks([...new Set(messages.map((m) => m.eventId))], 90)) for (const e of await tenantDb.events.namesOf(ids)) events.set(e.id, e.name);
    for (const m of messages) {
      const buyer = buyers.get(m.buyerId);
      if (!buyer) {
        log("warn", "order confirmation skipped: buyer not found", { tenantId, orderId: m.orderId });
        continue;
      }
      emails.push({
        id: `order-confirmed:${m.orderId}`,
        email: {
          kind: "email",
          tenantId,
          to: buyer.email,
          template: "order_confirmed",
          data: {
            name: buyer.name,
            eventName: events.get(m.eventId) ?? "your event",
            orderId: m.orderId,
            ticketCount: String(m.ticketNumbers.length),
            ticketNumbers: m.ticketNumbers.slice(0, 50).join(", "),
            total: formatMoney(m.totalMinor, m.currency),
            link: `${config.PUBLIC_APP_URL}/orders/${m.orderId}`,
          },
        },
      });
    }
  }
  await deliverEmails(db, config, emails);
}

const chunks = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

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
