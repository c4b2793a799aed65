import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { inventoryName, type TierConfig, type TierCounts } from "../../src/inventory/contract";
import { callApp, envWith } from "../http/app-harness";
import { createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem, type CallResult } from "../helpers/http";
import { onSaleEvent, placeHold, tiersPath } from "./support";

/**
 * A change the event's inventory refuses after D1 was written is undone. These pin down
 * what D1 ends up with: a configuration the inventory has in force (same version, same
 * content), or, when no such configuration can be restored, one that says it is not in
 * force (`inForce: false`) so /tiers/sync and the next write can repair it.
 */

let tenant: TenantFixture;
let owner: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
});

const tierPath = (eventId: string, tierId: string) => `${tiersPath(eventId)}/${tierId}`;
type Ns = typeof env.EVENT_INVENTORY;

/** What the event's inventory has in force for the tier. */
async function inForce(eventId: string, tierId: string): Promise<TierCounts | undefined> {
  const stub = env.EVENT_INVENTORY.get(env.EVENT_INVENTORY.idFromName(inventoryName(tenant.id, eventId)));
  return ((await stub.counts()) as TierCounts[]).find((t) => t.tierId === tierId);
}

/** An inventory whose counts() are real but whose tier pushes never arrive. */
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

/**
 * An inventory whose first counts() answers from before the holds (as if they landed between
 * the check and the push); `onPush` runs after each push reached the real inventory, before
 * its answer is returned.
 */
function staleCheck(onPush?: (tier: TierConfig) => Promise<void>) {
  let calls = 0;
  return {
    idFromName: (name: string) => env.EVENT_INVENTORY.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = env.EVENT_INVENTORY.get(id);
      return {
        counts: async () => (calls++ === 0 ? [] : stub.counts()),
        upsertTier: async (t: TierConfig, now: number) => {
          const result = await stub.upsertTier(t, now);
          await onPush?.(t);
          return result;
        },
      };
    },
  } as unknown as Ns;
}

const patchWith = (inventory: unknown, path: string, body: Record<string, unknown>) =>
  callApp(envWith({ EVENT_INVENTORY: inventory }), "PATCH", path, { token: owner, body });

async function hold(eventId: string, tierId: string, quantity: number) {
  const buyer = await registerUser(tenant);
  const res = await placeHold(buyer.tokens.accessToken, eventId, [{ tierId, quantity }]);
  expect(res.status, res.text).toBe(201);
}

async function tierNow(eventId: string, tierId: string) {
  const res = await call("GET", tierPath(eventId, tierId), { token: owner });
  expect(res.status, res.text).toBe(200);
  return res.body as { version: number; capacity: number; priceMinor: number; inForce: boolean };
}

describe("undoing a tier change the inventory refused", () => {
  it("two changes, the second refused: D1 is back at the first, as a version the inventory has in force", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const path = tierPath(event.id, tier.id);
    expect((await call("PATCH", path, { token: owner, body: { priceMinor: 6000, version: 1 } })).body).toMatchObject({ version: 2, inForce: true });
    await hold(event.id, tier.id, 5);

    expectProblem(await patchWith(staleCheck(), path, { capacity: 2, version: 2 }), 409, "CAPACITY_BELOW_COMMITTED");
    const row = await tierNow(event.id, tier.id);
    expect(row).toMatchObject({ capacity: 10, priceMinor: 6000, version: 4, inForce: true });
    // inForce is the inventory's word for this very version, not a guess from the content.
    expect(await inForce(event.id, tier.id)).toMatchObject({ version: row.version, capacity: 10 });
  });

  it("a refused change after an earlier push failed: the earlier change is pushed again and is what D1 shows in force", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const path = tierPath(event.id, tier.id);
    const first = await patchWith(pushesFail, path, { priceMinor: 7000, version: 1 });
    expect(first.body).toMatchObject({ priceMinor: 7000, version: 2, inForce: false });
    await hold(event.id, tier.id, 5);

    expectProblem(await patchWith(staleCheck(), path, { capacity: 2, version: 2 }), 409, "CAPACITY_BELOW_COMMITTED");
    const row = await tierNow(event.id, tier.id);
    expect(row).toMatchObject({ capacity: 10, priceMinor: 7000, version: 4, inForce: true });
    expect(await inForce(event.id, tier.id)).toMatchObject({ version: 4, capacity: 10 });
  });

  it("when the configuration to go back to is refused too, D1 says it is not in force and sync lists it", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const path = tierPath(event.id, tier.id);
    // Accepted by D1 (nothing held yet), never reached the inventory.
    expect((await patchWith(pushesFail, path, { capacity: 3, version: 1 })).body).toMatchObject({ capacity: 3, version: 2, inForce: false });
    await hold(event.id, tier.id, 8);

    expectProblem(await patchWith(staleCheck(), path, { priceMinor: 6000, version: 2 }), 409, "CAPACITY_BELOW_COMMITTED");
    const row = await tierNow(event.id, tier.id);
    expect(row).toMatchObject({ capacity: 3, priceMinor: 5000, inForce: false });
    expect(await inForce(event.id, tier.id)).toMatchObject({ version: 1, capacity: 10 });
    const sync = await call("POST", `${tiersPath(event.id)}/sync`, { token: owner });
    expect(sync.body.refused).toEqual([{ tierId: tier.id, code: "CAPACITY_BELOW_COMMITTED", detail: expect.any(String) }]);

    // A PATCH that does not lower capacity is still checked against what is held, because
    // D1's capacity is not the one in force: refused up front, nothing written.
    expectProblem(await call("PATCH", path, { token: owner, body: { priceMinor: 6000, version: row.version } }), 409, "CAPACITY_BELOW_COMMITTED");
    expect((await tierNow(event.id, tier.id)).version).toBe(row.version);
    // A capacity the inventory accepts repairs it.
    const fixed = await call("PATCH", path, { token: owner, body: { capacity: 8, version: row.version } });
    expect(fixed.body).toMatchObject({ capacity: 8, inForce: true });
    expect(await inForce(event.id, tier.id)).toMatchObject({ version: fixed.body.version, capacity: 8 });
  });

  it("two writers racing, both refused: D1 ends at the configuration in force, not at the first writer's refused one", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const path = tierPath(event.id, tier.id);
    await hold(event.id, tier.id, 5);

    // Writer A lowers capacity to 2 (its check saw nothing held). While its push is refused,
    // before it undoes its write, writer B changes the price on top of A's version 2.
    let second: CallResult | undefined;
    const racing = staleCheck(async (t) => {
      if (t.version === 2 && !second) second = await patchWith(staleCheck(), path, { priceMinor: 6000, version: 2 });
    });
    expectProblem(await patchWith(racing, path, { capacity: 2, version: 1 }), 409, "CAPACITY_BELOW_COMMITTED");
    expect(second).toBeDefined();
    expectProblem(second!, 409, "CAPACITY_BELOW_COMMITTED");

    const row = await tierNow(event.id, tier.id);
    expect(row).toMatchObject({ capacity: 10, priceMinor: 5000, inForce: true });
    expect(await inForce(event.id, tier.id)).toMatchObject({ version: row.version, capacity: 10 });
  });
});
