import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { callApp, envWith } from "../http/app-harness";
import { createEvent, createVenue } from "../helpers/event-fixtures";
import { createApiKey, createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { addTier, DAY, iso, onSaleEvent, placeHold, tierBody, tiersPath } from "./support";

/** Every D1 change of a tier is in the tenant's audit log, written with the change and only if it won. */

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

interface Entry {
  action: string;
  actorType: string;
  actorId: string | null;
  requestId: string | null;
  details: Record<string, any>;
}

/** The tier's audit entries, oldest first. */
async function trail(tierId: string): Promise<Entry[]> {
  const { results } = await env.DB.prepare(
    "SELECT action, actor_type, actor_id, request_id, details FROM audit_log WHERE tenant_id = ? AND target_type = 'tier' AND target_id = ? ORDER BY created_at, id",
  )
    .bind(tenant.id, tierId)
    .all<{ action: string; actor_type: string; actor_id: string | null; request_id: string | null; details: string }>();
  return results.map((r) => ({ action: r.action, actorType: r.actor_type, actorId: r.actor_id, requestId: r.request_id, details: JSON.parse(r.details) }));
}

const actions = async (tierId: string) => (await trail(tierId)).map((e) => e.action);

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

describe("tier audit entries", () => {
  it("tier.created: the actor and the configuration", async () => {
    const until = iso(Date.UTC(2031, 0, 1));
    const res = await call("POST", tiersPath(eventId), { token: owner, body: tierBody({ name: "Balcony", earlyBird: { priceMinor: 4000, until } }) });
    expect(res.status, res.text).toBe(201);
    const [entry, ...rest] = await trail(res.body.id);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      action: "tier.created",
      actorType: "user",
      actorId: tenant.owner.id,
      requestId: res.headers.get("x-request-id"),
      details: {
        eventId,
        version: 1,
        name: "Balcony",
        capacity: 100,
        currency: "EUR",
        priceMinor: 5000,
        earlyBird: { priceMinor: 4000, until },
        lastMinute: null,
        minPerOrder: 1,
        maxPerOrder: 10,
      },
    });
  });

  it("tier.updated: only the changed fields, from and to, with the new version; an API key as the actor", async () => {
    const tier = await addTier(owner, eventId, { capacity: 50 });
    const key = await createApiKey(tenant, ["events:write"]);
    const start = iso(Date.UTC(2030, 5, 1));
    const res = await call("PATCH", tierPath(eventId, tier.id), {
      token: key.key,
      body: { capacity: 60, name: "Renamed", salesStartAt: start, maxPerBuyer: 10, version: 1 },
    });
    expect(res.status, res.text).toBe(200);
    const entries = await trail(tier.id);
    expect(entries.map((e) => e.action)).toEqual(["tier.created", "tier.updated"]);
    expect(entries[1]).toMatchObject({ actorType: "api_key", actorId: key.id, requestId: res.headers.get("x-request-id") });
    // maxPerBuyer was sent with its current value: not a change.
    expect(entries[1]!.details).toEqual({
      eventId,
      version: 2,
      changes: {
        capacity: { from: 50, to: 60 },
        name: { from: "General admission", to: "Renamed" },
        salesStartAt: { from: null, to: start },
      },
    });
  });

  it("writes nothing for a PATCH that changes nothing, a stale version, an invalid result or a capacity below what is held", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const buyer = await registerUser(tenant);
    expect((await placeHold(buyer.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 4 }])).status).toBe(201);
    const path = tierPath(event.id, tier.id);
    expect((await call("PATCH", path, { token: owner, body: { capacity: 10, version: 1 } })).status).toBe(200);
    expectProblem(await call("PATCH", path, { token: owner, body: { capacity: 20, version: 9 } }), 409, "VERSION_CONFLICT");
    expectProblem(await call("PATCH", path, { token: owner, body: { maxPerOrder: 1, minPerOrder: 2, version: 1 } }), 400, "VALIDATION_FAILED");
    expectProblem(await call("PATCH", path, { token: owner, body: { capacity: 3, version: 1 } }), 409, "CAPACITY_BELOW_COMMITTED");
    expect(await actions(tier.id)).toEqual(["tier.created"]);
  });

  it("of concurrent PATCHes of one version, only the winner's entry is written", async () => {
    const tier = await addTier(owner, eventId);
    const results = await Promise.all(
      [101, 102, 103, 104].map((capacity) => call("PATCH", tierPath(eventId, tier.id), { token: owner, body: { capacity, version: 1 } })),
    );
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    const updates = (await trail(tier.id)).filter((e) => e.action === "tier.updated");
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ requestId: won[0]!.headers.get("x-request-id"), details: { changes: { capacity: { from: 100, to: won[0]!.body.capacity } } } });
  });

  it("a change the inventory refused: its revert follows it, naming the refusal, and nothing stands as a success", async () => {
    const { event, tier } = await onSaleEvent(tenant, { capacity: 10 });
    const buyer = await registerUser(tenant);
    expect((await placeHold(buyer.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 5 }])).status).toBe(201);
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
    const entries = await trail(tier.id);
    expect(entries.map((e) => e.action)).toEqual(["tier.created", "tier.updated", "tier.update_reverted"]);
    const [, written, reverted] = entries;
    // D1 held version 2 for a moment (that is recorded), and the entry written with its
    // undo says it was refused: the net change of the trail is none, as the 409 said.
    expect(written!.details).toEqual({ eventId: event.id, version: 2, changes: { capacity: { from: 10, to: 2 } } });
    expect(reverted).toMatchObject({
      actorType: "user",
      actorId: tenant.owner.id,
      requestId: res.headers.get("x-request-id"),
      details: {
        eventId: event.id,
        version: 3,
        reverted: { version: 2, code: "CAPACITY_BELOW_COMMITTED", detail: expect.any(String) },
        changes: { capacity: { from: 2, to: 10 } },
      },
    });
    expect((await call("GET", tierPath(event.id, tier.id), { token: owner })).body).toMatchObject({ capacity: 10, version: 3, inForce: true });
  });

  it("tier.synced when a sync brings a pending version into force; none when sync changes nothing", async () => {
    const venue = await createVenue(owner);
    const ev = await createEvent(owner, venue.id);
    const down = envWith({ EVENT_INVENTORY: unreachableInventory });
    const created = await callApp(down, "POST", tiersPath(ev.id), { token: owner, body: tierBody() });
    expect(created.body).toMatchObject({ version: 1, inForce: false });
    // The D1 write stands, so it is recorded even though the inventory never saw it.
    expect(await actions(created.body.id)).toEqual(["tier.created"]);

    const sync = await call("POST", `${tiersPath(ev.id)}/sync`, { token: owner });
    expect(sync.status, sync.text).toBe(200);
    const entries = await trail(created.body.id);
    expect(entries.map((e) => e.action)).toEqual(["tier.created", "tier.synced"]);
    expect(entries[1]).toMatchObject({ actorId: tenant.owner.id, details: { eventId: ev.id, appliedVersion: { from: 0, to: 1 } } });

    expect((await call("POST", `${tiersPath(ev.id)}/sync`, { token: owner })).status).toBe(200);
    expect(await actions(created.body.id)).toEqual(["tier.created", "tier.synced"]);
  });

  it("tier.synced when another tier's write pushes a pending tier into force", async () => {
    const venue = await createVenue(owner);
    const ev = await createEvent(owner, venue.id);
    const down = envWith({ EVENT_INVENTORY: unreachableInventory });
    const pending = await callApp(down, "POST", tiersPath(ev.id), { token: owner, body: tierBody({ name: "Pending" }) });
    await addTier(owner, ev.id, { name: "Second" });
    expect(await actions(pending.body.id)).toEqual(["tier.created", "tier.synced"]);
  });

  it("shows tier entries in the tenant audit log (GET /v1/audit-log)", async () => {
    const tier = await addTier(owner, eventId, { salesEndAt: iso(Date.now() + DAY) });
    const res = await call("GET", `/v1/audit-log?action=tier.created&targetId=${tier.id}`, { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(res.body.items).toEqual([expect.objectContaining({ action: "tier.created", targetType: "tier", targetId: tier.id })]);
  });
});
