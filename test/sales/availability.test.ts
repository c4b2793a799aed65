import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../workers/api/app";
import { createEvent, createVenue, transition } from "../helpers/event-fixtures";
import { createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { BASE_URL, call, expectProblem, readResult } from "../helpers/http";
import { addTier, availabilityPath, DAY, iso, onSaleEvent, placeHold } from "./support";

let tenant: TenantFixture;
let owner: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
});

describe("GET /v1/public/{tenantSlug}/events/{eventId}/availability", () => {
  it("shows each tier's tickets left, sold-out and on-sale flags, without credentials", async () => {
    const { event, tier } = await onSaleEvent(tenant, { name: "Floor", capacity: 3 });
    const later = await addTier(owner, event.id, { name: "Balcony", capacity: 2, salesStartAt: iso(Date.now() + DAY) });
    const buyer = (await registerUser(tenant)).tokens.accessToken;
    expect((await placeHold(buyer, event.id, [{ tierId: tier.id, quantity: 3 }])).status).toBe(201);

    const res = await call("GET", availabilityPath(tenant.slug, event.id));
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=2");
    expect(res.headers.get("x-cache")).toBe("MISS");
    expect(res.body).toEqual({
      eventId: event.id,
      items: [
        { tierId: tier.id, name: "Floor", available: 0, soldOut: true, onSale: true },
        { tierId: later.id, name: "Balcony", available: 2, soldOut: false, onSale: false },
      ],
      asOf: expect.any(String),
    });
    // Nothing about buyers, prices or internal counters.
    expect(res.text).not.toMatch(/held|sold"|capacity|buyer|price/i);
  });

  it("shows tiers of a published event as not on sale", async () => {
    const venue = await createVenue(owner);
    const event = await createEvent(owner, venue.id);
    const tier = await addTier(owner, event.id, { capacity: 7 });
    await transition(owner, event.id, "PUBLISHED");
    const res = await call("GET", availabilityPath(tenant.slug, event.id));
    expect(res.body.items).toEqual([{ tierId: tier.id, name: tier.name, available: 7, soldOut: false, onSale: false }]);
  });

  it("answers 404 for drafts, private events, unknown events, foreign events and unknown tenants", async () => {
    const venue = await createVenue(owner);
    const draft = await createEvent(owner, venue.id);
    await addTier(owner, draft.id);
    expectProblem(await call("GET", availabilityPath(tenant.slug, draft.id)), 404, "NOT_FOUND");
    const hidden = await createEvent(owner, venue.id, { visibility: "PRIVATE" });
    await transition(owner, hidden.id, "PUBLISHED");
    expectProblem(await call("GET", availabilityPath(tenant.slug, hidden.id)), 404, "NOT_FOUND");
    expectProblem(await call("GET", availabilityPath(tenant.slug, crypto.randomUUID())), 404, "NOT_FOUND");
    const other = await createTenant();
    const foreign = await onSaleEvent(other);
    expectProblem(await call("GET", availabilityPath(tenant.slug, foreign.event.id)), 404, "NOT_FOUND");
    expectProblem(await call("GET", availabilityPath("no-such-tenant", foreign.event.id)), 404, "NOT_FOUND");
    expectProblem(await call("GET", availabilityPath(tenant.slug, "not-a-uuid")), 400, "VALIDATION_FAILED");
  });

  it("is served from the edge cache for at most 2 seconds", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const buyer = (await registerUser(tenant)).tokens.accessToken;
    // A clock the test moves, on a 2-second boundary so the steps below are unambiguous.
    let now = Math.ceil(Date.now() / 2000) * 2000 + 2000;
    const app = createApp({ clock: () => now });
    const read = async () => readResult(await app.request(`${BASE_URL}${availabilityPath(tenant.slug, event.id)}`, {}, env));

    const first = await read();
    expect([first.headers.get("x-cache"), first.body.items[0].available]).toEqual(["MISS", 10]);
    expect((await placeHold(buyer, event.id, [{ tierId: tier.id, quantity: 4 }])).status).toBe(201);

    now += 1_999;
    const cached = await read();
    expect([cached.headers.get("x-cache"), cached.body.items[0].available]).toEqual(["HIT", 10]);
    expect(cached.headers.get("cache-control")).toBe("public, max-age=2");

    now += 1;
    const fresh = await read();
    expect([fresh.headers.get("x-cache"), fresh.body.items[0].available]).toEqual(["MISS", 6]);
  });
});
