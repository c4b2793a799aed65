import { beforeAll, describe, expect, it } from "vitest";
import { createVenue } from "../helpers/event-fixtures";
import { createApiKey, createTenant, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { drainInventory } from "../orders/support";
import { eventReportPath, expectedFrom, paidOrder, placeOrder, saleEvent, venueReportPath, type OrderAnswer } from "./support";

/**
 * The venue report: its events' reports side by side (each the sum of that event's
 * orders) and the venue's totals per currency, never added across currencies.
 */

let tenant: TenantFixture;
let owner: string;
let venueId: string;
const ev: Record<"eur" | "usd" | "quiet" | "elsewhere", { id: string; startsAt: number; orders: OrderAnswer[] }> = {} as never;

beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
  venueId = (await createVenue(owner)).id;
  const otherVenue = (await createVenue(owner, { name: "Hall Two" })).id;

  const eur = await saleEvent(owner, venueId, [{ name: "Stalls", priceMinor: 3000, serviceFeeMinor: 200, taxBps: 1000 }, { name: "Free", priceMinor: 0 }], 10);
  const usd = await saleEvent(owner, venueId, [{ name: "Floor", currency: "USD", priceMinor: 4500, facilityFeeMinor: 150, taxBps: 800 }], 40);
  const quiet = await saleEvent(owner, venueId, [{ name: "Seats", priceMinor: 1000 }], 70);
  const elsewhere = await saleEvent(owner, otherVenue, [{ name: "Seats", priceMinor: 2000 }], 20);

  const [stalls, free] = eur.tiers.map((t) => t.id) as [string, string];
  const floor = usd.tiers[0]!.id;
  ev.eur = {
    id: eur.event.id,
    startsAt: eur.startsAt,
    orders: [
      await paidOrder(tenant, eur.event.id, [{ tierId: stalls, quantity: 3 }]),
      await paidOrder(tenant, eur.event.id, [
        { tierId: stalls, quantity: 1 },
        { tierId: free, quantity: 2 },
      ]),
    ],
  };
  ev.usd = { id: usd.event.id, startsAt: usd.startsAt, orders: [await paidOrder(tenant, usd.event.id, [{ tierId: floor, quantity: 2 }])] };
  await placeOrder(tenant, usd.event.id, [{ tierId: floor, quantity: 1 }]); // pending: not counted
  ev.quiet = { id: quiet.event.id, startsAt: quiet.startsAt, orders: [] };
  ev.elsewhere = { id: elsewhere.event.id, startsAt: elsewhere.startsAt, orders: [await paidOrder(tenant, elsewhere.event.id, [{ tierId: elsewhere.tiers[0]!.id, quantity: 1 }])] };
  for (const e of Object.values(ev)) await drainInventory(tenant.id, e.id);
});

const report = (query = "", token = owner) => call("GET", `${venueReportPath(venueId)}${query}`, { token });
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe("venue report", () => {
  it("lists the venue's events by start, each the sum of its orders, and totals per currency", async () => {
    const res = await report();
    expect(res.status, res.text).toBe(200);
    expect(res.body.venue.id).toBe(venueId);
    expect([res.body.from, res.body.to]).toEqual([null, null]);
    expect(res.body.events.map((e: { event: { id: string } }) => e.event.id)).toEqual([ev.eur.id, ev.usd.id, ev.quiet.id]);

    const [eurRow, usdRow, quietRow] = res.body.events;
    expect(eurRow.totals).toEqual(expectedFrom(ev.eur.orders).totals);
    expect(usdRow.totals).toEqual(expectedFrom(ev.usd.orders).totals);
    expect(quietRow.totals).toEqual([]);
    expect(usdRow.totals.map((t: { currency: string }) => t.currency)).toEqual(["USD"]);

    // Venue totals: one entry per currency, each the sum of that currency's orders only.
    expect(res.body.totals).toEqual(expectedFrom([...ev.eur.orders, ...ev.usd.orders]).totals);
    expect(res.body.totals.map((t: { currency: string }) => t.currency)).toEqual(["EUR", "USD"]);
    expect(res.body.tickets).toEqual({ issued: 8, refunded: 0, cancelled: 0, sold: 8, checkedIn: 0 });
    expect(res.text).not.toContain(ev.elsewhere.id);
  });

  it("agrees with each event's own report", async () => {
    const res = await report();
    for (const row of res.body.events) {
      const own = await call("GET", eventReportPath(row.event.id), { token: owner });
      expect(own.status, own.text).toBe(200);
      expect(row.totals).toEqual(own.body.totals);
      expect(row.tickets).toEqual(own.body.tickets);
      expect(row.tiers).toEqual(own.body.tiers.map(({ inventorySold: _s, consistent: _c, ...t }: Record<string, unknown>) => t));
      expect(own.body.inventory.consistent).toBe(true);
    }
  });

  it("covers events starting in [from, to]: instants, or whole UTC days", async () => {
    const ids = async (query: string) => {
      const res = await report(query);
      expect(res.status, res.text).toBe(200);
      return res.body.events.map((e: { event: { id: string } }) => e.event.id);
    };
    expect(await ids(`?to=${day(ev.eur.startsAt)}`)).toEqual([ev.eur.id]);
    expect(await ids(`?from=${day(ev.eur.startsAt)}&to=${day(ev.eur.startsAt)}`)).toEqual([ev.eur.id]);
    expect(await ids(`?from=${encodeURIComponent(new Date(ev.eur.startsAt).toISOString())}`)).toEqual([ev.eur.id, ev.usd.id, ev.quiet.id]);
    expect(await ids(`?from=${encodeURIComponent(new Date(ev.eur.startsAt + 1).toISOString())}`)).toEqual([ev.usd.id, ev.quiet.id]);
    expect(await ids(`?from=${day(ev.usd.startsAt)}&to=${day(ev.usd.startsAt)}`)).toEqual([ev.usd.id]);
    expect(await ids(`?to=${day(ev.eur.startsAt - 86_400_000)}`)).toEqual([]);

    const only = await report(`?from=${day(ev.usd.startsAt)}&to=${day(ev.usd.startsAt)}`);
    expect(only.body.totals).toEqual(expectedFrom(ev.usd.orders).totals);
    expect(only.body.from).toBe(`${day(ev.usd.startsAt)}T00:00:00.000Z`);
    expect(only.body.to).toBe(`${day(ev.usd.startsAt)}T23:59:59.999Z`);
  });

  it("refuses malformed ranges and unknown parameters: 400 VALIDATION_FAILED", async () => {
    const fieldsOf = async (query: string) => (expectProblem(await report(query), 400, "VALIDATION_FAILED").errors ?? []).map((e) => e.field);
    expect(await fieldsOf("?from=2027-03-02&to=2027-03-01")).toEqual(["query.to"]);
    expect(await fieldsOf("?from=2027-13-45")).toEqual(["query.from"]);
    expect(await fieldsOf("?to=yesterday")).toEqual(["query.to"]);
    expect(await fieldsOf("?currency=EUR")).toEqual(["query.currency"]);
  });

  it("admits organizers with access to the venue and reports:read keys; unknown and foreign venues are 404", async () => {
    const organizer = await userWithRole(tenant, "organizer");
    expectProblem(await report("", organizer.tokens.accessToken), 403, "FORBIDDEN");
    const grant = await call("PUT", `/v1/venues/${venueId}/access/${organizer.id}`, { token: owner });
    expect(grant.status, grant.text).toBe(204);
    expect((await report("", organizer.tokens.accessToken)).status).toBe(200);
    const admin = await userWithRole(tenant, "admin");
    expect((await report("", admin.tokens.accessToken)).status).toBe(200);

    const key = await createApiKey(tenant, ["reports:read"]);
    expect((await report("", key.key)).status).toBe(200);

    expectProblem(await call("GET", venueReportPath(crypto.randomUUID()), { token: owner }), 404, "NOT_FOUND");
    const other = await createTenant();
    expectProblem(await report("", other.owner.tokens.accessToken), 404, "NOT_FOUND");
  });
});
