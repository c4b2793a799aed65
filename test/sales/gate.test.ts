import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { runCron } from "../events-status/queues";
import { readEvent, seedEvent, walk } from "../events-status/seed";
import { callApp, envWith } from "../http/app-harness";
import { createEvent, createVenue, transition } from "../helpers/event-fixtures";
import { createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { expectProblem } from "../helpers/http";
import { addTier, HOUR, placeHold } from "./support";

/**
 * The event's status in D1 opens and closes the sales gate in its inventory: every committed
 * change is pushed, by the status route at once and by the cron for the clock's own changes
 * and for pushes that failed.
 */
let tenant: TenantFixture;
let owner: string;
let buyer: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
  buyer = (await registerUser(tenant)).tokens.accessToken;
});

const one = (tierId: string) => [{ tierId, quantity: 1 }];

describe("status changes through POST /v1/events/{id}/status", () => {
  it("DRAFT → PUBLISHED keeps the gate shut, ON_SALE opens it, SALES_PAUSED shuts it, ON_SALE again reopens it", async () => {
    const venue = await createVenue(owner);
    const event = await createEvent(owner, venue.id);
    const tier = await addTier(owner, event.id);
    // Staff may try while it is a draft: the inventory has no open gate yet.
    expectProblem(await placeHold(owner, event.id, one(tier.id)), 409, "EVENT_NOT_ON_SALE");

    await transition(owner, event.id, "PUBLISHED");
    expect(expectProblem(await placeHold(buyer, event.id, one(tier.id)), 409, "EVENT_NOT_ON_SALE").eventStatus).toBe("PUBLISHED");

    await transition(owner, event.id, "ON_SALE");
    expect((await placeHold(buyer, event.id, one(tier.id))).status).toBe(201);

    await transition(owner, event.id, "SALES_PAUSED");
    expect(expectProblem(await placeHold(buyer, event.id, one(tier.id)), 409, "EVENT_NOT_ON_SALE").eventStatus).toBe("SALES_PAUSED");

    await transition(owner, event.id, "ON_SALE");
    expect((await placeHold(buyer, event.id, one(tier.id))).status).toBe(201);

    // A cancelled event leaves the catalogue (customers get 404); staff see the gate shut.
    await transition(owner, event.id, "CANCELLED");
    expectProblem(await placeHold(buyer, event.id, one(tier.id)), 404, "NOT_FOUND");
    expect(expectProblem(await placeHold(owner, event.id, one(tier.id)), 409, "EVENT_NOT_ON_SALE").eventStatus).toBe("CANCELLED");
  });

  it("commits the change even when the push fails, and the cron's resync opens the gate", async () => {
    const venue = await createVenue(owner);
    const event = await createEvent(owner, venue.id);
    const tier = await addTier(owner, event.id);
    await transition(owner, event.id, "PUBLISHED");
    const unreachable = envWith({
      EVENT_INVENTORY: {
        idFromName: (n: string) => env.EVENT_INVENTORY.idFromName(n),
        get: () => ({
          syncGate: async () => {
            throw new Error("inventory unreachable (test)");
          },
        }),
      },
    });
    const res = await callApp(unreachable, "POST", `/v1/events/${event.id}/status`, {
      token: owner,
      body: { to: "ON_SALE", reason: "open sales", version: 2 },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe("ON_SALE");
    // D1 says ON_SALE, the inventory still has the PUBLISHED gate.
    expectProblem(await placeHold(buyer, event.id, one(tier.id)), 409, "EVENT_NOT_ON_SALE");

    // The repair does not depend on how recent the change is: it follows the version
    // the DO has confirmed, even for a change hours old.
    await runCron(Date.now() + 6 * 3_600_000);
    expect((await placeHold(buyer, event.id, one(tier.id))).status).toBe(201);
  });
});

describe("a gate push that fails", () => {
  it("is tried again within seconds after the answer: sales open without waiting for the cron", async () => {
    const venue = await createVenue(owner);
    const event = await createEvent(owner, venue.id);
    const tier = await addTier(owner, event.id);
    await transition(owner, event.id, "PUBLISHED");
    let calls = 0;
    const flaky = envWith({
      EVENT_INVENTORY: {
        idFromName: (n: string) => env.EVENT_INVENTORY.idFromName(n),
        get: (id: DurableObjectId) => ({
          syncGate: async (gate: Parameters<ReturnType<typeof env.EVENT_INVENTORY.get>["syncGate"]>[0]) => {
            if (++calls === 1) throw new Error("inventory reset (test)");
            return env.EVENT_INVENTORY.get(id).syncGate(gate);
          },
        }),
      },
    });
    // callApp waits for the work the route left running after its answer.
    const res = await callApp(flaky, "POST", `/v1/events/${event.id}/status`, { token: owner, body: { to: "ON_SALE", reason: "open sales", version: 2 } });
    expect(res.status, res.text).toBe(200);
    expect(calls).toBe(2);
    expect((await readEvent(tenant.id, event.id)).gateVersion).toBe(res.body.version);
    expect((await placeHold(buyer, event.id, one(tier.id))).status).toBe(201);
  });
});

describe("status changes made by the clock", () => {
  it("the cron opens sales at salesStartAt and the same tick opens the inventory's gate", async () => {
    const owner2 = tenant.owner.id;
    const event = await seedEvent(tenant.id, owner2, { salesStartAt: Date.now() - HOUR });
    const tier = await addTier(owner, event.id);
    await walk(owner, tenant.id, event.id, "PUBLISHED");
    expectProblem(await placeHold(buyer, event.id, one(tier.id)), 409, "EVENT_NOT_ON_SALE");

    await runCron(Date.now());
    expect((await readEvent(tenant.id, event.id)).status).toBe("ON_SALE");
    expect((await placeHold(buyer, event.id, one(tier.id))).status).toBe(201);
  });
});
