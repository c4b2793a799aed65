import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { callApp, envWith } from "../http/app-harness";
import { createEvent, createVenue, transition } from "../helpers/event-fixtures";
import { createApiKey, createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { addTier, DAY, iso, onSaleEvent, placeHold, tiersPath } from "./support";

/**
 * The quote endpoint against numbers worked out by hand. The tier (EUR):
 *   base 50.00, early bird 35.00 until T1, last minute 60.00 from T2,
 *   service fee 2.50 and facility fee 1.00 per ticket, tax 19 %, 10 % off from 4 tickets.
 */
const T1 = Date.UTC(2031, 0, 10, 12);
const T2 = Date.UTC(2031, 1, 20, 18);

let tenant: TenantFixture;
let owner: string;
let eventId: string;
let tierId: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
  const venue = await createVenue(owner);
  eventId = (await createEvent(owner, venue.id)).id;
  tierId = (
    await addTier(owner, eventId, {
      priceMinor: 5000,
      serviceFeeMinor: 250,
      facilityFeeMinor: 100,
      taxBps: 1900,
      earlyBird: { priceMinor: 3500, until: iso(T1) },
      lastMinute: { priceMinor: 6000, from: iso(T2) },
      groupDiscount: { minQuantity: 4, bps: 1000 },
    })
  ).id;
});

const quotePath = (q: Record<string, string | number>, tier = tierId, event = eventId) =>
  `/v1/events/${event}/tiers/${tier}/quote?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]))}`;

async function quote(quantity: number, at: number, token = owner) {
  const res = await call("GET", quotePath({ quantity, at: iso(at) }), { token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

describe("GET /v1/events/{eventId}/tiers/{tierId}/quote", () => {
  it("early bird, 2 tickets: 2 × 35.00 + fees 7.00, 19 % tax = 91.63", async () => {
    expect(await quote(2, T1 - 1)).toEqual({
      currency: "EUR",
      quantity: 2,
      priceRule: "early_bird",
      unitPriceMinor: 3500,
      subtotalMinor: 7000,
      groupDiscountMinor: 0,
      serviceFeesMinor: 500,
      facilityFeesMinor: 200,
      taxMinor: 1463, // 19 % of 77.00
      totalMinor: 9163,
      quotedAt: iso(T1 - 1),
    });
  });

  it("base price once the early bird ends (at T1 exactly), 4 tickets with the group discount", async () => {
    expect(await quote(4, T1)).toMatchObject({
      priceRule: "base",
      unitPriceMinor: 5000,
      subtotalMinor: 20000,
      groupDiscountMinor: 2000, // 10 % of 200.00; fees are never discounted
      serviceFeesMinor: 1000,
      facilityFeesMinor: 400,
      taxMinor: 3686, // 19 % of 194.00
      totalMinor: 23086,
    });
  });

  it("no group discount below its minimum", async () => {
    expect(await quote(3, T1 + DAY)).toMatchObject({ subtotalMinor: 15000, groupDiscountMinor: 0, taxMinor: 3050, totalMinor: 19100 }); // 19 % of 160.50 = 30.495 → 30.50
  });

  it("last minute from T2 (inclusive), 5 tickets: tax rounded half up", async () => {
    expect(await quote(5, T2 - 1)).toMatchObject({ priceRule: "base", unitPriceMinor: 5000 });
    expect(await quote(5, T2)).toMatchObject({
      priceRule: "last_minute",
      unitPriceMinor: 6000,
      subtotalMinor: 30000,
      groupDiscountMinor: 3000,
      serviceFeesMinor: 1250,
      facilityFeesMinor: 500,
      taxMinor: 5463, // 19 % of 287.50 = 54.625 → 54.63
      totalMinor: 34213,
    });
  });

  it("early bird wins where it overlaps the last-minute price", async () => {
    const tier = await addTier(owner, eventId, {
      priceMinor: 1000,
      earlyBird: { priceMinor: 800, until: iso(T2 + DAY) },
      lastMinute: { priceMinor: 1200, from: iso(T2) },
    });
    const res = await call("GET", quotePath({ quantity: 1, at: iso(T2 + 1) }, tier.id), { token: owner });
    expect(res.body).toMatchObject({ priceRule: "early_bird", unitPriceMinor: 800, totalMinor: 800 });
  });

  it("prices at the present moment when `at` is not given", async () => {
    const before = Date.now();
    const res = await call("GET", quotePath({ quantity: 1 }), { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(Date.parse(res.body.quotedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(res.body.quotedAt)).toBeLessThanOrEqual(Date.now());
  });

  it("refuses a quantity outside 1-100 or a bad time (400), an unknown tier or event (404)", async () => {
    const bad: Record<string, string | number>[] = [{ quantity: 0 }, { quantity: 101 }, { quantity: 1.5 }, { quantity: "two" }, {}, { quantity: 1, at: "soon" }, { quantity: 1, extra: 1 }];
    for (const q of bad) {
      expectProblem(await call("GET", quotePath(q), { token: owner }), 400, "VALIDATION_FAILED");
    }
    expectProblem(await call("GET", quotePath({ quantity: 1 }, crypto.randomUUID()), { token: owner }), 404, "NOT_FOUND");
    expectProblem(await call("GET", quotePath({ quantity: 1 }, tierId, crypto.randomUUID()), { token: owner }), 404, "NOT_FOUND");
  });

  it("shows customers the tiers of published events only; staff and keys see drafts too", async () => {
    const customer = (await registerUser(tenant)).tokens.accessToken;
    const key = (await createApiKey(tenant, ["events:read"])).key;
    const venue = await createVenue(owner);
    const draft = await createEvent(owner, venue.id);
    const tier = await addTier(owner, draft.id);
    const path = quotePath({ quantity: 1 }, tier.id, draft.id);
    expectProblem(await call("GET", path, { token: customer }), 404, "NOT_FOUND");
    expect((await call("GET", path, { token: key })).status).toBe(200);
    await transition(owner, draft.id, "PUBLISHED");
    expect((await call("GET", path, { token: customer })).body).toMatchObject({ priceRule: "base", totalMinor: 5000 });
  });

  it("quotes only the configuration in force, the one a hold locks: 409 while the latest change is not", async () => {
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 5000 });
    const customer = (await registerUser(tenant)).tokens.accessToken;
    const path = quotePath({ quantity: 2 }, tier.id, event.id);
    expect((await call("GET", path, { token: customer })).body).toMatchObject({ unitPriceMinor: 5000, totalMinor: 10000 });

    // A price change D1 took but the inventory never received (its push failed).
    const pushesFail = {
      idFromName: (name: string) => env.EVENT_INVENTORY.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = env.EVENT_INVENTORY.get(id);
        return {
          counts: () => stub.counts(),
          upsertTier: async () => {
            throw new Error("inventory unreachable (test)");
          },
        };
      },
    };
    const patched = await callApp(envWith({ EVENT_INVENTORY: pushesFail }), "PATCH", `${tiersPath(event.id)}/${tier.id}`, {
      token: owner,
      body: { priceMinor: 7000, version: 1 },
    });
    expect(patched.body).toMatchObject({ priceMinor: 7000, version: 2, inForce: false });
    for (const token of [customer, owner]) {
      expect(expectProblem(await call("GET", path, { token }), 409, "TIER_NOT_IN_FORCE")).toMatchObject({ tierId: tier.id, version: 2 });
    }
    // What a hold locks meanwhile is the configuration in force: D1's 70.00 would have been a wrong quote.
    const held = await placeHold(customer, event.id, [{ tierId: tier.id, quantity: 2 }]);
    expect(held.status, held.text).toBe(201);
    expect(held.body.items[0].quote).toMatchObject({ unitPriceMinor: 5000, totalMinor: 10000 });

    expect((await call("POST", `${tiersPath(event.id)}/sync`, { token: owner })).status).toBe(200);
    const quoted = await call("GET", path, { token: customer });
    expect(quoted.body).toMatchObject({ unitPriceMinor: 7000, totalMinor: 14000 });
    const buyer = (await registerUser(tenant)).tokens.accessToken;
    const locked = await placeHold(buyer, event.id, [{ tierId: tier.id, quantity: 2 }]);
    expect(locked.body.items[0].quote).toMatchObject({ unitPriceMinor: quoted.body.unitPriceMinor, totalMinor: quoted.body.totalMinor });
  });
});
