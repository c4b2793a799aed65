import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createVenue } from "../helpers/event-fixtures";
import { createApiKey, createTenant, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { callApp, envWith } from "../http/app-harness";
import { drainInventory, inventoryStub } from "../orders/support";
import { d1OrderStatuses, eventReportPath, expectedFrom, expirePendingOrders, paidOrder, placeOrder, saleEvent, type OrderAnswer } from "./support";

/**
 * The event report against the orders it sums: every order is made through the real API
 * (holds, checkout, the local payment provider), the outbox is drained into D1, and the
 * report must equal the sums computed here from the quotes the orders were answered with.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let tenant: TenantFixture;
let owner: string;
let venueId: string;
let eventId: string;
let tier: { early: string; vip: string; free: string };
/** The paid orders, in the order they were made: early ×4, vip ×2, free ×3, early+vip, free ×1. */
let paid: OrderAnswer[];

beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
  venueId = (await createVenue(owner)).id;
  const sale = await saleEvent(owner, venueId, [
    {
      name: "Early",
      priceMinor: 5000,
      earlyBird: { priceMinor: 4000, until: new Date(Date.now() + 7 * DAY).toISOString() },
      serviceFeeMinor: 250,
      facilityFeeMinor: 100,
      taxBps: 1900,
      groupDiscount: { minQuantity: 4, bps: 1000 },
    },
    { name: "VIP", priceMinor: 12000, serviceFeeMinor: 500, taxBps: 700 },
    { name: "Free", priceMinor: 0 },
  ]);
  eventId = sale.event.id;
  const [early, vip, free] = sale.tiers.map((t) => t.id) as [string, string, string];
  tier = { early, vip, free };

  paid = [];
  paid.push(await paidOrder(tenant, eventId, [{ tierId: early, quantity: 4 }]));
  paid.push(await paidOrder(tenant, eventId, [{ tierId: vip, quantity: 2 }]));
  paid.push(await paidOrder(tenant, eventId, [{ tierId: free, quantity: 3 }]));
  paid.push(
    await paidOrder(tenant, eventId, [
      { tierId: early, quantity: 1 },
      { tierId: vip, quantity: 1 },
    ]),
  );
  // An order left unpaid past its deadline (expired), then one still waiting (pending):
  // both are recorded, neither counts.
  await placeOrder(tenant, eventId, [{ tierId: early, quantity: 2 }]);
  await expirePendingOrders(tenant.id, eventId);
  paid.push(await paidOrder(tenant, eventId, [{ tierId: free, quantity: 1 }]));
  await placeOrder(tenant, eventId, [{ tierId: vip, quantity: 1 }]);
  await drainInventory(tenant.id, eventId);
});

const report = (token = owner) => call("GET", eventReportPath(eventId), { token });

describe("event report: the sum of the orders", () => {
  it("prices the orders with early bird, group discount, fees and tax (the scenario is what it claims)", () => {
    const [early4, vip2, free3] = paid as [OrderAnswer, OrderAnswer, OrderAnswer];
    // 4 × 40.00 early bird = 160.00, −10% group = 144.00, + 4 × 3.50 fees = 158.00, + 19% tax = 30.02
    expect(early4.items[0]!.quote).toMatchObject({ priceRule: "early_bird", subtotalMinor: 16000, groupDiscountMinor: 1600, serviceFeesMinor: 1000, facilityFeesMinor: 400, taxMinor: 3002, totalMinor: 18802 });
    // 2 × 120.00 = 240.00, + 2 × 5.00 fees = 250.00, + 7% tax = 17.50
    expect(vip2.items[0]!.quote).toMatchObject({ priceRule: "base", subtotalMinor: 24000, groupDiscountMinor: 0, serviceFeesMinor: 1000, taxMinor: 1750, totalMinor: 26750 });
    expect(free3.totalMinor).toBe(0);
  });

  it("records pending and expired orders in D1, and leaves them out of the report", async () => {
    expect(await d1OrderStatuses(eventId)).toEqual({ paid: 5, expired: 1, pending: 1 });
    const res = await report();
    expect(res.status, res.text).toBe(200);
    expect(res.body.totals).toHaveLength(1);
    expect(res.body.totals[0].orders).toBe(5);
  });

  it("equals the sums of the paid orders' quotes: totals, per-tier money and tickets", async () => {
    const res = await report();
    expect(res.status, res.text).toBe(200);
    const expected = expectedFrom(paid);
    expect(res.body.totals).toEqual(expected.totals);
    const [eur] = res.body.totals;
    expect(eur).toMatchObject({ currency: "EUR", gross: 18802 + 26750 + 0 + paid[3]!.totalMinor + 0, refunds: 0 });
    expect(eur.gross).toBe(eur.faceValue + eur.fees + eur.taxes);
    expect(eur.net).toBe(eur.gross);

    expect(res.body.tiers.map((t: { tierId: string; name: string }) => [t.tierId, t.name])).toEqual([
      [tier.early, "Early"],
      [tier.vip, "VIP"],
      [tier.free, "Free"],
    ]);
    for (const t of res.body.tiers) {
      const n = expected.quantityOf(t.tierId);
      expect(t, t.name).toMatchObject({ issued: n, refunded: 0, cancelled: 0, sold: n, checkedIn: 0 });
      expect(t.amounts, t.name).toEqual(expected.amountsOf(t.tierId));
    }
    expect(res.body.tickets).toEqual({ issued: 12, refunded: 0, cancelled: 0, sold: 12, checkedIn: 0 });
    // The tiers' money adds up to the totals.
    const sum = (k: string) => res.body.tiers.flatMap((t: any) => t.amounts).reduce((s: number, a: any) => s + a[k], 0);
    expect([sum("gross"), sum("faceValue"), sum("fees"), sum("taxes")]).toEqual([eur.gross, eur.faceValue, eur.fees, eur.taxes]);
  });

  it("agrees with the inventory's counters", async () => {
    const res = await report();
    const counts = await inventoryStub(tenant.id, eventId).counts();
    expect(res.body.inventory).toEqual({
      consistent: true,
      tiers: counts.map((c) => ({ tierId: c.tierId, capacity: c.capacity, held: c.held, sold: c.sold })),
    });
    // The pending order still holds its seat in the inventory; it is not sold.
    expect(counts.find((c) => c.tierId === tier.vip)).toMatchObject({ held: 1, sold: 3 });
    for (const t of res.body.tiers) {
      expect(t.inventorySold).toBe(counts.find((c) => c.tierId === t.tierId)!.sold);
      expect(t.consistent).toBe(true);
    }
    expect(Date.parse(res.body.asOf)).toBeGreaterThan(Date.now() - 60_000);
    expect(res.body.event).toMatchObject({ id: eventId, venueId, status: "ON_SALE" });
  });

  it("answers without the inventory when it cannot be reached: inventory null", async () => {
    const unreachable = {
      idFromName: (name: string) => env.EVENT_INVENTORY.idFromName(name),
      get: () => new Proxy({}, { get: () => async () => Promise.reject(new Error("inventory unreachable (test)")) }),
    };
    const res = await callApp(envWith({ EVENT_INVENTORY: unreachable }), "GET", eventReportPath(eventId), { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(res.body.inventory).toBeNull();
    expect(res.body.totals).toEqual(expectedFrom(paid).totals);
    for (const t of res.body.tiers) expect([t.inventorySold, t.consistent]).toEqual([null, null]);
  });
});

describe("event report: refunds, cancellations and check-ins", () => {
  // The refund, cancellation and check-in flows through the inventory are covered by their
  // own tests; here D1 is given their outcome directly (as the outbox would write it), to
  // pin down how the report reads those columns.
  it("counts refunds against gross, and refunded, cancelled and checked-in tickets per tier", async () => {
    const [early4, vip2, free3, mixed, free1] = paid as [OrderAnswer, OrderAnswer, OrderAnswer, OrderAnswer, OrderAnswer];
    const db = env.DB;
    const now = Date.now();
    const vipRefund = Math.floor(vip2.totalMinor / 2);
    await db.batch([
      // A full refund of the early ×4 order.
      db.prepare("UPDATE orders SET status = 'refunded', refunded_minor = total_minor WHERE id = ?").bind(early4.id),
      db.prepare("UPDATE tickets SET status = 'refunded' WHERE order_id = ?").bind(early4.id),
      // Half of the VIP order back, with one of its tickets.
      db.prepare("UPDATE orders SET status = 'partially_refunded', refunded_minor = ? WHERE id = ?").bind(vipRefund, vip2.id),
      db.prepare("UPDATE tickets SET status = 'refunded' WHERE id = ?").bind(vip2.tickets[0]!.id),
      // The event cancellation's outcome for a (free) order: cancelled after payment.
      db.prepare("UPDATE orders SET status = 'cancelled' WHERE id = ?").bind(free1.id),
      db.prepare("UPDATE tickets SET status = 'cancelled' WHERE order_id = ?").bind(free1.id),
      // Check-ins: both tickets of the mixed order, one free ticket.
      db.prepare("UPDATE tickets SET status = 'checked_in', checked_in_at = ? WHERE order_id = ?").bind(now, mixed.id),
      db.prepare("UPDATE tickets SET status = 'checked_in', checked_in_at = ? WHERE id = ?").bind(now, free3.tickets[0]!.id),
    ]);

    const res = await report();
    expect(res.status, res.text).toBe(200);
    const expected = expectedFrom(paid, { [early4.id]: early4.totalMinor, [vip2.id]: vipRefund });
    expect(res.body.totals).toEqual(expected.totals);
    const [eur] = res.body.totals;
    expect(eur).toMatchObject({ orders: 5, refundedOrders: 2, refunds: early4.totalMinor + vipRefund, net: eur.gross - early4.totalMinor - vipRefund });

    const byTier = Object.fromEntries(res.body.tiers.map((t: any) => [t.tierId, t]));
    expect(byTier[tier.early]).toMatchObject({ issued: 5, refunded: 4, cancelled: 0, sold: 1, checkedIn: 1 });
    expect(byTier[tier.vip]).toMatchObject({ issued: 3, refunded: 1, cancelled: 0, sold: 2, checkedIn: 1 });
    expect(byTier[tier.free]).toMatchObject({ issued: 4, refunded: 0, cancelled: 1, sold: 3, checkedIn: 1 });
    expect(res.body.tickets).toEqual({ issued: 12, refunded: 5, cancelled: 1, sold: 6, checkedIn: 3 });
    // Money per tier is what was sold (refunds are per order, in the totals).
    for (const t of res.body.tiers) expect(t.amounts).toEqual(expected.amountsOf(t.tierId));

    // The inventory was not told (these rows were written behind its back), so the report
    // shows the disagreement: the inventory still counts every seat sold.
    expect(byTier[tier.early]).toMatchObject({ inventorySold: 5, consistent: false });
    expect(byTier[tier.vip]).toMatchObject({ inventorySold: 3, consistent: false });
    expect(byTier[tier.free]).toMatchObject({ inventorySold: 4, consistent: false });
    expect(res.body.inventory.consistent).toBe(false);
  });
});

describe("event report: an event without sales, and who may read it", () => {
  it("lists the tiers with zeros and no totals", async () => {
    const { event, tiers } = await saleEvent(owner, venueId, [{ name: "Stalls", priceMinor: 2500 }, { name: "Gallery", priceMinor: 1500 }]);
    const res = await call("GET", eventReportPath(event.id), { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(res.body.totals).toEqual([]);
    expect(res.body.tickets).toEqual({ issued: 0, refunded: 0, cancelled: 0, sold: 0, checkedIn: 0 });
    expect(res.body.tiers).toEqual(
      tiers.map((t, i) => ({
        tierId: t.id,
        name: ["Stalls", "Gallery"][i],
        issued: 0,
        refunded: 0,
        cancelled: 0,
        sold: 0,
        checkedIn: 0,
        amounts: [],
        inventorySold: 0,
        consistent: true,
      })),
    );
    expect(res.body.inventory.consistent).toBe(true);
  });

  it("admits organizers who may manage the event and reports:read keys; others get 403, unknown events 404", async () => {
    const outsider = await userWithRole(tenant, "organizer");
    expectProblem(await report(outsider.tokens.accessToken), 403, "FORBIDDEN");
    const grant = await call("PUT", `/v1/venues/${venueId}/access/${outsider.id}`, { token: owner });
    expect(grant.status, grant.text).toBe(204);
    expect((await report(outsider.tokens.accessToken)).status).toBe(200);

    const key = await createApiKey(tenant, ["reports:read"]);
    expect((await report(key.key)).status).toBe(200);
    const ordersOnly = await createApiKey(tenant, ["orders:read"]);
    expectProblem(await report(ordersOnly.key), 403, "INSUFFICIENT_SCOPE");
    const scanner = await userWithRole(tenant, "scanner");
    expectProblem(await report(scanner.tokens.accessToken), 403, "FORBIDDEN");

    expectProblem(await call("GET", eventReportPath(crypto.randomUUID()), { token: owner }), 404, "NOT_FOUND");
    const other = await createTenant();
    expectProblem(await call("GET", eventReportPath(eventId), { token: other.owner.tokens.accessToken }), 404, "NOT_FOUND");
  });
});
