import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey, userWithRole } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { eventsWorld, grantVenueAccess, ifMatch, patch, postEvent, put, revokeVenueAccess, seedVenue, validEvent } from "./support";

/**
 * Who may change an event: its creator, tenant admins, organizers with access to its
 * venue, and keys with events:write. Deleting is narrower: admins, the creator, keys.
 */
let world: Awaited<ReturnType<typeof eventsWorld>>;
let creator: Awaited<ReturnType<typeof userWithRole>>;
let colleagueWithAccess: Awaited<ReturnType<typeof userWithRole>>;
let outsider: Awaited<ReturnType<typeof userWithRole>>;
let admin: Awaited<ReturnType<typeof userWithRole>>;
let scanner: Awaited<ReturnType<typeof userWithRole>>;

beforeAll(async () => {
  world = await eventsWorld();
  [creator, colleagueWithAccess, outsider, admin, scanner] = await Promise.all([
    userWithRole(world.tenant, "organizer"),
    userWithRole(world.tenant, "organizer"),
    userWithRole(world.tenant, "organizer"),
    userWithRole(world.tenant, "admin"),
    userWithRole(world.tenant, "scanner"),
  ]);
  await grantVenueAccess(world.tenant, world.venue.id, creator.id);
  await grantVenueAccess(world.tenant, world.venue.id, colleagueWithAccess.id);
  // The outsider runs events elsewhere, just not at this venue.
  const elsewhere = await seedVenue(world.tenant.id, world.tenant.owner.id);
  await grantVenueAccess(world.tenant, elsewhere.id, outsider.id);
});

const creatorsEvent = () => postEvent(creator.tokens.accessToken, validEvent(world.venue.id));

describe("editing (PATCH and PUT)", () => {
  const cases: [string, () => string, number][] = [
    ["the creator (an organizer)", () => creator.tokens.accessToken, 200],
    ["an organizer with access to the venue", () => colleagueWithAccess.tokens.accessToken, 200],
    ["an organizer without access to the venue", () => outsider.tokens.accessToken, 403],
    ["an admin", () => admin.tokens.accessToken, 200],
    ["the owner", () => world.owner, 200],
  ];
  it.each(cases)("%s → %i", async (_who, token, status) => {
    const ev = await creatorsEvent();
    const viaPatch = await patch(token(), ev.id, { name: "Edited" }, 1);
    const viaPut = await put(token(), ev.id, { ...validEvent(world.venue.id), name: "Replaced" }, status === 200 ? 2 : 1);
    if (status === 200) {
      expect(viaPatch.status, viaPatch.text).toBe(200);
      expect(viaPut.status, viaPut.text).toBe(200);
    } else {
      expectProblem(viaPatch, 403, "FORBIDDEN");
      expectProblem(viaPut, 403, "FORBIDDEN");
      expect((await call("GET", `/v1/events/${ev.id}`, { token: world.owner })).body).toMatchObject({ name: ev.name, version: 1 });
    }
  });

  it("lets an events:write key edit any event", async () => {
    const key = await createApiKey(world.tenant, ["events:write"]);
    const ev = await creatorsEvent();
    expect((await patch(key.key, ev.id, { name: "By key" }, 1)).status).toBe(200);
  });

  it("keeps the creator's right after their venue access is revoked; a colleague loses theirs", async () => {
    const ev = await creatorsEvent();
    const venue = await seedVenue(world.tenant.id, world.tenant.owner.id);
    const colleague = await userWithRole(world.tenant, "organizer");
    await grantVenueAccess(world.tenant, venue.id, creator.id);
    await grantVenueAccess(world.tenant, venue.id, colleague.id);
    const moved = await patch(creator.tokens.accessToken, ev.id, { venueId: venue.id }, 1);
    expect(moved.status, moved.text).toBe(200);
    await revokeVenueAccess(world.tenant, venue.id, creator.id);
    await revokeVenueAccess(world.tenant, venue.id, colleague.id);
    expect((await patch(creator.tokens.accessToken, ev.id, { name: "Still mine" }, 2)).status).toBe(200);
    expectProblem(await patch(colleague.tokens.accessToken, ev.id, { name: "Not mine" }, 3), 403, "FORBIDDEN");
  });

  it("refuses scanners and customers before looking at the event", async () => {
    const customer = await userWithRole(world.tenant, "customer");
    const ev = await creatorsEvent();
    for (const token of [scanner.tokens.accessToken, customer.tokens.accessToken]) {
      expectProblem(await patch(token, ev.id, { name: "x" }, 1), 403, "FORBIDDEN");
      expectProblem(await patch(token, crypto.randomUUID(), { name: "x" }, 1), 403, "FORBIDDEN");
    }
  });

  it("answers 404, not 403, to an organizer asking about a missing event", async () => {
    expectProblem(await patch(outsider.tokens.accessToken, crypto.randomUUID(), { name: "x" }, 1), 404, "NOT_FOUND");
  });
});

describe("deleting", () => {
  const del = (token: string, id: string) => call("DELETE", `/v1/events/${id}`, { token, headers: ifMatch(1) });

  it("refuses an organizer who may edit but did not create the event", async () => {
    const ev = await creatorsEvent();
    expectProblem(await del(colleagueWithAccess.tokens.accessToken, ev.id), 403, "FORBIDDEN");
    expectProblem(await del(outsider.tokens.accessToken, ev.id), 403, "FORBIDDEN");
    expect((await call("GET", `/v1/events/${ev.id}`, { token: world.owner })).status).toBe(200);
  });

  it.each([
    ["the creator", () => creator.tokens.accessToken],
    ["an admin", () => admin.tokens.accessToken],
    ["the owner", () => world.owner],
  ])("lets %s delete", async (_who, token) => {
    const ev = await creatorsEvent();
    expect((await del(token(), ev.id)).status).toBe(204);
  });

  it("lets an events:write key delete", async () => {
    const key = await createApiKey(world.tenant, ["events:write"]);
    const ev = await creatorsEvent();
    expect((await del(key.key, ev.id)).status).toBe(204);
  });
});
