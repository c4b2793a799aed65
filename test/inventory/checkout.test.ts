import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventInventory } from "../../durable-objects/event-inventory";
import { CHECKOUT_LEASE_MS, type CheckoutRequest, type HoldDto, type IdempotentOutcome } from "../../src/inventory/contract";
import { DEFAULT_HOLD_TTL_MS } from "../../src/inventory/contract";
import { idem, NOW, onSaleInventory, tier, type Inventory } from "./support";

const PAYMENT_TTL = 15 * 60_000;

async function holdOf(stub: Inventory, buyerId: string, tierId: string, quantity: number) {
  const out = (await stub.hold({ ...idem(buyerId), buyerId, items: [{ tierId, quantity }], now: Date.now(), ttlMs: DEFAULT_HOLD_TTL_MS })) as IdempotentOutcome<HoldDto>;
  if (out.kind !== "response" || !out.result.ok) throw new Error(`hold failed: ${JSON.stringify(out)}`);
  return out.result.value;
}

const checkoutReq = (buyerId: string, holdId: string, key = idem(buyerId)): CheckoutRequest => ({
  ...key,
  buyerId,
  holdId,
  now: Date.now(),
  paymentTtlMs: PAYMENT_TTL,
  provider: "local",
});

describe("EventInventory checkout", () => {
  it("claims the key in flight while the payment intent is created: a retry is 409, then resumes after the lease", async () => {
    const { stub } = await onSaleInventory(tier("paid", { priceMinor: 1000, serviceFeeMinor: 0, facilityFeeMinor: 0, taxBps: 0 }));
    const hold = await holdOf(stub, "b1", "paid", 2);
    const req = checkoutReq("b1", hold.holdId);

    const first = await stub.checkout(req);
    expect(first.kind).toBe("needs_payment");
    if (first.kind !== "needs_payment") return;
    expect(first.order).toMatchObject({ status: "pending", totalMinor: 2000, payment: null, tickets: [] });

    // Same key while the first caller still talks to the provider.
    expect(await stub.checkout(req)).toEqual({ kind: "done", outcome: { kind: "in_flight" } });
    // Same key, different request: refused whatever the state.
    expect(await stub.checkout({ ...req, requestHash: "other" })).toEqual({ kind: "done", outcome: { kind: "key_reused" } });

    // The first caller died; after the lease the retry takes over the same order.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE idempotency SET lease_until = ? WHERE state = 'in_flight'", Date.now() - 1));
    const resumed = await stub.checkout(req);
    expect(resumed.kind).toBe("needs_payment");
    if (resumed.kind !== "needs_payment") return;
    expect(resumed.order.orderId).toBe(first.order.orderId);

    const attached = await stub.attachPayment({ ...req, orderId: first.order.orderId, payment: { provider: "local", intentId: "pi_local_abc", clientSecret: "pi_local_abc_secret_x" }, now: Date.now() });
    expect(attached).toMatchObject({ kind: "response", replayed: false, status: 201, result: { ok: true, value: { orderId: first.order.orderId, payment: { intentId: "pi_local_abc" } } } });

    // Now the key replays the order; the seats stay held, not sold, until payment.
    const replay = await stub.checkout(req);
    expect(replay).toMatchObject({ kind: "done", outcome: { kind: "response", replayed: true, status: 201, result: { ok: true, value: { orderId: first.order.orderId } } } });
    expect((await stub.counts())[0]).toMatchObject({ held: 2, sold: 0 });
    expect(CHECKOUT_LEASE_MS).toBeGreaterThan(0);
  });

  it("abandonCheckout lets the retry resume at once, with the same order", async () => {
    const { stub } = await onSaleInventory(tier("paid2", { priceMinor: 500 }));
    const hold = await holdOf(stub, "b2", "paid2", 1);
    const req = checkoutReq("b2", hold.holdId);
    const first = await stub.checkout(req);
    if (first.kind !== "needs_payment") throw new Error("expected needs_payment");
    await stub.abandonCheckout(req.scopedKey);
    const again = await stub.checkout(req);
    expect(again.kind).toBe("needs_payment");
    if (again.kind === "needs_payment") expect(again.order.orderId).toBe(first.order.orderId);
  });

  it("hundreds of concurrent checkouts of one hold make one order", async () => {
    const { stub } = await onSaleInventory(tier("free", { priceMinor: 0, serviceFeeMinor: 0, facilityFeeMinor: 0, taxBps: 0 }));
    const hold = await holdOf(stub, "b3", "free", 3);
    const results = await Promise.all(Array.from({ length: 200 }, () => stub.checkout(checkoutReq("b3", hold.holdId))));
    const orders = results.filter((r) => r.kind === "done" && r.outcome.kind === "response" && r.outcome.result.ok);
    expect(orders).toHaveLength(1);
    const refused = results.filter((r) => r.kind === "done" && r.outcome.kind === "response" && !r.outcome.result.ok && r.outcome.result.code === "HOLD_CONVERTED");
    expect(refused).toHaveLength(199);
    expect((await stub.counts())[0]).toMatchObject({ held: 0, sold: 3 });
    const tickets = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number; d: number }>("SELECT count(*) AS n, count(DISTINCT number) AS d FROM tickets").one());
    expect(tickets).toEqual({ n: 3, d: 3 });
  });

  it("splits a line's total over its tickets to the minor unit", async () => {
    // 3 × (1000 + 19 % tax) = 3570; with a 10 % group discount from 3: (3000 − 300) × 1.19 = 3213 → 1071 each.
    const { stub } = await onSaleInventory(tier("split", { priceMinor: 1001, serviceFeeMinor: 0, facilityFeeMinor: 0, taxBps: 0 }));
    const hold = await holdOf(stub, "b4", "split", 3);
    const first = await stub.checkout(checkoutReq("b4", hold.holdId));
    if (first.kind !== "needs_payment") throw new Error("expected needs_payment");
    const paid = await stub.confirmPayment({
      providerEventId: "evt_split",
      kind: "succeeded",
      orderId: first.order.orderId,
      intentId: "pi_split",
      amountMinor: 3003,
      currency: "EUR",
      now: NOW,
    });
    expect(paid.outcome).toBe("paid");
    const order = await stub.getOrder(first.order.orderId, null);
    if (!order.ok) throw new Error("missing order");
    expect(order.value.tickets.map((t) => t.priceMinor)).toEqual([1001, 1001, 1001]);
    expect(order.value.tickets.reduce((s, t) => s + t.priceMinor, 0)).toBe(order.value.totalMinor);
  });
});

export type { EventInventory };
