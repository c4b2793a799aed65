import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventInventory, OutboxReport } from "../../durable-objects/event-inventory";
import { ORDERS_PER_CALL } from "../../durable-objects/inventory/apply-effects";
import { enqueueEffects } from "../../durable-objects/inventory/outbox";
import { Db } from "../../durable-objects/inventory/sql";
import { loadConfig } from "../../src/config/env";
import { liveEffects, QUEUE_BATCH } from "../../src/inventory/effects";
import type { MintRequest } from "../../src/mint/messages";
import type { OrderConfirmedMessage } from "../../src/notifications/messages";
import { createTenant, registerUser } from "../helpers/fixtures";
import { onSaleEvent } from "../sales/support";
import { buy, inventoryStub } from "./support";

/**
 * The outbox applies a round's effects in batches across orders (ADR 0008, "Batching").
 * These tests run the real effects (liveEffects) against D1 and the queues of workerd,
 * through bindings wrapped to count the calls that reach them and to fail them on demand.
 */

/** What reached the wrapped bindings, and switches to make them fail. */
interface Traffic {
  /** While true every D1 batch and queue send throws, as if all were down. */
  down: boolean;
  /** While true every D1 batch throws (the queues still work). */
  d1Down: boolean;
  /** Runs before a D1 batch call is forwarded (e.g. a change landing during the apply). */
  beforeD1?: (call: number) => void;
  d1Batches: number;
  /** Statements of the D1 batches that succeeded, by call. */
  d1Written: number[];
  mintSendBatches: number;
  mints: MintRequest[];
  noteSendBatches: number;
  noteSends: number;
  notes: OrderConfirmedMessage[];
}

function newTraffic(): Traffic {
  return { down: true, d1Down: false, d1Batches: 0, d1Written: [], mintSendBatches: 0, mints: [], noteSendBatches: 0, noteSends: 0, notes: [] };
}

/** Counts from now on (what the buying phase's failed attempts did is forgotten). */
function reset(t: Traffic): void {
  Object.assign(t, { down: false, d1Batches: 0, d1Written: [], mintSendBatches: 0, mints: [], noteSendBatches: 0, noteSends: 0, notes: [] });
}

const outage = () => new Error("unavailable (injected)");

/** Installs the live effects over counting bindings in the event's DO. */
async function wrapBindings(stub: DurableObjectStub<EventInventory>, t: Traffic): Promise<void> {
  const db = {
    prepare: (query: string) => env.DB.prepare(query),
    async batch(statements: D1PreparedStatement[]) {
      const call = ++t.d1Batches;
      if (t.down || t.d1Down) throw outage();
      t.beforeD1?.(call);
      const result = await env.DB.batch(statements);
      t.d1Written.push(statements.length);
      return result;
    },
    exec: (query: string) => env.DB.exec(query),
  };
  const mintQueue = {
    send: () => Promise.reject(new Error("mint requests go through sendBatch")),
    async sendBatch(messages: Iterable<MessageSendRequest<MintRequest>>) {
      t.mintSendBatches++;
      if (t.down) throw outage();
      const list = [...messages];
      await env.MINT_QUEUE.sendBatch(list);
      t.mints.push(...list.map((m) => m.body));
    },
  };
  const notifications = {
    async send(body: unknown, options?: QueueSendOptions) {
      t.noteSends++;
      if (t.down) throw outage();
      await env.NOTIFICATIONS.send(body as never, options);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<OrderConfirmedMessage>>) {
      t.noteSendBatches++;
      if (t.down) throw outage();
      const list = [...messages];
      await env.NOTIFICATIONS.sendBatch(list as never);
      t.notes.push(...list.map((m) => m.body));
    },
  };
  await runInDurableObject(stub, (instance: EventInventory) => {
    instance.effects = liveEffects(loadConfig({ ...env, DB: db, MINT_QUEUE: mintQueue, NOTIFICATIONS: notifications }));
  });
}

/**
 * `orders` free orders of `perOrder` tickets, paid at checkout, while every destination is
 * down: the alarm's attempts during the sale fail and back off, so when this returns all
 * the sale's outbox rows are waiting (three per order) and nothing has reached D1.
 */
async function sellWhileDown(orders: number, perOrder: number) {
  const tenant = await createTenant();
  const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: orders * perOrder, maxPerBuyer: 10 * perOrder });
  const stub = inventoryStub(tenant.id, event.id);
  const traffic = newTraffic();
  await wrapBindings(stub, traffic);
  const buyers = await Promise.all(Array.from({ length: Math.ceil(orders / 10) }, () => registerUser(tenant)));
  const ids: string[] = [];
  await Promise.all(
    buyers.map(async (b, i) => {
      for (let n = i * 10; n < Math.min(orders, (i + 1) * 10); n++) {
        const res = await buy(b.tokens.accessToken, event.id, tier.id, perOrder);
        expect(res.status, res.text).toBe(201);
        expect(res.body.status).toBe("paid");
        ids.push(res.body.id);
      }
    }),
  );
  // Whatever the alarm has not tried yet fails now; then the alarm is taken off, so the
  // runs below are the test's alone (each run re-arms it at its end).
  await runDurableObjectAlarm(stub);
  await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm());
  expect(await d1Count("orders", event.id)).toBe(0);
  const waiting = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n);
  expect(waiting).toBe(orders * 3);
  reset(traffic);
  return { tenant, event, stub, traffic, ids };
}

/** One outbox run, as the alarm does it, for rows due within the hour (past any backoff). */
function applyOnce(stub: DurableObjectStub<EventInventory>): Promise<OutboxReport> {
  return runInDurableObject(stub, (instance: EventInventory) => instance.applyOutbox(Date.now() + 3_600_000));
}

async function d1Count(table: "orders" | "tickets", eventId: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE event_id = ?`).bind(eventId).first<{ n: number }>();
  return row!.n;
}

async function d1Tickets(eventId: string) {
  const rows = await env.DB.prepare("SELECT id, order_id, code FROM tickets WHERE event_id = ?").bind(eventId).all<{ id: string; order_id: string; code: string | null }>();
  return rows.results;
}

describe("outbox batching", () => {
  it("applies 60 orders in one run with a few D1 batches and queue sends", async () => {
    const { event, stub, traffic, ids } = await sellWhileDown(60, 2);

    const report = await applyOnce(stub);
    expect(report).toEqual({ applied: 180, failed: 0, pending: 0 });

    // D1: every order and ticket, with the signed codes, from ceil(60 / 50) batches.
    expect(await d1Count("orders", event.id)).toBe(60);
    const tickets = await d1Tickets(event.id);
    expect(tickets).toHaveLength(120);
    expect(tickets.every((t) => t.code !== null && t.code.length > 0)).toBe(true);
    expect(new Set(tickets.map((t) => t.order_id))).toEqual(new Set(ids));
    expect(traffic.d1Batches).toBe(Math.ceil(60 / ORDERS_PER_CALL));
    expect(traffic.d1Written.reduce((a, b) => a + b, 0)).toBe(60 + 120);

    // Mint queue: one message per ticket, 100 per sendBatch.
    expect(traffic.mints.map((m) => m.ticketId).sort()).toEqual(tickets.map((t) => t.id).sort());
    expect(traffic.mintSendBatches).toBe(Math.ceil(120 / QUEUE_BATCH));

    // Notifications: one confirmation per order, all in one sendBatch.
    expect(traffic.notes.map((n) => n.orderId).sort()).toEqual([...ids].sort());
    expect(traffic.notes.every((n) => n.kind === "order.confirmed" && n.ticketNumbers.length === 2)).toBe(true);
    expect(traffic.noteSendBatches).toBe(1);
    expect(traffic.noteSends).toBe(0);
  });

  it("D1 down: the order records wait while mints and confirmations go; the next run writes each order once", async () => {
    const { event, stub, traffic } = await sellWhileDown(60, 2);
    traffic.d1Down = true;

    const first = await applyOnce(stub);
    expect(first).toEqual({ applied: 120, failed: 60, pending: 60 });
    expect(await d1Count("orders", event.id)).toBe(0);
    const left = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ kind: string; attempts: number }>("SELECT kind, attempts FROM outbox").toArray(),
    );
    expect(left).toHaveLength(60);
    expect(left.every((r) => r.kind === "order_record")).toBe(true);
    expect(traffic.mints).toHaveLength(120);
    expect(traffic.notes).toHaveLength(60);

    traffic.d1Down = false;
    const second = await applyOnce(stub);
    expect(second).toEqual({ applied: 60, failed: 0, pending: 0 });
    expect(await d1Count("orders", event.id)).toBe(60);
    expect(await d1Count("tickets", event.id)).toBe(120);
    // Each order and ticket written once more than the failed tries; nothing sent twice.
    expect(traffic.d1Written).toEqual([50 * 3, 10 * 3]);
    expect(traffic.mints).toHaveLength(120);
    expect(new Set(traffic.mints.map((m) => m.ticketId)).size).toBe(120);
    expect(traffic.notes).toHaveLength(60);
  });

  it("an order D1 refuses for good does not hold back the orders batched with it", async () => {
    const { event, stub, traffic, ids } = await sellWhileDown(60, 2);
    const bad = ids[17]!;
    // A bug's worth of bad data: more refunded than paid breaks a CHECK of D1's orders
    // table, so any D1 batch carrying this order fails, every time.
    const good = await runInDurableObject(stub, (_i, state) => {
      const rev = state.storage.sql.exec<{ rev: number }>("SELECT rev FROM orders WHERE order_id = ?", bad).one().rev;
      state.storage.sql.exec("UPDATE orders SET refunded_minor = total_minor + 1 WHERE order_id = ?", bad);
      return rev;
    });

    const first = await applyOnce(stub);
    expect(first).toEqual({ applied: 179, failed: 1, pending: 1 });
    expect(await d1Count("orders", event.id)).toBe(59);
    const left = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ id: string }>("SELECT id FROM outbox").toArray());
    expect(left).toEqual([{ id: `order_record:${bad}` }]);
    // The failing batch was narrowed down by halves: a few calls, not one per order.
    expect(traffic.d1Batches).toBeLessThanOrEqual(2 + 16);
    expect(traffic.d1Written.reduce((a, b) => a + b, 0)).toBe(59 * 3);

    // Once the data is right again, the retry writes it.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE orders SET refunded_minor = 0 WHERE order_id = ?", bad));
    const second = await applyOnce(stub);
    expect(second).toEqual({ applied: 1, failed: 0, pending: 0 });
    expect(await d1Count("orders", event.id)).toBe(60);
    const row = await env.DB.prepare("SELECT rev FROM orders WHERE id = ?").bind(bad).first<{ rev: number }>();
    expect(row!.rev).toBe(good);
  });

  it("an order that changes while its record is being written is written again, newest last", async () => {
    const { tenant, event, stub, traffic, ids } = await sellWhileDown(3, 1);
    const changed = ids[1]!;
    // A change committed during the first D1 batch, as any request would commit it: the
    // order's revision moves and its outbox row's generation with it.
    await runInDurableObject(stub, (_i, state) => {
      traffic.beforeD1 = (call) => {
        if (call !== 1) return;
        state.storage.transactionSync(() => {
          state.storage.sql.exec(`UPDATE orders SET flags = '["changed-during-apply"]', rev = rev + 1 WHERE order_id = ?`, changed);
          enqueueEffects(new Db(state.storage.sql), changed, ["order_record"], Date.now());
        });
      };
    });

    const report = await applyOnce(stub);
    // The changed order's record ran twice in the same run; nothing is left.
    expect(report).toEqual({ applied: 3 + 1 + 3 + 3, failed: 0, pending: 0 });
    expect(traffic.d1Written).toEqual([3 * 2, 1 * 2]);
    const row = await env.DB.prepare("SELECT rev, flags FROM orders WHERE id = ? AND tenant_id = ?").bind(changed, tenant.id).first<{ rev: number; flags: string }>();
    const now = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ rev: number }>("SELECT rev FROM orders WHERE order_id = ?", changed).one().rev);
    expect(row).toEqual({ rev: now, flags: '["changed-during-apply"]' });
    expect(await d1Count("orders", event.id)).toBe(3);
  });
});
