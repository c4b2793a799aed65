import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { inventoryName } from "../../src/inventory/contract";
import { ifMatch } from "../events/support";
import { callApp, envWith } from "../http/app-harness";
import { call, expectProblem } from "../helpers/http";
import { registerUser } from "../helpers/fixtures";
import { onSaleEvent, placeHold, salesWorld } from "./support";

// Buyers reach what the public catalogue would serve by id: a PRIVATE event is for staff,
// even on sale, and looks exactly like a missing one to a customer.
describe("a PRIVATE event on sale", () => {
  it("is 404 to customers for holds and quotes, while staff still reach it", async () => {
    const w = await salesWorld();
    const { event, tier } = await onSaleEvent(w.tenant, {}, { visibility: "PRIVATE" });
    const customer = await registerUser(w.tenant);
    expectProblem(await placeHold(customer.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }]), 404, "NOT_FOUND");
    expectProblem(
      await call("GET", `/v1/events/${event.id}/tiers/${tier.id}/quote?quantity=1`, { token: customer.tokens.accessToken }),
      404,
      "NOT_FOUND",
    );
    const staff = await placeHold(w.owner, event.id, [{ tierId: tier.id, quantity: 1 }]);
    expect(staff.status, staff.text).toBe(201);
  });
});

// Buyers' holds and checkouts ask the event's DO first and skip the D1 lookup while its gate
// shows the event ON_SALE and PUBLIC/UNLISTED (src/inventory/client.ts onVisibleEvent). These
// pin down that the shortcut never serves what the D1 lookup would refuse.
describe("buyers' sale calls answered from the DO's gate", () => {
  const patch = async (owner: string, eventId: string, body: Record<string, unknown>) => {
    const cur = await call("GET", `/v1/events/${eventId}`, { token: owner });
    const res = await call("PATCH", `/v1/events/${eventId}`, { token: owner, body, headers: ifMatch(cur.body.version) });
    expect(res.status, res.text).toBe(200);
  };

  it("follows a visibility change at once: PRIVATE is 404 to buyers for holds and checkouts, UNLISTED sells again", async () => {
    const w = await salesWorld();
    const { event, tier } = await onSaleEvent(w.tenant);
    const customer = (await registerUser(w.tenant)).tokens.accessToken;
    const items = [{ tierId: tier.id, quantity: 1 }];
    const held = await placeHold(customer, event.id, items);
    expect(held.status, held.text).toBe(201);

    await patch(w.owner, event.id, { visibility: "PRIVATE" });
    expectProblem(await placeHold(customer, event.id, items), 404, "NOT_FOUND");
    const checkout = await call("POST", `/v1/events/${event.id}/orders`, { token: customer, headers: { "idempotency-key": crypto.randomUUID() }, body: { holdId: held.body.id } });
    expectProblem(checkout, 404, "NOT_FOUND");
    expect((await placeHold(w.owner, event.id, items)).status).toBe(201);

    await patch(w.owner, event.id, { visibility: "UNLISTED" });
    expect((await placeHold(customer, event.id, items)).status).toBe(201);
    const paid = await call("POST", `/v1/events/${event.id}/orders`, { token: customer, headers: { "idempotency-key": crypto.randomUUID() }, body: { holdId: held.body.id } });
    expect(paid.status, paid.text).toBe(201);
  });

  it("falls back to D1 when the gate does not know the visibility (pushed by older code), with the same answers", async () => {
    const w = await salesWorld();
    const pub = await onSaleEvent(w.tenant);
    const priv = await onSaleEvent(w.tenant, {}, { visibility: "PRIVATE" });
    for (const e of [pub, priv]) {
      const stub = env.EVENT_INVENTORY.get(env.EVENT_INVENTORY.idFromName(inventoryName(w.tenant.id, e.event.id)));
      await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE gate SET visibility = NULL"));
    }
    const customer = (await registerUser(w.tenant)).tokens.accessToken;
    expect((await placeHold(customer, pub.event.id, [{ tierId: pub.tier.id, quantity: 1 }])).status).toBe(201);
    expectProblem(await placeHold(customer, priv.event.id, [{ tierId: priv.tier.id, quantity: 1 }]), 404, "NOT_FOUND");
  });

  it("a buyer's hold on a missing or foreign event is 404 and leaves nothing in that id's DO", async () => {
    const w = await salesWorld();
    const other = await salesWorld();
    const foreign = await onSaleEvent(other.tenant);
    const customer = (await registerUser(w.tenant)).tokens.accessToken;
    const missing = crypto.randomUUID();
    for (const eventId of [missing, foreign.event.id]) {
      expectProblem(await placeHold(customer, eventId, [{ tierId: foreign.tier.id, quantity: 1 }]), 404, "NOT_FOUND");
      const checkout = await call("POST", `/v1/events/${eventId}/orders`, { token: customer, headers: { "idempotency-key": crypto.randomUUID() }, body: { holdId: crypto.randomUUID() } });
      expectProblem(checkout, 404, "NOT_FOUND");
      // The caller's tenant's DO for that id: asked, it kept no idempotency record or hold.
      const stub = env.EVENT_INVENTORY.get(env.EVENT_INVENTORY.idFromName(inventoryName(w.tenant.id, eventId)));
      const rows = await runInDurableObject(stub, (_i, state) => {
        const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('idempotency', 'holds')").toArray();
        return tables.map((t) => state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${t.name}`).one().n);
      });
      expect(rows.every((n) => n === 0)).toBe(true);
    }
    // The other tenant's event sold nothing either.
    const stub = env.EVENT_INVENTORY.get(env.EVENT_INVENTORY.idFromName(inventoryName(other.tenant.id, foreign.event.id)));
    expect((await stub.counts()).find((t) => t.tierId === foreign.tier.id)).toMatchObject({ held: 0, sold: 0 });
  });
});

describe("what buyers' sale calls may reach", () => {
  const unreachableGate = () =>
    envWith({
      EVENT_INVENTORY: {
        idFromName: (n: string) => env.EVENT_INVENTORY.idFromName(n),
        get: () => ({
          syncGate: async () => {
            throw new Error("inventory unreachable (test)");
          },
        }),
      },
    });

  it("an event id no buyer has found in D1 never reaches an EventInventory object", async () => {
    const w = await salesWorld();
    const customer = (await registerUser(w.tenant)).tokens.accessToken;
    // Every method called on an EventInventory stub, by the object's name (making a stub
    // creates nothing; calling a method does).
    const called: string[] = [];
    const nameOf = new Map<string, string>();
    const recording = envWith({
      EVENT_INVENTORY: {
        idFromName: (n: string) => {
          const id = env.EVENT_INVENTORY.idFromName(n);
          nameOf.set(id.toString(), n);
          return id;
        },
        get: (id: DurableObjectId) => {
          const real = env.EVENT_INVENTORY.get(id);
          const name = nameOf.get(id.toString());
          const via =
            <A extends unknown[], R>(method: string, fn: (...a: A) => R) =>
            (...a: A) => {
              called.push(`${name}.${method}`);
              return fn(...a);
            };
          // The methods the hold and checkout routes use.
          return {
            hold: via("hold", (r: Parameters<typeof real.hold>[0]) => real.hold(r)),
            holdIfPublic: via("holdIfPublic", (r: Parameters<typeof real.holdIfPublic>[0]) => real.holdIfPublic(r)),
            checkout: via("checkout", (r: Parameters<typeof real.checkout>[0]) => real.checkout(r)),
            checkoutIfPublic: via("checkoutIfPublic", (r: Parameters<typeof real.checkoutIfPublic>[0]) => real.checkoutIfPublic(r)),
          };
        },
      },
    });
    const missing = crypto.randomUUID();
    for (let i = 0; i < 3; i++) {
      const hold = await callApp(recording, "POST", `/v1/events/${missing}/holds`, {
        token: customer,
        headers: { "idempotency-key": crypto.randomUUID() },
        body: { items: [{ tierId: crypto.randomUUID(), quantity: 1 }] },
      });
      expectProblem(hold, 404, "NOT_FOUND");
      const checkout = await callApp(recording, "POST", `/v1/events/${missing}/orders`, {
        token: customer,
        headers: { "idempotency-key": crypto.randomUUID() },
        body: { holdId: crypto.randomUUID() },
      });
      expectProblem(checkout, 404, "NOT_FOUND");
    }
    expect(called.filter((n) => n.includes(missing))).toEqual([]);
    // The recorder does see calls: a real event's hold reaches its object.
    const { event, tier } = await onSaleEvent(w.tenant);
    const hold = await callApp(recording, "POST", `/v1/events/${event.id}/holds`, {
      token: customer,
      headers: { "idempotency-key": crypto.randomUUID() },
      body: { items: [{ tierId: tier.id, quantity: 1 }] },
    });
    expect(hold.status, hold.text).toBe(201);
    expect(called.filter((n) => n.includes(event.id)).length).toBeGreaterThan(0);
  });

  it("a cancelled event whose gate push failed is deleted only after its DO has the cancellation; buyers then get 404", async () => {
    const w = await salesWorld();
    const { event, tier } = await onSaleEvent(w.tenant);
    const customer = (await registerUser(w.tenant)).tokens.accessToken;
    const items = [{ tierId: tier.id, quantity: 1 }];
    expect((await placeHold(customer, event.id, items)).status).toBe(201);
    const cur = await call("GET", `/v1/events/${event.id}`, { token: w.owner });
    const cancelled = await callApp(unreachableGate(), "POST", `/v1/events/${event.id}/status`, {
      token: w.owner,
      body: { to: "CANCELLED", reason: "venue flooded", version: cur.body.version },
    });
    expect(cancelled.status, cancelled.text).toBe(200);
    const version = cancelled.body.version as number;

    // The inventory still unreachable: nothing is deleted.
    const refused = await callApp(unreachableGate(), "DELETE", `/v1/events/${event.id}`, { token: w.owner, headers: ifMatch(version) });
    expectProblem(refused, 503, "DEPENDENCY_UNAVAILABLE");
    expect((await call("GET", `/v1/events/${event.id}`, { token: w.owner })).status).toBe(200);

    // Reachable again: the delete pushes the cancellation first, then deletes.
    const deleted = await call("DELETE", `/v1/events/${event.id}`, { token: w.owner, headers: ifMatch(version) });
    expect(deleted.status, deleted.text).toBe(204);
    const stub = env.EVENT_INVENTORY.get(env.EVENT_INVENTORY.idFromName(inventoryName(w.tenant.id, event.id)));
    expect((await stub.syncGate({ status: "ON_SALE", eventVersion: 0, salesStartAt: null, salesEndAt: null, startsAt: 0 })).gate?.status).toBe("CANCELLED");
    expectProblem(await placeHold(customer, event.id, items), 404, "NOT_FOUND");
  });
});
