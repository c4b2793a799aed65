import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventInventory } from "../../durable-objects/event-inventory";
import type { SaleEffects } from "../../src/inventory/effects";
import type { MintRequest } from "../../src/mint/messages";
import type { OrderConfirmedMessage } from "../../src/notifications/messages";
import { handleMintBatch } from "../../workers/minter/queue";
import { deliver } from "../events-status/queues";
import { callApp, envWith } from "../http/app-harness";
import { createTenant, registerUser } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { onSaleEvent, placeHold } from "../sales/support";
import { buy, drainInventory, inventoryStub, ordersPath } from "./support";

/** Wraps the DO's effects so the test sees every mint request and notification it sends. */
async function recordEffects(tenantId: string, eventId: string) {
  const stub = inventoryStub(tenantId, eventId);
  await runInDurableObject(stub, (instance: EventInventory) => {
    const real = instance.effects;
    const seen = { mints: [] as MintRequest[], notes: [] as OrderConfirmedMessage[] };
    (globalThis as { __seen?: typeof seen }).__seen = seen;
    instance.effects = {
      ...real,
      async requestMints(m) {
        seen.mints.push(...m);
        return real.requestMints(m);
      },
      async notifyAll(n) {
        seen.notes.push(...n);
        return real.notifyAll(n);
      },
    } satisfies SaleEffects;
  });
  return () => runInDurableObject(stub, () => (globalThis as { __seen?: { mints: MintRequest[]; notes: OrderConfirmedMessage[] } }).__seen!);
}

describe("sale effects", () => {
  it("one mint request per ticket and one confirmation per order; the minter claims each ticket once", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 10 });
    const seen = await recordEffects(tenant.id, event.id);
    const buyer = await registerUser(tenant);
    const res = await buy(buyer.tokens.accessToken, event.id, tier.id, 3);
    await drainInventory(tenant.id, event.id);
    const { mints, notes } = await seen();
    expect(mints.map((m) => m.ticketId).sort()).toEqual(res.body.tickets.map((t: { id: string }) => t.id).sort());
    for (const m of mints) expect(m).toMatchObject({ v: 1, kind: "ticket.mint", tenantId: tenant.id, eventId: event.id, orderId: res.body.id, tierId: tier.id, ownerId: buyer.id });
    expect(notes).toEqual([expect.objectContaining({ kind: "order.confirmed", orderId: res.body.id, buyerId: buyer.id, ticketNumbers: res.body.tickets.map((t: { number: number }) => t.number) })]);

    // The minter: delivered twice (at least once), claimed once per ticket.
    const deliverMints = async (queue: string) => {
      const batch = createMessageBatch(queue, mints.map((m, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body: m })));
      const ctx = createExecutionContext();
      await handleMintBatch(batch, env.DB);
      return getQueueResult(batch, ctx);
    };
    expect((await deliverMints("boxoffice-mints")).explicitAcks).toHaveLength(3);
    await deliverMints("boxoffice-mints");
    const rows = await env.DB.prepare("SELECT ticket_id, state FROM mints WHERE order_id = ? ORDER BY ticket_id").bind(res.body.id).all<{ ticket_id: string; state: string }>();
    expect(rows.results).toHaveLength(3);
    expect(rows.results.every((r) => r.state === "queued")).toBe(true);
    // Messages that exhausted their retries land in the DLQ and mark the mint failed.
    await deliverMints("boxoffice-mints-dlq");
    const failed = await env.DB.prepare("SELECT count(*) AS n FROM mints WHERE order_id = ? AND state = 'failed'").bind(res.body.id).first<{ n: number }>();
    expect(failed!.n).toBe(3);

    // The confirmation email is sent once however often the message arrives.
    const note = { ...notes[0]! };
    await deliver([{ id: "n1", body: note }, { id: "n2", body: note }]);
    const emails = await env.DB.prepare("SELECT recipient, subject, body FROM sent_emails WHERE id = ?").bind(`order-confirmed:${res.body.id}`).all<{ recipient: string; subject: string; body: string }>();
    expect(emails.results).toHaveLength(1);
    expect(emails.results[0]!.recipient).toBe(buyer.email);
    expect(emails.results[0]!.body).toContain(res.body.id);
  });

  it("a malformed mint message is dropped, not retried forever", async () => {
    const batch = createMessageBatch("boxoffice-mints", [{ id: "bad", timestamp: new Date(), attempts: 1, body: { v: 2, kind: "ticket.mint" } }]);
    const ctx = createExecutionContext();
    await handleMintBatch(batch, env.DB);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["bad"]);
    expect(result.retryMessages).toEqual([]);
  });
});

describe("many buyers at once", () => {
  it("200 buyers race for 40 seats through hold and checkout: exactly 40 sold, D1 agrees after the outbox drains", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 40, maxPerBuyer: 2 });
    const buyers = await Promise.all(Array.from({ length: 50 }, () => registerUser(tenant)));
    const attempts = Array.from({ length: 200 }, (_, i) => buyers[i % buyers.length]!);
    const results = await Promise.all(
      attempts.map(async (b) => {
        const hold = await placeHold(b.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }]);
        if (hold.status !== 201) return hold.body.code as string;
        const order = await call("POST", ordersPath(event.id), { token: b.tokens.accessToken, headers: { "idempotency-key": crypto.randomUUID() }, body: { holdId: hold.body.id } });
        return order.status === 201 ? `order:${order.body.tickets.length}` : order.body.code;
      }),
    );
    const sold = results.filter((r) => r === "order:1").length;
    expect(sold).toBe(40);
    expect(results.filter((r) => r !== "order:1").every((r) => r === "SOLD_OUT" || r === "BUYER_LIMIT_EXCEEDED")).toBe(true);

    let report = await drainInventory(tenant.id, event.id);
    for (let i = 0; i < 5 && report.pending > 0; i++) report = await drainInventory(tenant.id, event.id);
    const counts = (await inventoryStub(tenant.id, event.id).counts())[0]!;
    expect(counts).toMatchObject({ capacity: 40, held: 0, sold: 40 });
    const d1 = await env.DB.prepare("SELECT count(*) AS n, count(DISTINCT number) AS numbers, count(DISTINCT order_id) AS orders FROM tickets WHERE event_id = ?")
      .bind(event.id)
      .first<{ n: number; numbers: number; orders: number }>();
    expect(d1).toEqual({ n: 40, numbers: 40, orders: 40 });
    const staff = await call("GET", `${ordersPath(event.id)}?limit=100`, { token: tenant.owner.tokens.accessToken });
    expect(staff.body.items).toHaveLength(40);
    expect(staff.body.items.every((o: { tickets: unknown[] }) => o.tickets.length === 1)).toBe(true);
    const avail = await call("GET", `/v1/public/${tenant.slug}/events/${event.id}/availability`);
    expect(avail.body.items[0]).toMatchObject({ available: 0, soldOut: true });
  });
});

describe("payment provider trouble", () => {
  it("an unreachable provider answers 503; the retry with the same key resumes the same order", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 1500, capacity: 5 });
    const buyer = await registerUser(tenant);
    const token = buyer.tokens.accessToken;
    const hold = await placeHold(token, event.id, [{ tierId: tier.id, quantity: 1 }]);
    const key = crypto.randomUUID();
    const down = envWith({ PAYMENT_PROVIDER: "stripe", STRIPE_SECRET_KEY: "sk_test_unreachable", STRIPE_API_BASE: "http://localhost:9" });
    const first = await callApp(down, "POST", ordersPath(event.id), { token, headers: { "idempotency-key": key }, body: { holdId: hold.body.id } });
    expectProblem(first, 503, "DEPENDENCY_UNAVAILABLE");
    expect(first.headers.get("retry-after")).toBeTruthy();
    expect((await inventoryStub(tenant.id, event.id).counts())[0]).toMatchObject({ held: 1 });

    const retry = await call("POST", ordersPath(event.id), { token, headers: { "idempotency-key": key }, body: { holdId: hold.body.id } });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.body).toMatchObject({ status: "pending", payment: { provider: "local" } });
    const again = await call("POST", ordersPath(event.id), { token, headers: { "idempotency-key": key }, body: { holdId: hold.body.id } });
    expect(again.body.id).toBe(retry.body.id);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    await drainInventory(tenant.id, event.id);
    const mine = await call("GET", "/v1/me/orders", { token });
    expect(mine.body.items).toHaveLength(1);
  });
});

describe("staff order list", () => {
  it("pages 100 orders with their tickets (more ids than D1 binds in one statement)", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 200 });
    const buyer = await registerUser(tenant);
    const now = Date.now();
    const statements: D1PreparedStatement[] = [];
    for (let i = 1; i <= 100; i++) {
      const orderId = crypto.randomUUID();
      statements.push(
        env.DB.prepare(
          `INSERT INTO orders (id, tenant_id, event_id, buyer_id, hold_id, status, currency, total_minor, items, ticket_count, payment_provider, created_at, updated_at, rev)
           VALUES (?1, ?2, ?3, ?4, ?5, 'paid', 'EUR', 0, '[]', 1, 'none', ?6, ?6, 1)`,
        ).bind(orderId, tenant.id, event.id, buyer.id, crypto.randomUUID(), now + i),
        env.DB.prepare(
          `INSERT INTO tickets (id, tenant_id, event_id, order_id, tier_id, number, holder_id, status, code_version, price_minor, issued_at, updated_at, rev)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'valid', 1, 0, ?8, ?8, 1)`,
        ).bind(crypto.randomUUID(), tenant.id, event.id, orderId, tier.id, i, buyer.id, now + i),
      );
    }
    await env.DB.batch(statements);
    const page = await call("GET", `${ordersPath(event.id)}?limit=100`, { token: tenant.owner.tokens.accessToken });
    expect(page.status, page.text).toBe(200);
    expect(page.body.items).toHaveLength(100);
    expect(page.body.items.every((o: { tickets: unknown[] }) => o.tickets.length === 1)).toBe(true);
  });
});
