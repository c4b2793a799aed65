import { describe, expect, it } from "vitest";
import type { LineAggregate, OrderAggregate, ReportsRepo, ReportTier, TicketAggregate } from "../../src/db/repositories/reports";
import { AppError } from "../../src/http/errors";
import { addTotals, currencyTotals, eventSales, reconcile, recordsByEvent } from "../../src/reports/compute";
import { MAX_VENUE_REPORT_EVENTS, venueReport } from "../../src/reports/load";

/** The pure side of reports: currencies kept apart, tier listing, reconciliation with the inventory. */

const order = (o: Partial<OrderAggregate> & { currency: string }): OrderAggregate => ({
  eventId: "e1",
  orders: 1,
  tickets: 1,
  gross: 0,
  refunds: 0,
  refundedOrders: 0,
  ...o,
});
const line = (l: Partial<LineAggregate> & { tierId: string; currency: string }): LineAggregate => ({
  eventId: "e1",
  quantity: 1,
  subtotal: 0,
  groupDiscount: 0,
  serviceFees: 0,
  facilityFees: 0,
  tax: 0,
  total: 0,
  ...l,
});
const tickets = (t: Partial<TicketAggregate> & { tierId: string }): TicketAggregate => ({
  eventId: "e1",
  issued: 0,
  refunded: 0,
  cancelled: 0,
  checkedIn: 0,
  ...t,
});
const tier = (tierId: string, name: string, deleted = false, eventId = "e1"): ReportTier => ({ eventId, tierId, name, deleted });
const counts = (tierId: string, sold: number, held = 0) => ({ tierId, version: 1, capacity: 100, held, sold });

describe("currency totals", () => {
  it("keeps currencies apart and derives fees, face value and net", () => {
    const totals = currencyTotals(
      [order({ currency: "USD", orders: 2, tickets: 3, gross: 3300, refunds: 300, refundedOrders: 1 }), order({ currency: "EUR", gross: 1190 })],
      [
        line({ tierId: "a", currency: "USD", quantity: 3, subtotal: 3000, groupDiscount: 300, serviceFees: 200, facilityFees: 100, tax: 300, total: 3300 }),
        line({ tierId: "b", currency: "EUR", subtotal: 1000, tax: 190, total: 1190 }),
      ],
    );
    expect(totals).toEqual([
      { currency: "EUR", orders: 1, refundedOrders: 0, tickets: 1, gross: 1190, faceValue: 1000, groupDiscounts: 0, serviceFees: 0, facilityFees: 0, fees: 0, taxes: 190, refunds: 0, net: 1190 },
      { currency: "USD", orders: 2, refundedOrders: 1, tickets: 3, gross: 3300, faceValue: 2700, groupDiscounts: 300, serviceFees: 200, facilityFees: 100, fees: 300, taxes: 300, refunds: 300, net: 3000 },
    ]);
  });

  it("adds lists currency by currency", () => {
    const a = currencyTotals([order({ currency: "EUR", gross: 100 })], []);
    const b = currencyTotals([order({ currency: "EUR", gross: 50, refunds: 10 }), order({ currency: "GBP", gross: 70 })], []);
    const sum = addTotals([a, b, []]);
    expect(sum.map((t) => [t.currency, t.orders, t.gross, t.refunds, t.net])).toEqual([
      ["EUR", 2, 150, 10, 140],
      ["GBP", 1, 70, 0, 70],
    ]);
  });
});

describe("tiers of an event", () => {
  it("lists live tiers in order, deleted ones only with records, and unnamed record-only tiers last", () => {
    const sales = eventSales({
      orders: [],
      lines: [line({ tierId: "gone-sold", currency: "EUR", quantity: 2, total: 500 })],
      tickets: [tickets({ tierId: "gone-sold", issued: 2 }), tickets({ tierId: "mystery", issued: 1, cancelled: 1 }), tickets({ tierId: "b", issued: 5, refunded: 1, cancelled: 1, checkedIn: 2 })],
      tiers: [tier("b", "Balcony"), tier("gone-empty", "Old", true), tier("gone-sold", "Retired", true), tier("a", "Arena")],
    });
    expect(sales.tiers.map((t) => [t.tierId, t.name])).toEqual([
      ["b", "Balcony"],
      ["gone-sold", "Retired"],
      ["a", "Arena"],
      ["mystery", null],
    ]);
    expect(sales.tiers[0]).toMatchObject({ issued: 5, refunded: 1, cancelled: 1, sold: 3, checkedIn: 2, amounts: [] });
    expect(sales.tiers[1]!.amounts).toEqual([{ currency: "EUR", tickets: 2, gross: 500, faceValue: 0, groupDiscounts: 0, fees: 0, taxes: 0 }]);
    expect(sales.tickets).toEqual({ issued: 8, refunded: 1, cancelled: 2, sold: 5, checkedIn: 2 });
  });
});

describe("reconciliation with the inventory", () => {
  const records = {
    orders: [],
    lines: [],
    tickets: [tickets({ tierId: "a", issued: 3, refunded: 1 }), tickets({ tierId: "b", issued: 2 })],
    tiers: [tier("a", "A"), tier("b", "B"), tier("c", "C")],
  };

  it("compares sold per tier; a tier only the inventory counts is listed", () => {
    const r = reconcile(records, [counts("a", 2), counts("b", 3, 1), counts("c", 0), counts("new", 1)]);
    expect(r.tiers.map((t) => [t.tierId, t.sold, t.inventorySold, t.consistent])).toEqual([
      ["a", 2, 2, true],
      ["b", 2, 3, false],
      ["c", 0, 0, true],
      ["new", 0, 1, false],
    ]);
    expect(r.inventory?.consistent).toBe(false);
  });

  it("takes a tier the inventory does not know as 0 sold there", () => {
    const r = reconcile(records, [counts("a", 2)]);
    expect(r.tiers.find((t) => t.tierId === "b")).toMatchObject({ inventorySold: 0, consistent: false });
    expect(r.tiers.find((t) => t.tierId === "c")).toMatchObject({ inventorySold: 0, consistent: true });
  });

  it("reports inventory null, and null per tier, when the counters could not be read", () => {
    const r = reconcile(records, null);
    expect(r.inventory).toBeNull();
    expect(r.tiers.every((t) => t.inventorySold === null && t.consistent === null)).toBe(true);
    expect(r.tickets.sold).toBe(4);
  });
});

describe("venue reports", () => {
  it("splits aggregates by event", () => {
    const split = recordsByEvent({
      orders: [order({ currency: "EUR", eventId: "e1" }), order({ currency: "EUR", eventId: "e2" })],
      lines: [],
      tickets: [tickets({ tierId: "a", eventId: "e2", issued: 1 })],
      tiers: [tier("a", "A", false, "e2")],
    });
    expect([...split.keys()].sort()).toEqual(["e1", "e2"]);
    expect(split.get("e2")).toMatchObject({ orders: [{ eventId: "e2" }], tickets: [{ tierId: "a" }], tiers: [{ tierId: "a" }] });
  });

  it(`refuses more than ${MAX_VENUE_REPORT_EVENTS} events: narrow the range`, async () => {
    const many = Array.from({ length: MAX_VENUE_REPORT_EVENTS + 1 }, (_, i) => ({ id: `e${i}`, name: "E", status: "ON_SALE" as const, startsAt: i }));
    const repo = { venueEvents: async () => many } as unknown as ReportsRepo;
    const err = await venueReport(repo, "v1", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("VALIDATION_FAILED");
  });
});
