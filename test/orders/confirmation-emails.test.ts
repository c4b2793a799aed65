import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OrderConfirmedMessage } from "../../src/notifications/messages";
import { NOTIFICATIONS_QUEUE, worker } from "../events-status/queues";
import { envWith } from "../http/app-harness";
import { createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { onSaleEvent } from "../sales/support";

// Order confirmations of one queue batch are looked up and stored together
// (src/notifications/consumer.ts confirmOrders): a sell-out sends thousands of them.

async function deliverWith(workerEnv: Env, bodies: unknown[]) {
  const batch = createMessageBatch(
    NOTIFICATIONS_QUEUE,
    bodies.map((body, i) => ({ id: `msg-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue!(batch, workerEnv, ctx);
  return getQueueResult(batch, ctx);
}

const confirmation = (tenant: TenantFixture, eventId: string, buyerId: string, n: number): OrderConfirmedMessage => ({
  kind: "order.confirmed",
  tenantId: tenant.id,
  eventId,
  orderId: crypto.randomUUID(),
  buyerId,
  ticketNumbers: [n, n + 1],
  totalMinor: 2500 + n,
  currency: "EUR",
  paidAt: Date.now(),
});

async function storedEmail(orderId: string) {
  return env.DB.prepare("SELECT tenant_id, recipient, subject, body FROM sent_emails WHERE id = ?")
    .bind(`order-confirmed:${orderId}`)
    .all<{ tenant_id: string; recipient: string; subject: string; body: string }>();
}

describe("order confirmation emails, a batch at a time", () => {
  it("a batch across two tenants: one email per order to its buyer, with the event's name; unknown buyers skipped, all acked", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const [ea, eb] = [(await onSaleEvent(a)).event, (await onSaleEvent(b)).event];
    const buyersA = await Promise.all(Array.from({ length: 12 }, () => registerUser(a)));
    const buyersB = await Promise.all(Array.from({ length: 6 }, () => registerUser(b)));
    const messages = [
      ...buyersA.map((u, i) => confirmation(a, ea.id, u.id, 10 * i + 1)),
      ...buyersB.map((u, i) => confirmation(b, eb.id, u.id, 10 * i + 1)),
      // A tenant-A buyer named in tenant B's confirmation is not found there: no email.
      confirmation(b, eb.id, buyersA[0]!.id, 500),
    ];
    // Redelivered in the same batch: still one email.
    const bodies = [...messages, messages[3]!];
    const result = await deliverWith(env, bodies);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(bodies.length);

    const recipients = [...buyersA, ...buyersB];
    for (const [i, m] of messages.entries()) {
      const rows = (await storedEmail(m.orderId)).results;
      if (i === messages.length - 1) {
        expect(rows).toEqual([]);
        continue;
      }
      expect(rows).toHaveLength(1);
      expect(rows[0]!.tenant_id).toBe(m.tenantId);
      expect(rows[0]!.recipient).toBe(recipients[i]!.email);
      expect(rows[0]!.body).toContain(m.orderId);
      expect(rows[0]!.subject).toBe(`Your tickets for ${m.tenantId === a.id ? ea.name : eb.name}`);
    }
  });

  it("when D1 fails, every confirmation of the batch is retried and the redelivery stores each once", async () => {
    const tenant = await createTenant();
    const { event } = await onSaleEvent(tenant);
    const buyers = await Promise.all(Array.from({ length: 5 }, () => registerUser(tenant)));
    const messages = buyers.map((u, i) => confirmation(tenant, event.id, u.id, i + 1));
    // D1 whose batches fail: lookups work, the sink's write does not.
    const failingDb = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") return async () => Promise.reject(new Error("D1 unavailable (test)"));
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const failed = await deliverWith(envWith({ DB: failingDb }), messages);
    expect(failed.retryMessages).toHaveLength(messages.length);
    expect(failed.explicitAcks).toEqual([]);
    for (const m of messages) expect((await storedEmail(m.orderId)).results).toEqual([]);

    const retried = await deliverWith(env, messages);
    expect(retried.retryMessages).toEqual([]);
    for (const m of messages) expect((await storedEmail(m.orderId)).results).toHaveLength(1);
  });

  it("a confirmation that keeps failing is retried alone; the rest of the batch is stored and acked", async () => {
    const tenant = await createTenant();
    const { event } = await onSaleEvent(tenant);
    const buyers = await Promise.all(Array.from({ length: 6 }, () => registerUser(tenant)));
    const messages = buyers.map((u, i) => confirmation(tenant, event.id, u.id, i + 1));
    // D1 whose multi-statement batches fail, and whose third single write fails too.
    let singles = 0;
    const flakyDb = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            if (statements.length > 1 || ++singles === 3) throw new Error("D1 refused (test)");
            return target.batch(statements);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const result = await deliverWith(envWith({ DB: flakyDb }), messages);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(messages.length - 1);
    const stored = await Promise.all(messages.map(async (m) => (await storedEmail(m.orderId)).results.length));
    expect(stored).toEqual([1, 1, 0, 1, 1, 1]);
  });
});
