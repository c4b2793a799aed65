import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createEvent, transition } from "../helpers/event-fixtures";
import { registerUser, type TenantFixture } from "../helpers/fixtures";
import { call, type CallResult } from "../helpers/http";
import { checkout, inventoryStub } from "../orders/support";
import { addTier, placeHold } from "../sales/support";

export interface Quote {
  currency: string;
  quantity: number;
  priceRule: string;
  unitPriceMinor: number;
  subtotalMinor: number;
  groupDiscountMinor: number;
  serviceFeesMinor: number;
  facilityFeesMinor: number;
  taxMinor: number;
  totalMinor: number;
}

/** An order as the API answers it (the fields the reports tests read). */
export interface OrderAnswer {
  id: string;
  status: string;
  currency: string;
  totalMinor: number;
  items: { tierId: string; quantity: number; quote: Quote }[];
  tickets: { id: string; tierId: string; status: string }[];
}

export type Line = { tierId: string; quantity: number };

export const eventReportPath = (eventId: string) => `/v1/events/${eventId}/report`;
export const venueReportPath = (venueId: string) => `/v1/venues/${venueId}/report`;

const DAY = 86_400_000;

/** An event at `venueId` starting `startsInDays` from now, with the given tiers, moved to ON_SALE. */
export async function saleEvent(owner: string, venueId: string, tiers: Record<string, unknown>[], startsInDays = 30) {
  const starts = Date.now() + startsInDays * DAY;
  const event = await createEvent(owner, venueId, { startsAt: new Date(starts).toISOString(), endsAt: new Date(starts + 3 * 3_600_000).toISOString() });
  const created = [];
  for (const t of tiers) created.push(await addTier(owner, event.id, t));
  await transition(owner, event.id, "PUBLISHED", "ON_SALE");
  return { event, tiers: created, startsAt: starts };
}

/** A fresh buyer's checkout of `lines` (one hold); pending when it costs money. */
export async function placeOrder(tenant: TenantFixture, eventId: string, lines: Line[]): Promise<{ token: string; order: OrderAnswer }> {
  const buyer = await registerUser(tenant);
  const token = buyer.tokens.accessToken;
  const hold = await placeHold(token, eventId, lines);
  expect(hold.status, hold.text).toBe(201);
  const res: CallResult<OrderAnswer> = await checkout(token, eventId, hold.body.id);
  expect(res.status, res.text).toBe(201);
  return { token, order: res.body };
}

/** A fresh buyer's paid order: free ones are paid at checkout, others through the local provider. */
export async function paidOrder(tenant: TenantFixture, eventId: string, lines: Line[]): Promise<OrderAnswer> {
  const { token, order } = await placeOrder(tenant, eventId, lines);
  if (order.status === "paid") return order;
  expect(order.status).toBe("pending");
  const paid = await call("POST", "/v1/payments/local/confirm", { token, body: { eventId, orderId: order.id } });
  expect(paid.status, paid.text).toBe(200);
  expect(paid.body.outcome).toBe("paid");
  const now = await call<OrderAnswer>("GET", `/v1/events/${eventId}/orders/${order.id}`, { token });
  expect(now.status, now.text).toBe(200);
  expect(now.body.status).toBe("paid");
  return now.body;
}

/** Lets every pending order of the event run out of time, as the alarm would after the payment deadline. */
export async function expirePendingOrders(tenantId: string, eventId: string) {
  const stub = inventoryStub(tenantId, eventId);
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE orders SET expires_at = 1 WHERE status = 'pending'");
    state.storage.sql.exec("UPDATE schedule SET due_at = 1 WHERE kind = 'order_expiry'");
  });
  await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now() - 1));
  await runDurableObjectAlarm(stub);
}

/** D1's order statuses of the event, with counts. */
export async function d1OrderStatuses(eventId: string): Promise<Record<string, number>> {
  const { results } = await env.DB.prepare("SELECT status, count(*) AS n FROM orders WHERE event_id = ? GROUP BY status").bind(eventId).all<{ status: string; n: number }>();
  return Object.fromEntries(results.map((r) => [r.status, r.n]));
}

// ------------------------------------------------- the expected report, from the orders' answers

export interface ExpectedTotals {
  currency: string;
  orders: number;
  refundedOrders: number;
  tickets: number;
  gross: number;
  faceValue: number;
  groupDiscounts: number;
  serviceFees: number;
  facilityFees: number;
  fees: number;
  taxes: number;
  refunds: number;
  net: number;
}

export interface ExpectedTierAmount {
  currency: string;
  tickets: number;
  gross: number;
  faceValue: number;
  groupDiscounts: number;
  fees: number;
  taxes: number;
}

/**
 * What the report must say about these paid orders, summed independently from the quotes
 * each order was answered with: totals per currency, money per tier. `refunded` maps an
 * order id to the amount refunded on it.
 */
export function expectedFrom(orders: OrderAnswer[], refunded: Record<string, number> = {}) {
  const totals = new Map<string, ExpectedTotals>();
  const tiers = new Map<string, Map<string, ExpectedTierAmount>>();
  for (const o of orders) {
    const t = totals.get(o.currency) ?? {
      currency: o.currency,
      orders: 0,
      refundedOrders: 0,
      tickets: 0,
      gross: 0,
      faceValue: 0,
      groupDiscounts: 0,
      serviceFees: 0,
      facilityFees: 0,
      fees: 0,
      taxes: 0,
      refunds: 0,
      net: 0,
    };
    totals.set(o.currency, t);
    const refund = refunded[o.id] ?? 0;
    t.orders += 1;
    t.refundedOrders += refund > 0 ? 1 : 0;
    t.gross += o.totalMinor;
    t.refunds += refund;
    t.net += o.totalMinor - refund;
    for (const { tierId, quantity, quote: q } of o.items) {
      t.tickets += quantity;
      t.faceValue += q.subtotalMinor - q.groupDiscountMinor;
      t.groupDiscounts += q.groupDiscountMinor;
      t.serviceFees += q.serviceFeesMinor;
      t.facilityFees += q.facilityFeesMinor;
      t.fees += q.serviceFeesMinor + q.facilityFeesMinor;
      t.taxes += q.taxMinor;
      const byCurrency = tiers.get(tierId) ?? new Map<string, ExpectedTierAmount>();
      tiers.set(tierId, byCurrency);
      const a = byCurrency.get(q.currency) ?? { currency: q.currency, tickets: 0, gross: 0, faceValue: 0, groupDiscounts: 0, fees: 0, taxes: 0 };
      byCurrency.set(q.currency, a);
      a.tickets += quantity;
      a.gross += q.totalMinor;
      a.faceValue += q.subtotalMinor - q.groupDiscountMinor;
      a.groupDiscounts += q.groupDiscountMinor;
      a.fees += q.serviceFeesMinor + q.facilityFeesMinor;
      a.taxes += q.taxMinor;
    }
  }
  const sorted = <T extends { currency: string }>(list: Iterable<T>) => [...list].sort((a, b) => a.currency.localeCompare(b.currency));
  return {
    totals: sorted(totals.values()),
    amountsOf: (tierId: string) => sorted(tiers.get(tierId)?.values() ?? []),
    /** Tickets bought per tier. */
    quantityOf: (tierId: string) => orders.flatMap((o) => o.items).filter((l) => l.tierId === tierId).reduce((n, l) => n + l.quantity, 0),
  };
}
