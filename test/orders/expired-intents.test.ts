import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventInventory } from "../../durable-objects/event-inventory";
import { migrate } from "../../durable-objects/inventory/schema";
import { Db } from "../../durable-objects/inventory/sql";
import type { SaleEffects } from "../../src/inventory/effects";
import { PaymentProviderError, paymentProviderFor, STRIPE_API_VERSION } from "../../src/payments";
import { createTenant, registerUser } from "../helpers/fixtures";
import { call } from "../helpers/http";
import { onSaleEvent } from "../sales/support";
import { FakeStripe } from "../payments/fake-stripe";
import { buy, fastForward, inventoryStub } from "./support";

// An order that ends unpaid (expired, or cancelled with its event) has its payment intent
// cancelled at the provider through the DO's outbox (`provider_cancel`), so the buyer cannot
// pay for seats that went back on sale.

type Stub = DurableObjectStub<EventInventory>;
type CancelCall = { intentId: string; idempotencyKey: string };

/** Replaces the DO's cancelPayment; every call is recorded and then handed to `impl`. */
async function onCancel(stub: Stub, impl: (req: CancelCall, real: SaleEffects) => Promise<void>) {
  await runInDurableObject(stub, (instance: EventInventory) => {
    const real = instance.effects;
    const seen: CancelCall[] = [];
    (globalThis as { __cancels?: CancelCall[] }).__cancels = seen;
    instance.effects = {
      ...real,
      async cancelPayment(req) {
        seen.push(req);
        return impl(req, real);
      },
    } satisfies SaleEffects;
  });
  return () => runInDurableObject(stub, () => [...(globalThis as { __cancels?: CancelCall[] }).__cancels!]);
}

async function expireNow(stub: Stub) {
  await fastForward(stub);
  expect(await runDurableObjectAlarm(stub)).toBe(true);
}

const intentOf = (stub: Stub, orderId: string) =>
  runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ id: string }>("SELECT payment_intent_id AS id FROM orders WHERE order_id = ?", orderId).one().id);

const pendingCancels = (stub: Stub) =>
  runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ ref: string }>("SELECT ref FROM outbox WHERE kind = 'provider_cancel'").toArray().map((r) => r.ref));

async function pendingOrders(n: number) {
  const tenant = await createTenant();
  const { event, tier } = await onSaleEvent(tenant, { priceMinor: 1500, capacity: 10 });
  const orders: string[] = [];
  for (let i = 0; i < n; i++) {
    const buyer = await registerUser(tenant);
    const res = await buy(buyer.tokens.accessToken, event.id, tier.id, 1);
    expect(res.body.status, res.text).toBe("pending");
    orders.push(res.body.id);
  }
  return { tenant, event, tier, orders, stub: inventoryStub(tenant.id, event.id) };
}

describe("payment intents of orders that end unpaid", () => {
  it("an expired order's intent is cancelled once, keyed by the order", async () => {
    const { stub, orders } = await pendingOrders(1);
    const seen = await onCancel(stub, (req, real) => real.cancelPayment(req));
    await expireNow(stub);
    const intentId = await intentOf(stub, orders[0]!);
    expect(await seen()).toEqual([{ intentId, idempotencyKey: `cancel-${orders[0]}` }]);
    expect(await pendingCancels(stub)).toEqual([]);
    // Later runs have nothing left to cancel.
    await runInDurableObject(stub, (i: EventInventory) => i.applyOutbox(Date.now() + 3_600_000));
    expect(await seen()).toHaveLength(1);
  });

  it("a provider outage is retried with backoff; a refusal no retry can change is dropped", async () => {
    const { stub, orders } = await pendingOrders(2);
    const [flaky, refused] = [await intentOf(stub, orders[0]!), await intentOf(stub, orders[1]!)];
    let outage = true;
    const seen = await onCancel(stub, async (req, real) => {
      if (req.intentId === flaky && outage) throw new PaymentProviderError("provider unavailable (test)", true, "api_error");
      if (req.intentId === refused) throw new PaymentProviderError("intent in an unexpected state (test)", false, "payment_intent_unexpected_state");
      return real.cancelPayment(req);
    });
    await expireNow(stub);
    expect(await pendingCancels(stub)).toEqual([orders[0]]);
    outage = false;
    await runInDurableObject(stub, (i: EventInventory) => i.applyOutbox(Date.now() + 3_600_000));
    expect(await pendingCancels(stub)).toEqual([]);
    const calls = (await seen()).map((c) => c.intentId);
    expect(calls.filter((id) => id === flaky)).toHaveLength(2);
    expect(calls.filter((id) => id === refused)).toHaveLength(1);
  });

  it("through Stripe's API: the intent is canceled with the order's idempotency key; a paid one is left to the webhook", async () => {
    const { stub, orders } = await pendingOrders(2);
    const stripe = new FakeStripe({ secretKey: "sk_test_51ExpiredIntents0000000000", apiVersion: STRIPE_API_VERSION, apiBase: "http://127.0.0.1:12112" });
    const provider = paymentProviderFor(
      { PAYMENT_PROVIDER: "stripe", STRIPE_SECRET_KEY: "sk_test_51ExpiredIntents0000000000", STRIPE_API_BASE: "http://127.0.0.1:12112", PAYMENT_WEBHOOK_SECRET: "whsec_expired_intents" },
      stripe.fetch,
    );
    // The orders' intents, as Stripe knows them; the second one was paid just before expiry.
    const ids: string[] = [];
    for (const orderId of orders) {
      const ref = await provider.createIntent({ tenantId: "t", eventId: "e", orderId, amountMinor: 1500, currency: "EUR", idempotencyKey: `intent-${orderId}` });
      ids.push(ref.intentId);
      await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE orders SET payment_intent_id = ? WHERE order_id = ?", ref.intentId, orderId));
    }
    stripe.setIntentStatus(ids[1]!, "succeeded");
    await onCancel(stub, (req) => provider.cancelIntent(req.intentId, req.idempotencyKey));
    await expireNow(stub);

    expect(stripe.intents.get(ids[0]!)!.status).toBe("canceled");
    expect(stripe.intents.get(ids[1]!)!.status).toBe("succeeded");
    const cancels = stripe.requests.filter((r) => r.path.endsWith("/cancel"));
    expect(cancels.map((r) => [r.path, r.headers.get("idempotency-key")])).toEqual([
      [`/v1/payment_intents/${ids[0]}/cancel`, `cancel-${orders[0]}`],
      [`/v1/payment_intents/${ids[1]}/cancel`, `cancel-${orders[1]}`],
    ]);
    // Neither is retried: one is done, the other is the late payment's business.
    expect(await pendingCancels(stub)).toEqual([]);
  });

  it("pending orders ended by the event's cancellation have their intents cancelled too", async () => {
    const { tenant, event, stub, orders } = await pendingOrders(2);
    const seen = await onCancel(stub, (req, real) => real.cancelPayment(req));
    const owner = tenant.owner.tokens.accessToken;
    const cur = await call("GET", `/v1/events/${event.id}`, { token: owner });
    const res = await call("POST", `/v1/events/${event.id}/status`, { token: owner, body: { to: "CANCELLED", reason: "storm", version: cur.body.version } });
    expect(res.status, res.text).toBe(200);
    for (let i = 0; i < 5 && (await seen()).length < orders.length; i++) {
      await runInDurableObject(stub, (_i, state) => state.storage.setAlarm(Date.now() - 1));
      await runDurableObjectAlarm(stub);
    }
    const expected = await Promise.all(orders.map(async (o) => ({ intentId: await intentOf(stub, o), idempotencyKey: `cancel-${o}` })));
    expect((await seen()).sort((a, b) => a.intentId.localeCompare(b.intentId))).toEqual(expected.sort((a, b) => a.intentId.localeCompare(b.intentId)));
  });
});

describe("EventInventory schema 6", () => {
  it("rebuilds the outbox of an object at schema 5 with its rows kept, and accepts provider_cancel", async () => {
    const { stub } = await pendingOrders(1);
    const result = await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      // Put the object back at schema 5: the outbox as version 5 had it, with a pending row.
      sql.exec("DROP TABLE outbox");
      sql.exec(`CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('order_record', 'mint_requests', 'notification', 'provider_refund', 'refund_record', 'audit')),
        ref TEXT NOT NULL, payload TEXT, created_at INTEGER NOT NULL, gen INTEGER NOT NULL DEFAULT 1,
        attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT) WITHOUT ROWID`);
      sql.exec("CREATE INDEX outbox_next ON outbox (next_at)");
      sql.exec("INSERT INTO outbox (id, kind, ref, created_at, gen, attempts, next_at, last_error) VALUES ('order_record:x', 'order_record', 'x', 1, 3, 2, 5, 'boom')");
      let refused = false;
      try {
        sql.exec("INSERT INTO outbox (id, kind, ref, created_at, next_at) VALUES ('provider_cancel:x', 'provider_cancel', 'x', 1, 1)");
      } catch {
        refused = true;
      }
      sql.exec("UPDATE meta SET value = 5 WHERE key = 'schema_version'");
      migrate(new Db(sql));
      sql.exec("INSERT INTO outbox (id, kind, ref, created_at, next_at) VALUES ('provider_cancel:x', 'provider_cancel', 'x', 1, 1)");
      return {
        refusedAtV5: refused,
        version: sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'schema_version'").one().value,
        rows: sql.exec("SELECT id, kind, ref, gen, attempts, next_at, last_error FROM outbox ORDER BY id").toArray(),
        index: sql.exec("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'").toArray(),
      };
    });
    expect(result.refusedAtV5).toBe(true);
    expect(result.version).toBe(6);
    expect(result.rows).toEqual([
      { id: "order_record:x", kind: "order_record", ref: "x", gen: 3, attempts: 2, next_at: 5, last_error: "boom" },
      { id: "provider_cancel:x", kind: "provider_cancel", ref: "x", gen: 1, attempts: 0, next_at: 1, last_error: null },
    ]);
    expect(result.index).toEqual([{ name: "outbox_next" }]);
  });
});
