import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { callApp, envWith } from "../http/app-harness";
import { createEvent, createVenue, transition } from "../helpers/event-fixtures";
import { createApiKey, createTenant, registerUser, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { addTier, DAY, iso, onSaleEvent, placeHold, tierBody, tiersPath } from "./support";

let tenant: TenantFixture;
let owner: string;
let eventId: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
  const venue = await createVenue(owner);
  eventId = (await createEvent(owner, venue.id)).id;
});

const tierPath = (evId: string, tierId: string) => `${tiersPath(evId)}/${tierId}`;

/** An EVENT_INVENTORY binding whose objects cannot be reached: every RPC throws. */
const unreachableInventory = {
  idFromName: (name: string) => env.EVENT_INVENTORY.idFromName(name),
  get: () =>
    new Proxy(
      {},
      {
        get: () => async () => {
          throw new Error("inventory unreachable (test)");
        },
      },
    ),
};

describe("creating and reading tiers", () => {
  it("creates a tier with defaults, in force in the event's inventory, and reads it back", async () => {
    const res = await call("POST", tiersPath(eventId), { token: owner, body: tierBody({ name: "Standing" }) });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("etag")).toBe('"v1"');
    expect(res.headers.get("location")).toBe(`/v1/events/${eventId}/tiers/${res.body.id}`);
    expect(res.body).toMatchObject({
      eventId,
      name: "Standing",
      description: null,
      capacity: 100,
      currency: "EUR",
      priceMinor: 5000,
      serviceFeeMinor: 0,
      facilityFeeMinor: 0,
      taxBps: 0,
      earlyBird: null,
      lastMinute: null,
      groupDiscount: null,
      minPerOrder: 1,
      maxPerOrder: 10,
      maxPerBuyer: 10,
      salesStartAt: null,
      salesEndAt: null,
      version: 1,
      inForce: true,
    });

    const got = await call("GET", tierPath(eventId, res.body.id), { token: owner });
    expect(got.status, got.text).toBe(200);
    expect(got.headers.get("etag")).toBe('"v1"');
    expect(got.body).toEqual(res.body);
  });

  it("keeps every optional rule as sent", async () => {
    const until = iso(Date.now() + DAY);
    const from = iso(Date.now() + 20 * DAY);
    const body = tierBody({
      name: "VIP",
      description: "Front rows",
      capacity: 50,
      priceMinor: 12000,
      serviceFeeMinor: 300,
      facilityFeeMinor: 150,
      taxBps: 1900,
      earlyBird: { priceMinor: 9000, until },
      lastMinute: { priceMinor: 15000, from },
      groupDiscount: { minQuantity: 4, bps: 1000 },
      minPerOrder: 2,
      maxPerOrder: 8,
      maxPerBuyer: 8,
      salesStartAt: iso(Date.now() + 1000),
      salesEndAt: iso(Date.now() + 25 * DAY),
    });
    const created = await addTier(owner, eventId, body);
    expect(created).toMatchObject({ ...body, earlyBird: { priceMinor: 9000, until }, lastMinute: { priceMinor: 15000, from } });
  });

  it("lists the event's tiers oldest first; other events' tiers are not in it", async () => {
    const venue = await createVenue(owner);
    const other = await createEvent(owner, venue.id);
    const a = await addTier(owner, other.id, { name: "A" });
    const b = await addTier(owner, other.id, { name: "B" });
    await addTier(owner, eventId, { name: "Elsewhere" });
    const res = await call("GET", tiersPath(other.id), { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(res.body.items.map((t: { id: string }) => t.id)).toEqual([a.id, b.id]);
  });

  it("answers 404 for an unknown tier, a tier of another event and an unknown event", async () => {
    const venue = await createVenue(owner);
    const other = await createEvent(owner, venue.id);
    const tier = await addTier(owner, other.id);
    expectProblem(await call("GET", tierPath(eventId, crypto.randomUUID()), { token: owner }), 404, "NOT_FOUND");
    expectProblem(await call("GET", tierPath(eventId, tier.id), { token: owner }), 404, "NOT_FOUND");
    expectProblem(await call("GET", tiersPath(crypto.randomUUID()), { token: owner }), 404, "NOT_FOUND");
    expectProblem(await call("POST", tiersPath(crypto.randomUUID()), { token: owner, body: tierBody() }), 404, "NOT_FOUND");
  });

  it("refuses tiers for a cancelled event (409 CONFLICT)", async () => {
    const venue = await createVenue(owner);
    const ev = await createEvent(owner, venue.id);
    await transition(owner, ev.id, "PUBLISHED", "CANCELLED");
    expectProblem(await call("POST", tiersPath(ev.id), { token: owner, body: tierBody() }), 409, "CONFLICT");
  });

  it("lets only those who may manage the event write its tiers", async () => {
    const venue = await createVenue(owner);
    const ev = await createEvent(owner, venue.id);
    const organizer = await userWithRole(tenant, "organizer");
    // An organizer without access to the venue, who did not create the event.
    expectProblem(await call("POST", tiersPath(ev.id), { token: organizer.tokens.accessToken, body: tierBody() }), 403, "FORBIDDEN");
    const customer = await registerUser(tenant);
    expectProblem(await call("POST", tiersPath(ev.id), { token: customer.tokens.accessToken, body: tierBody() }), 403, "FORBIDDEN");
    const key = await createApiKey(tenant, ["events:write"]);
    expect((await call("POST", tiersPath(ev.id), { token: key.key, body: tierBody() })).status).toBe(201);
  });
});

describe("validation of every bound", () => {
  const now = Date.now();
  const invalid: [string, Record<string, unknown>, string][] = [
    ["empty name", { name: "  " }, "body.name"],
    ["name over 100", { name: "x".repeat(101) }, "body.name"],
    ["description over 2000", { description: "x".repeat(2001) }, "body.description"],
    ["capacity 0", { capacity: 0 }, "body.capacity"],
    ["negative capacity", { capacity: -5 }, "body.capacity"],
    ["fractional capacity", { capacity: 1.5 }, "body.capacity"],
    ["capacity over 1,000,000", { capacity: 1_000_001 }, "body.capacity"],
    ["lowercase currency", { currency: "eur" }, "body.currency"],
    ["two-letter currency", { currency: "EU" }, "body.currency"],
    ["four-letter currency", { currency: "EURO" }, "body.currency"],
    ["digit in currency", { currency: "E1R" }, "body.currency"],
    ["negative price", { priceMinor: -1 }, "body.priceMinor"],
    ["fractional price", { priceMinor: 10.5 }, "body.priceMinor"],
    ["price over the maximum", { priceMinor: 1_000_000_001 }, "body.priceMinor"],
    ["price as a string", { priceMinor: "5000" }, "body.priceMinor"],
    ["negative service fee", { serviceFeeMinor: -1 }, "body.serviceFeeMinor"],
    ["negative facility fee", { facilityFeeMinor: -1 }, "body.facilityFeeMinor"],
    ["negative tax", { taxBps: -1 }, "body.taxBps"],
    ["tax over 100%", { taxBps: 10_001 }, "body.taxBps"],
    ["negative early-bird price", { earlyBird: { priceMinor: -1, until: iso(now + DAY) } }, "body.earlyBird.priceMinor"],
    ["early bird without its end", { earlyBird: { priceMinor: 100 } }, "body.earlyBird.until"],
    ["early bird without its price", { earlyBird: { until: iso(now + DAY) } }, "body.earlyBird.priceMinor"],
    ["early bird with a bad time", { earlyBird: { priceMinor: 100, until: "tomorrow" } }, "body.earlyBird.until"],
    ["negative last-minute price", { lastMinute: { priceMinor: -1, from: iso(now + DAY) } }, "body.lastMinute.priceMinor"],
    ["last minute without its start", { lastMinute: { priceMinor: 100 } }, "body.lastMinute.from"],
    ["group discount from 1 ticket", { groupDiscount: { minQuantity: 1, bps: 500 } }, "body.groupDiscount.minQuantity"],
    ["group discount over 100%", { groupDiscount: { minQuantity: 2, bps: 10_001 } }, "body.groupDiscount.bps"],
    ["negative group discount", { groupDiscount: { minQuantity: 2, bps: -1 } }, "body.groupDiscount.bps"],
    ["group discount without its rate", { groupDiscount: { minQuantity: 2 } }, "body.groupDiscount.bps"],
    ["minPerOrder 0", { minPerOrder: 0 }, "body.minPerOrder"],
    ["maxPerOrder 0", { maxPerOrder: 0 }, "body.maxPerOrder"],
    ["maxPerOrder over 100", { maxPerOrder: 101 }, "body.maxPerOrder"],
    ["maxPerOrder below minPerOrder", { minPerOrder: 5, maxPerOrder: 4 }, "body.maxPerOrder"],
    ["maxPerBuyer 0", { maxPerBuyer: 0 }, "body.maxPerBuyer"],
    ["maxPerBuyer below minPerOrder", { minPerOrder: 4, maxPerOrder: 6, maxPerBuyer: 3 }, "body.maxPerBuyer"],
    ["sales end before start", { salesStartAt: iso(now + 2 * DAY), salesEndAt: iso(now + DAY) }, "body.salesEndAt"],
    ["sales end equal to start", { salesStartAt: iso(now + DAY), salesEndAt: iso(now + DAY) }, "body.salesEndAt"],
    ["unknown field", { colour: "red" }, "body.colour"],
    ["version on create", { version: 1 }, "body.version"],
  ];
  for (const [what, overrides, field] of invalid) {
    it(`refuses ${what}: 400 naming ${field}`, async () => {
      const p = expectProblem(await call("POST", tiersPath(eventId), { token: owner, body: tierBody(overrides) }), 400, "VALIDATION_FAILED");
      expect(p.errors?.map((e) => e.field)).toContain(field);
    });
  }

  it("accepts the edges of every range", async () => {
    const edges = tierBody({
      name: "x".repeat(100),
      capacity: 1,
      priceMinor: 0,
      serviceFeeMinor: 1_000_000_000,
      taxBps: 10_000,
      earlyBird: { priceMinor: 0, until: iso(now + DAY) },
      groupDiscount: { minQuantity: 2, bps: 10_000 },
      minPerOrder: 100,
      maxPerOrder: 100,
      maxPerBuyer: 100,
    });
    expect((await call("POST", tiersPath(eventId), { token: owner, body: edges })).status).toBe(201);
    const max = tierBody({ capacity: 1_000_000, priceMinor: 1_000_000_000, groupDiscount: { minQuantity: 100, bps: 0 } });
    expect((await call("POST", tiersPath(eventId), { token: owner, body: max })).status).toBe(201);
  });

  it("keeps the same rules in the schema: D1 refuses rows that break them", async () => {
    const insert = (overrides: Record<string, unknown>) => {
      const row: Record<string, unknown> = {
        id: crypto.randomUUID(),
        tenant_id: tenant.id,
        event_id: eventId,
        name: "Raw",
        capacity: 10,
        currency: "EUR",
        price_minor: 100,
        max_per_order: 5,
        max_per_buyer: 5,
        created_by: "test",
        created_at: 1,
        updated_at: 1,
        ...overrides,
      };
      const cols = Object.keys(row);
      return env.DB.prepare(`INSERT INTO ticket_tiers (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`)
        .bind(...Object.values(row))
        .run();
    };
    await expect(insert({})).resolves.toBeDefined();
    const broken: Record<string, unknown>[] = [
      { capacity: 0 },
      { currency: "eur" },
      { currency: "EURO" },
      { price_minor: -1 },
      { service_fee_minor: -1 },
      { facility_fee_minor: -1 },
      { tax_bps: 10_001 },
      { early_bird_price_minor: 100 },
      { early_bird_until: 5 },
      { early_bird_price_minor: -1, early_bird_until: 5 },
      { last_minute_price_minor: 100 },
      { last_minute_from: 5 },
      { group_min_quantity: 1, group_discount_bps: 100 },
      { group_min_quantity: 2 },
      { group_min_quantity: 2, group_discount_bps: 10_001 },
      { min_per_order: 0 },
      { min_per_order: 6, max_per_order: 5 },
      { max_per_buyer: 0 },
      { sales_start_at: 10, sales_end_at: 10 },
      { version: 0 },
      { applied_version: 2 },
      { event_id: crypto.randomUUID() },
    ];
    for (const overrides of broken) {
      const outcome = await insert(overrides).then(() => "accepted", (e: Error) => e.message);
      expect(outcome, JSON.stringify(overrides)).toMatch(/constraint/i);
    }
  });
});

describe("one currency per event", () => {
  it("refuses a tier in another currency than the event's tiers, and a PATCH that would mix them", async () => {
    const venue = await createVenue(owner);
    const ev = await createEvent(owner, venue.id);
    const eur = await addTier(owner, ev.id, { currency: "EUR" });
    const usd = await call("POST", tiersPath(ev.id), { token: owner, body: tierBody({ currency: "USD" }) });
    expect(expectProblem(usd, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "body.currency", message: expect.any(String) }]);

    // The only tier may change currency; with a second one, neither may.
    const alone = await call("PATCH", tierPath(ev.id, eur.id), { token: owner, body: { currency: "GBP", version: 1 } });
    expect(alone.status, alone.text).toBe(200);
    await addTier(owner, ev.id, { currency: "GBP" });
    const mixed = await call("PATCH", tierPath(ev.id, eur.id), { token: owner, body: { currency: "EUR", version: 2 } });
    expectProblem(mixed, 400, "VALIDATION_FAILED");
    expect((await call("GET", tierPath(ev.id, eur.id), { token: owner })).body).toMatchObject({ currency: "GBP", version: 2 });
  });

  it("holds under concurrent creates: of two tiers in different currencies racing, at most one is written", async () => {
    const venue = await createVenue(owner);
    const ev = await createEvent(owner, venue.id);
    const results = await Promise.all(
      ["EUR", "USD", "EUR", "USD"].map((currency) => call("POST", tiersPath(ev.id), { token: owner, body: tierBody({ currency }) })),
    );
    const list = await call("GET", tiersPath(ev.id), { token: owner });
    const currencies = new Set(list.body.items.map((t: { currency: string }) => t.currency));
    expect(currencies.size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(list.body.items.length);
  });
});

describe("PATCH", () => {
  it("needs the version, refuses a stale one and bumps it", async () => {
    const tier = await addTier(owner, eventId);
    const path = tierPath(eventId, tier.id);
    expectProblem(await call("PATCH", path, { token: owner, body: { capacity: 120 } }), 428, "PRECONDITION_REQUIRED");
    expectProblem(await call("PATCH", path, { token: owner, body: { capacity: 120, version: 7 } }), 409, "VERSION_CONFLICT");
    expectProblem(await call("PATCH", path, { token: owner, headers: { "if-match": '"v7"' }, body: { capacity: 120 } }), 412, "PRECONDITION_FAILED");
    const ok = await call("PATCH", path, { token: owner, headers: { "if-match": '"v1"' }, body: { capacity: 120, name: "Renamed" } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.headers.get("etag")).toBe('"v2"');
    expect(ok.body).toMatchObject({ capacity: 120, name: "Renamed", version: 2, inForce: true });
    expectProblem(await call("PATCH", path, { token: owner, body: { capacity: 130, version: 1 } }), 409, "VERSION_CONFLICT");
  });

  it("writes nothing for a PATCH that changes nothing", async () => {
    const tier = await addTier(owner, eventId);
    const res = await call("PATCH", tierPath(eventId, tier.id), { token: owner, body: { capacity: tier.capacity, version: 1 } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.version).toBe(1);
  });

  it("sets and clears price rules, and judges limits on the resulting tier", async () => {
    const tier = await addTier(owner, eventId, { minPerOrder: 2, maxPerOrder: 6, maxPerBuyer: 6 });
    const path = tierPath(eventId, tier.id);
    const until = iso(Date.now() + DAY);
    const set = await call("PATCH", path, { token: owner, body: { earlyBird: { priceMinor: 100, until }, version: 1 } });
    expect(set.body).toMatchObject({ earlyBird: { priceMinor: 100, until }, version: 2 });
    const cleared = await call("PATCH", path, { token: owner, body: { earlyBird: null, version: 2 } });
    expect(cleared.body).toMatchObject({ earlyBird: null, version: 3 });
    // maxPerOrder alone, below the stored minPerOrder.
    const p = expectProblem(await call("PATCH", path, { token: owner, body: { maxPerOrder: 1, version: 3 } }), 400, "VALIDATION_FAILED");
    expect(p.errors?.map((e) => e.field)).toContain("body.maxPerOrder");
    expectProblem(await call("PATCH", path, { token: owner, body: { version: 3 } }), 400, "VALIDATION_FAILED");
    expectProblem(await call("PATCH", path, { token: owner, body: { capacity: 0, version: 3 } }), 400, "VALIDATION_FAILED");
  });

  it("raises capacity any time but lowers it only down to what is held", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const buyer = await registerUser(tenant);
    expect((await placeHold(buyer.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 4 }])).status).toBe(201);
    const path = tierPath(event.id, tier.id);

    const below = await call("PATCH", path, { token: owner, body: { capacity: 3, version: 1 } });
    expect(expectProblem(below, 409, "CAPACITY_BELOW_COMMITTED")).toMatchObject({ committed: 4, held: 4, sold: 0, requestedCapacity: 3 });
    expect((await call("GET", path, { token: owner })).body).toMatchObject({ capacity: 10, version: 1, inForce: true });

    const exact = await call("PATCH", path, { token: owner, body: { capacity: 4, version: 1 } });
    expect(exact.body).toMatchObject({ capacity: 4, version: 2, inForce: true });
    // The DO enforces the new capacity: nothing is left.
    const other = await registerUser(tenant);
    expectProblem(await placeHold(other.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }]), 409, "SOLD_OUT");
    const raised = await call("PATCH", path, { token: owner, body: { capacity: 5, version: 2 } });
    expect(raised.body).toMatchObject({ capacity: 5, version: 3 });
    expect((await placeHold(other.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }])).status).toBe(201);
  });

  it("undoes the D1 change when the inventory refuses it after the write (holds arrived after the check)", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const buyer = await registerUser(tenant);
    expect((await placeHold(buyer.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 5 }])).status).toBe(201);
    // An inventory whose counts() answer from before the hold, as if the hold landed between check and push.
    const staleCounts = {
      idFromName: (name: string) => env.EVENT_INVENTORY.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = env.EVENT_INVENTORY.get(id);
        return { counts: async () => [], upsertTier: (t: never, now: number) => stub.upsertTier(t, now) };
      },
    };
    const res = await callApp(envWith({ EVENT_INVENTORY: staleCounts }), "PATCH", tierPath(event.id, tier.id), {
      token: owner,
      body: { capacity: 2, version: 1 },
    });
    expectProblem(res, 409, "CAPACITY_BELOW_COMMITTED");
    // The previous configuration again, as a new version, still in force.
    expect((await call("GET", tierPath(event.id, tier.id), { token: owner })).body).toMatchObject({ capacity: 10, version: 3, inForce: true });
  });
});

describe("when the inventory cannot be reached", () => {
  it("keeps the D1 write but says it is not in force, until the next tier write pushes it", async () => {
    const venue = await createVenue(owner);
    const ev = await createEvent(owner, venue.id);
    const down = envWith({ EVENT_INVENTORY: unreachableInventory });
    const res = await callApp(down, "POST", tiersPath(ev.id), { token: owner, body: tierBody() });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ version: 1, inForce: false });
    expect((await call("GET", tierPath(ev.id, res.body.id), { token: owner })).body.inForce).toBe(false);

    await addTier(owner, ev.id, { name: "Second" });
    expect((await call("GET", tierPath(ev.id, res.body.id), { token: owner })).body.inForce).toBe(true);
  });

  it("refuses to lower capacity it cannot check (503), writing nothing", async () => {
    const tier = await addTier(owner, eventId, { capacity: 10 });
    const down = envWith({ EVENT_INVENTORY: unreachableInventory });
    const res = await callApp(down, "PATCH", tierPath(eventId, tier.id), { token: owner, body: { capacity: 5, version: 1 } });
    expectProblem(res, 503, "DEPENDENCY_UNAVAILABLE");
    expect((await call("GET", tierPath(eventId, tier.id), { token: owner })).body).toMatchObject({ capacity: 10, version: 1 });
  });

  it("POST /tiers/sync pushes every tier again", async () => {
    const venue = await createVenue(owner);
    const ev = await createEvent(owner, venue.id);
    const down = envWith({ EVENT_INVENTORY: unreachableInventory });
    const a = await callApp(down, "POST", tiersPath(ev.id), { token: owner, body: tierBody({ name: "A" }) });
    const b = await callApp(down, "PATCH", tierPath(ev.id, a.body.id), { token: owner, body: { capacity: 200, version: 1 } });
    expect(b.body).toMatchObject({ capacity: 200, version: 2, inForce: false });
    expectProblem(await callApp(down, "POST", `${tiersPath(ev.id)}/sync`, { token: owner }), 503, "DEPENDENCY_UNAVAILABLE");

    const sync = await call("POST", `${tiersPath(ev.id)}/sync`, { token: owner });
    expect(sync.status, sync.text).toBe(200);
    expect(sync.body).toMatchObject({ items: [{ id: a.body.id, capacity: 200, version: 2, inForce: true }], refused: [] });
  });
});
