import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_HOLD_TTL_MS } from "../../src/inventory/contract";
import { callApp, envWith } from "../http/app-harness";
import { createApp } from "../../workers/api/app";
import { createEvent, createVenue, transition } from "../helpers/event-fixtures";
import { createApiKey, createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { BASE_URL, call, expectProblem, readResult, requestInit, type CallResult } from "../helpers/http";
import { addTier, availabilityPath, DAY, holdsPath, iso, MINUTE, onSaleEvent, placeHold, releaseHold } from "./support";

let tenant: TenantFixture;
let owner: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
});

const buyer = async () => (await registerUser(tenant)).tokens.accessToken;
const items = (tierId: string, quantity = 1) => [{ tierId, quantity }];

/** The availability of one tier, read once per event (a first read is never a cached one). */
async function available(eventId: string, tierId: string): Promise<number> {
  const res = await call("GET", availabilityPath(tenant.slug, eventId));
  expect(res.status, res.text).toBe(200);
  return res.body.items.find((t: { tierId: string }) => t.tierId === tierId).available;
}

describe("POST /v1/events/{eventId}/holds", () => {
  it("holds tickets with the price quoted and locked now, expiring in 10 minutes", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10, priceMinor: 4000, serviceFeeMinor: 200, taxBps: 1000 });
    const token = await buyer();
    const before = Date.now();
    const res = await placeHold(token, event.id, items(tier.id, 2));
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("idempotency-replayed")).toBeNull();
    expect(res.headers.get("location")).toBe(`${holdsPath(event.id)}/${res.body.id}`);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const h = res.body;
    expect(h).toMatchObject({
      eventId: event.id,
      status: "active",
      currency: "EUR",
      totalMinor: 9240, // 2 × (40.00 + 2.00) + 10 % tax
      items: [
        {
          tierId: tier.id,
          quantity: 2,
          quote: { priceRule: "base", unitPriceMinor: 4000, subtotalMinor: 8000, serviceFeesMinor: 400, taxMinor: 840, totalMinor: 9240 },
        },
      ],
    });
    const created = Date.parse(h.createdAt);
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(h.expiresAt) - created).toBe(DEFAULT_HOLD_TTL_MS);
    expect(DEFAULT_HOLD_TTL_MS).toBe(10 * MINUTE);
    expect(h.items[0].quote.quotedAt).toBe(h.createdAt);

    // The buyer reads it back; another buyer cannot tell it exists.
    const got = await call("GET", `${holdsPath(event.id)}/${h.id}`, { token });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toEqual(h);
    expectProblem(await call("GET", `${holdsPath(event.id)}/${h.id}`, { token: await buyer() }), 404, "HOLD_NOT_FOUND");
    expectProblem(await call("GET", `${holdsPath(event.id)}/${crypto.randomUUID()}`, { token }), 404, "HOLD_NOT_FOUND");
    expect(await available(event.id, tier.id)).toBe(8);
  });

  it("keeps the locked price when the tier's price changes afterwards", async () => {
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 1000 });
    const token = await buyer();
    const first = await placeHold(token, event.id, items(tier.id));
    const patched = await call("PATCH", `/v1/events/${event.id}/tiers/${tier.id}`, { token: owner, body: { priceMinor: 1500, version: 1 } });
    expect(patched.status, patched.text).toBe(200);
    expect((await call("GET", `${holdsPath(event.id)}/${first.body.id}`, { token })).body.totalMinor).toBe(1000);
    expect((await placeHold(token, event.id, items(tier.id))).body.totalMinor).toBe(1500);
  });

  it("takes several tiers at once, and nothing at all when one line cannot be held", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const small = await addTier(owner, event.id, { name: "Small", capacity: 1 });
    const token = await buyer();
    const both = await placeHold(token, event.id, [
      { tierId: tier.id, quantity: 3 },
      { tierId: small.id, quantity: 1 },
    ]);
    expect(both.status, both.text).toBe(201);
    expect(both.body.totalMinor).toBe(4 * 5000);
    const refused = await placeHold(await buyer(), event.id, [
      { tierId: tier.id, quantity: 2 },
      { tierId: small.id, quantity: 1 },
    ]);
    expect(expectProblem(refused, 409, "SOLD_OUT")).toMatchObject({ tierId: small.id, available: 0 });
    expect(await available(event.id, tier.id)).toBe(7);
  });
});

describe("idempotency", () => {
  it("replays the first answer for the same key and body, holding once", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const token = await buyer();
    const key = crypto.randomUUID();
    const first = await placeHold(token, event.id, items(tier.id, 2), { key });
    const again = await placeHold(token, event.id, items(tier.id, 2), { key });
    expect(again.status, again.text).toBe(201);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    // The same JSON with its keys in another order is the same request.
    const reordered = await call("POST", holdsPath(event.id), {
      token,
      headers: { "idempotency-key": key, "content-type": "application/json" },
      rawBody: `{ "items": [ { "quantity": 2, "tierId": "${tier.id}" } ] }`,
    });
    expect(reordered.status, reordered.text).toBe(201);
    expect(reordered.body.id).toBe(first.body.id);
    expect(await available(event.id, tier.id)).toBe(8);
  });

  it("accepts the key as a Structured Field string, the same key as bare", async () => {
    const { event, tier } = await onSaleEvent(tenant);
    const token = await buyer();
    const first = await placeHold(token, event.id, items(tier.id), { key: '"order-42"' });
    expect(first.status, first.text).toBe(201);
    const bare = await placeHold(token, event.id, items(tier.id), { key: "order-42" });
    expect(bare.headers.get("idempotency-replayed")).toBe("true");
    expect(bare.body.id).toBe(first.body.id);
  });

  it("answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body, holding nothing more", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const token = await buyer();
    const key = crypto.randomUUID();
    expect((await placeHold(token, event.id, items(tier.id, 1), { key })).status).toBe(201);
    expectProblem(await placeHold(token, event.id, items(tier.id, 2), { key }), 422, "IDEMPOTENCY_KEY_REUSED");
    // A release is another request too.
    const holds = await placeHold(token, event.id, items(tier.id, 1));
    expectProblem(await releaseHold(token, event.id, holds.body.id, key), 422, "IDEMPOTENCY_KEY_REUSED");
    expect(await available(event.id, tier.id)).toBe(8);
  });

  it("scopes keys to the caller: two buyers with one key get two holds", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const key = "shared-key";
    const a = await placeHold(await buyer(), event.id, items(tier.id), { key });
    const b = await placeHold(await buyer(), event.id, items(tier.id), { key });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get("idempotency-replayed")).toBeNull();
    expect(a.body.id).not.toBe(b.body.id);
  });

  it("replays a refusal too, even after the world changed", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 1 });
    const firstBuyer = await buyer();
    const first = await placeHold(firstBuyer, event.id, items(tier.id));
    const token = await buyer();
    const key = crypto.randomUUID();
    expectProblem(await placeHold(token, event.id, items(tier.id), { key }), 409, "SOLD_OUT");
    // The seat comes free again, but the key's answer stands: a new attempt needs a new key.
    expect((await releaseHold(firstBuyer, event.id, first.body.id)).status).toBe(200);
    const replay = await placeHold(token, event.id, items(tier.id), { key });
    expectProblem(replay, 409, "SOLD_OUT");
    expect(replay.headers.get("idempotency-replayed")).toBe("true");
    expect((await placeHold(token, event.id, items(tier.id))).status).toBe(201);
  });

  it("refuses a missing key (400 IDEMPOTENCY_KEY_MISSING) before judging the body", async () => {
    const { event, tier } = await onSaleEvent(tenant);
    const token = await buyer();
    expectProblem(await placeHold(token, event.id, items(tier.id), { key: null }), 400, "IDEMPOTENCY_KEY_MISSING");
    expectProblem(await placeHold(token, event.id, items(tier.id), { key: "" }), 400, "IDEMPOTENCY_KEY_MISSING");
    expectProblem(await placeHold(token, event.id, [{ tierId: "x", quantity: 0 }], { key: null }), 400, "IDEMPOTENCY_KEY_MISSING");
    expectProblem(await call("DELETE", `${holdsPath(event.id)}/${crypto.randomUUID()}`, { token }), 400, "IDEMPOTENCY_KEY_MISSING");
  });

  it("refuses a malformed key: 400 IDEMPOTENCY_KEY_MALFORMED", async () => {
    const { event, tier } = await onSaleEvent(tenant);
    const token = await buyer();
    for (const key of ["has space", "k".repeat(256), "tab\there", '""', '"a"b"', '"with space"']) {
      const p = expectProblem(await placeHold(token, event.id, items(tier.id), { key }), 400, "IDEMPOTENCY_KEY_MALFORMED");
      expect(p.errors).toEqual([{ field: "headers.idempotency-key", message: expect.any(String) }]);
    }
    // Non-ASCII cannot even be sent as a header value by fetch; as Latin-1 bytes it is malformed too.
    const latin1 = await placeHold(token, event.id, items(tier.id), { key: "caf\u00e9" });
    expectProblem(latin1, 400, "IDEMPOTENCY_KEY_MALFORMED");
    expect((await placeHold(token, event.id, items(tier.id), { key: "k".repeat(255) })).status).toBe(201);
    expect((await placeHold(token, event.id, items(tier.id), { key: "!" })).status).toBe(201);
  });
});

describe("refusals, each a problem with its own code", () => {
  it("EVENT_NOT_ON_SALE: a published event whose sales have not opened", async () => {
    const venue = await createVenue(owner);
    const event = await createEvent(owner, venue.id);
    const tier = await addTier(owner, event.id);
    await transition(owner, event.id, "PUBLISHED");
    const p = expectProblem(await placeHold(await buyer(), event.id, items(tier.id)), 409, "EVENT_NOT_ON_SALE");
    expect(p.eventStatus).toBe("PUBLISHED");
  });

  it("OUTSIDE_SALES_WINDOW: a tier whose own sales open tomorrow or have ended", async () => {
    const { event } = await onSaleEvent(tenant);
    const later = await addTier(owner, event.id, { name: "Later", salesStartAt: iso(Date.now() + DAY) });
    const over = await addTier(owner, event.id, { name: "Over", salesStartAt: iso(Date.now() - 2 * DAY), salesEndAt: iso(Date.now() - DAY) });
    const token = await buyer();
    expect(expectProblem(await placeHold(token, event.id, items(later.id)), 409, "OUTSIDE_SALES_WINDOW").tierId).toBe(later.id);
    expect(expectProblem(await placeHold(token, event.id, items(over.id)), 409, "OUTSIDE_SALES_WINDOW").tierId).toBe(over.id);
  });

  it("UNKNOWN_TIER: a tier id the event does not sell", async () => {
    const { event } = await onSaleEvent(tenant);
    const other = await onSaleEvent(tenant);
    const token = await buyer();
    expectProblem(await placeHold(token, event.id, items(crypto.randomUUID())), 422, "UNKNOWN_TIER");
    expectProblem(await placeHold(token, event.id, items(other.tier.id)), 422, "UNKNOWN_TIER");
  });

  it("QUANTITY_OUT_OF_RANGE: outside the tier's per-order limits; outside 1-100 is a 400", async () => {
    const { event, tier } = await onSaleEvent(tenant, { minPerOrder: 2, maxPerOrder: 4, maxPerBuyer: 10 });
    const token = await buyer();
    const low = expectProblem(await placeHold(token, event.id, items(tier.id, 1)), 422, "QUANTITY_OUT_OF_RANGE");
    expect(low).toMatchObject({ tierId: tier.id, quantity: 1, min: 2, max: 4 });
    expectProblem(await placeHold(token, event.id, items(tier.id, 5)), 422, "QUANTITY_OUT_OF_RANGE");
    for (const quantity of [0, 101, 1.5, -1]) {
      const p = expectProblem(await placeHold(token, event.id, items(tier.id, quantity)), 400, "VALIDATION_FAILED");
      expect(p.errors?.[0]?.field).toBe("body.items.0.quantity");
    }
  });

  it("BUYER_LIMIT_EXCEEDED: over the tier's per-buyer maximum across holds; a release makes room", async () => {
    const { event, tier } = await onSaleEvent(tenant, { maxPerOrder: 3, maxPerBuyer: 3 });
    const token = await buyer();
    const first = await placeHold(token, event.id, items(tier.id, 2));
    expect(first.status).toBe(201);
    const p = expectProblem(await placeHold(token, event.id, items(tier.id, 2)), 409, "BUYER_LIMIT_EXCEEDED");
    expect(p).toMatchObject({ tierId: tier.id, maxPerBuyer: 3, remaining: 1 });
    expect((await placeHold(await buyer(), event.id, items(tier.id, 2))).status).toBe(201); // another buyer is not limited by it
    expect((await releaseHold(token, event.id, first.body.id)).status).toBe(200);
    expect((await placeHold(token, event.id, items(tier.id, 3))).status).toBe(201);
  });

  it("SOLD_OUT: more than what is left", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 3 });
    expect((await placeHold(await buyer(), event.id, items(tier.id, 2))).status).toBe(201);
    expect(expectProblem(await placeHold(await buyer(), event.id, items(tier.id, 2)), 409, "SOLD_OUT")).toMatchObject({ available: 1 });
    expect((await placeHold(await buyer(), event.id, items(tier.id, 1))).status).toBe(201);
    expect(expectProblem(await placeHold(await buyer(), event.id, items(tier.id, 1)), 409, "SOLD_OUT")).toMatchObject({ available: 0 });
  });

  it("refuses malformed bodies: no items, more than 10, a tier twice, unknown fields", async () => {
    const { event, tier } = await onSaleEvent(tenant);
    const token = await buyer();
    const send = (body: unknown) => call("POST", holdsPath(event.id), { token, headers: { "idempotency-key": crypto.randomUUID() }, body });
    for (const body of [
      { items: [] },
      { items: Array.from({ length: 11 }, () => ({ tierId: crypto.randomUUID(), quantity: 1 })) },
      { items: [...items(tier.id), ...items(tier.id)] },
      { items: [{ tierId: tier.id, quantity: 1, price: 0 }] },
      { items: items(tier.id), buyerId: crypto.randomUUID() },
      {},
    ]) {
      expectProblem(await send(body), 400, "VALIDATION_FAILED");
    }
  });

  it("answers 404 for an unknown or foreign event, and to customers for an unpublished one, before the inventory", async () => {
    const token = await buyer();
    expectProblem(await placeHold(token, crypto.randomUUID(), items(crypto.randomUUID())), 404, "NOT_FOUND");
    const other = await createTenant();
    const foreign = await onSaleEvent(other);
    expectProblem(await placeHold(token, foreign.event.id, items(foreign.tier.id)), 404, "NOT_FOUND");
    const venue = await createVenue(owner);
    const draft = await createEvent(owner, venue.id);
    const tier = await addTier(owner, draft.id);
    expectProblem(await placeHold(token, draft.id, items(tier.id)), 404, "NOT_FOUND");
    // Staff see the draft, and the inventory refuses it as not on sale.
    expectProblem(await placeHold(owner, draft.id, items(tier.id)), 409, "EVENT_NOT_ON_SALE");
  });

  it("refuses API keys, even with every scope (buyers are people)", async () => {
    const { event, tier } = await onSaleEvent(tenant);
    const key = await createApiKey(tenant, ["events:read", "events:write"]);
    expectProblem(await placeHold(key.key, event.id, items(tier.id)), 403, "FORBIDDEN");
  });

  it("answers 503 when the inventory cannot be reached; the same key then succeeds", async () => {
    const { event, tier } = await onSaleEvent(tenant);
    const token = await buyer();
    const key = crypto.randomUUID();
    const down = envWith({
      EVENT_INVENTORY: {
        idFromName: (n: string) => env.EVENT_INVENTORY.idFromName(n),
        get: () => ({
          hold: async () => {
            throw new Error("overloaded (test)");
          },
          holdIfPublic: async () => {
            throw new Error("overloaded (test)");
          },
        }),
      },
    });
    const res = await callApp(down, "POST", holdsPath(event.id), { token, headers: { "idempotency-key": key }, body: { items: items(tier.id) } });
    expectProblem(res, 503, "DEPENDENCY_UNAVAILABLE");
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await placeHold(token, event.id, items(tier.id), { key })).status).toBe(201);
  });
});

describe("DELETE /v1/events/{eventId}/holds/{holdId}", () => {
  it("releases the buyer's hold and gives its tickets back; a retry replays, a new key answers the released hold", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 2 });
    const token = await buyer();
    const hold = await placeHold(token, event.id, items(tier.id, 2));
    expectProblem(await placeHold(await buyer(), event.id, items(tier.id)), 409, "SOLD_OUT");

    expectProblem(await releaseHold(await buyer(), event.id, hold.body.id), 404, "HOLD_NOT_FOUND");
    const key = crypto.randomUUID();
    const released = await releaseHold(token, event.id, hold.body.id, key);
    expect(released.status, released.text).toBe(200);
    expect(released.body).toMatchObject({ id: hold.body.id, status: "released", totalMinor: hold.body.totalMinor });
    const replay = await releaseHold(token, event.id, hold.body.id, key);
    expect(replay.headers.get("idempotency-replayed")).toBe("true");
    expect(replay.body).toEqual(released.body);
    const again = await releaseHold(token, event.id, hold.body.id);
    expect([again.status, again.body.status, again.headers.get("idempotency-replayed")]).toEqual([200, "released", null]);

    expect((await call("GET", `${holdsPath(event.id)}/${hold.body.id}`, { token })).body.status).toBe("released");
    expect((await placeHold(await buyer(), event.id, items(tier.id, 2))).status).toBe(201);
  });

  it("HOLD_EXPIRED: a hold past its expiry cannot be released, and reads as expired", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 5 });
    const token = await buyer();
    // A hold made eleven minutes ago: the app's clock is injected, the DO's expiry follows it.
    const past = createApp({ clock: () => Date.now() - 11 * MINUTE });
    const res: CallResult = await readResult(
      await past.request(
        `${BASE_URL}${holdsPath(event.id)}`,
        requestInit("POST", { token, headers: { "idempotency-key": crypto.randomUUID() }, body: { items: items(tier.id, 2) } }),
        env,
      ),
    );
    expect(res.status, res.text).toBe(201);
    expect(Date.parse(res.body.expiresAt)).toBeLessThan(Date.now());
    expect((await call("GET", `${holdsPath(event.id)}/${res.body.id}`, { token })).body.status).toBe("expired");
    const p = expectProblem(await releaseHold(token, event.id, res.body.id), 410, "HOLD_EXPIRED");
    expect(p.holdId).toBe(res.body.id);
    expect(await available(event.id, tier.id)).toBe(5);
  });
});
