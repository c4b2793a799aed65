import { describe, expect, it } from "vitest";
import { HOLD_VELOCITY, RISK_THRESHOLDS } from "../../src/fraud";
import { createApiKey, createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { buy, drainInventory, ordersPath } from "../orders/support";
import { onSaleEvent, placeHold } from "../sales/support";

const FLAGGED = "/v1/orders/flagged";
/** Hold attempts that put a buyer over the velocity line (but under the hard limit). */
const HASTY_HOLDS = Math.floor(HOLD_VELOCITY.account.limit * RISK_THRESHOLDS.velocityShare) + 1;
const rand = () => Math.floor(Math.random() * 256);

/** A fresh tenant with a free on-sale event a buyer may hold many times. */
async function world() {
  const tenant = await createTenant();
  const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 500, maxPerOrder: 10, maxPerBuyer: 100 });
  return { tenant, owner: tenant.owner.tokens.accessToken, event, tier };
}

/** A buyer who places HASTY_HOLDS holds in a row: returns their token and hold ids. */
async function hastyBuyer(tenant: TenantFixture, eventId: string, tierId: string) {
  const u = await registerUser(tenant);
  const holds = [];
  for (let i = 0; i < HASTY_HOLDS; i++) {
    const h = await placeHold(u.tokens.accessToken, eventId, [{ tierId, quantity: 1 }]);
    expect(h.status, h.text).toBe(201);
    holds.push(h.body.id as string);
  }
  return { id: u.id, token: u.tokens.accessToken, holds };
}

const checkoutWith = (token: string, eventId: string, holdId: string, headers: Record<string, string> = {}) =>
  call("POST", ordersPath(eventId), { token, headers: { "idempotency-key": crypto.randomUUID(), ...headers }, body: { holdId } });

const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((o) => o.id);

describe("GET /v1/orders/flagged", () => {
  it("lists a hasty buyer's order flagged `velocity` to admins and scoped API keys, not ordinary orders, not to other tenants", async () => {
    const { tenant, owner, event, tier } = await world();
    const hasty = await hastyBuyer(tenant, event.id, tier.id);
    const flagged = await checkoutWith(hasty.token, event.id, hasty.holds[0]!);
    expect([flagged.status, flagged.body.status]).toEqual([201, "paid"]);
    const calm = await registerUser(tenant);
    const ordinary = await buy(calm.tokens.accessToken, event.id, tier.id, 2);
    expect(ordinary.status, ordinary.text).toBe(201);

    // Nothing is listed before the order records reach D1.
    expect((await call("GET", FLAGGED, { token: owner })).body).toEqual({ items: [], nextCursor: null });
    await drainInventory(tenant.id, event.id);

    const list = await call("GET", FLAGGED, { token: owner });
    expect(list.status, list.text).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({
      id: flagged.body.id,
      eventId: event.id,
      buyerId: hasty.id,
      status: "paid",
      flags: ["velocity"],
      tickets: [expect.objectContaining({ orderId: flagged.body.id, status: "valid" })],
    });
    expect(ids(list)).not.toContain(ordinary.body.id);
    // The staff's event listing shows both, with their flags.
    const staff = await call("GET", `${ordersPath(event.id)}?limit=100`, { token: owner });
    const byId = new Map(staff.body.items.map((o: { id: string; flags: string[] }) => [o.id, o.flags]));
    expect([byId.get(flagged.body.id), byId.get(ordinary.body.id)]).toEqual([["velocity"], []]);

    const key = await createApiKey(tenant, ["orders:read"]);
    expect(ids(await call("GET", FLAGGED, { token: key.key }))).toEqual([flagged.body.id]);
    expectProblem(await call("GET", FLAGGED, { token: calm.tokens.accessToken }), 403, "FORBIDDEN");

    const other = await createTenant();
    const theirs = await call("GET", FLAGGED, { token: other.owner.tokens.accessToken });
    expect(theirs.body).toEqual({ items: [], nextCursor: null });
  });

  it("flags a brand-new account's large order `new_account`, and a 10-ticket order `bulk` (the inventory knows the quantity)", async () => {
    const { tenant, owner, event, tier } = await world();
    const fresh = await registerUser(tenant);
    const four = await buy(fresh.tokens.accessToken, event.id, tier.id, RISK_THRESHOLDS.newAccountMinTickets);
    const ten = await buy(fresh.tokens.accessToken, event.id, tier.id, RISK_THRESHOLDS.bulkTickets);
    const small = await buy(fresh.tokens.accessToken, event.id, tier.id, 1);
    await drainInventory(tenant.id, event.id);
    const res = await call("GET", FLAGGED, { token: owner });
    const flagsOf = (id: string) => res.body.items.find((o: { id: string }) => o.id === id)?.flags;
    expect(flagsOf(four.body.id)).toEqual(["new_account"]);
    expect(flagsOf(ten.body.id)).toEqual(["new_account", "bulk"]);
    expect(flagsOf(small.body.id)).toBeUndefined();
  });

  it("pages newest first with a cursor, and filters by event", async () => {
    const { tenant, owner, event, tier } = await world();
    const hasty = await hastyBuyer(tenant, event.id, tier.id);
    const orders = [];
    for (const holdId of hasty.holds.slice(0, 3)) {
      const o = await checkoutWith(hasty.token, event.id, holdId);
      expect(o.status, o.text).toBe(201);
      orders.push(o.body as { id: string; createdAt: string });
    }
    const second = await onSaleEvent(tenant, { priceMinor: 0 });
    const elsewhere = await checkoutWith(hasty.token, second.event.id, (await placeHold(hasty.token, second.event.id, [{ tierId: second.tier.id, quantity: 1 }])).body.id);
    expect(elsewhere.status, elsewhere.text).toBe(201);
    await drainInventory(tenant.id, event.id);
    await drainInventory(tenant.id, second.event.id);

    const page1 = await call("GET", `${FLAGGED}?limit=2`, { token: owner });
    expect(page1.status, page1.text).toBe(200);
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await call("GET", `${FLAGGED}?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`, { token: owner });
    expect(page2.body.items).toHaveLength(2);
    expect(page2.body.nextCursor).toBeNull();
    const all = [...page1.body.items, ...page2.body.items] as { id: string; createdAt: string }[];
    expect(new Set(all.map((o) => o.id))).toEqual(new Set([...orders.map((o) => o.id), elsewhere.body.id]));
    const times = all.map((o) => Date.parse(o.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const filtered = await call("GET", `${FLAGGED}?eventId=${second.event.id}`, { token: owner });
    expect(ids(filtered)).toEqual([elsewhere.body.id]);
    expectProblem(await call("GET", `${FLAGGED}?cursor=garbage`, { token: owner }), 400, "VALIDATION_FAILED");
    expectProblem(await call("GET", `${FLAGGED}?eventId=nope`, { token: owner }), 400, "VALIDATION_FAILED");
  });

  it("flags `shared_ip` when many buyers held from the checkout's address", async () => {
    const { tenant, owner, event, tier } = await world();
    const ip = { "cf-connecting-ip": `10.${rand()}.${rand()}.${rand()}` };
    const buyers = await Promise.all(Array.from({ length: RISK_THRESHOLDS.sharedIpBuyers }, () => registerUser(tenant)));
    const holds = [];
    for (const b of buyers) {
      const h = await placeHold(b.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }], { headers: ip });
      expect(h.status, h.text).toBe(201);
      holds.push(h.body.id as string);
    }
    const last = buyers.at(-1)!;
    const shared = await checkoutWith(last.tokens.accessToken, event.id, holds.at(-1)!, ip);
    // The first buyer checks out from home: nothing unusual about that address.
    const home = await checkoutWith(buyers[0]!.tokens.accessToken, event.id, holds[0]!, { "cf-connecting-ip": `10.${rand()}.${rand()}.${rand()}` });
    expect([shared.status, home.status]).toEqual([201, 201]);
    await drainInventory(tenant.id, event.id);

    const list = await call("GET", FLAGGED, { token: owner });
    expect(list.body.items.map((o: { id: string; flags: string[] }) => [o.id, o.flags])).toEqual([[shared.body.id, ["shared_ip"]]]);
  });
});
