import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createTenant, userWithRole } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { clockedApi, eventsWorld, grantVenueAccess, HOUR, ifMatch, iso, postEvent, seedVenue, validEvent } from "./support";

/**
 * History content and order. Writes go through an app with a clock the test moves one
 * second per request, so "newest first" is decided by time, never by a same-millisecond tie.
 */
let world: Awaited<ReturnType<typeof eventsWorld>>;
let api: ReturnType<typeof clockedApi>;
beforeAll(async () => {
  world = await eventsWorld();
  api = clockedApi();
});

async function send(method: string, path: string, opts: Parameters<typeof api.call>[2] = {}) {
  api.advance(1000);
  return api.call(method, path, { token: world.owner, ...opts });
}

async function history(eventId: string, token = world.owner, query = "limit=100") {
  return call("GET", `/v1/events/${eventId}/history?${query}`, { token });
}

describe("GET /v1/events/{eventId}/history: content", () => {
  let eventId: string;
  let entries: any[];
  const starts = Date.UTC(2036, 2, 3, 19);

  beforeAll(async () => {
    const created = await send("POST", "/v1/events", {
      body: validEvent(world.venue.id, { name: "History Night", tags: ["a"], startsAt: iso(starts), endsAt: iso(starts + 3 * HOUR) }),
    });
    expect(created.status, created.text).toBe(201);
    eventId = created.body.id;
    const edits: [Record<string, unknown>, number][] = [
      [{ name: "History Night II" }, 1],
      [{ description: "Now with a description", tags: ["a", "b"], startsAt: iso(starts - HOUR), name: "History Night II" }, 2],
      // Changes nothing: must leave no entry.
      [{ tags: ["a", "b"] }, 3],
    ];
    for (const [body, version] of edits) {
      const res = await send("PATCH", `/v1/events/${eventId}`, { body, headers: ifMatch(version) });
      expect(res.status, res.text).toBe(200);
    }
    const del = await send("DELETE", `/v1/events/${eventId}`, { headers: ifMatch(3) });
    expect(del.status, del.text).toBe(204);
    const res = await history(eventId);
    expect(res.status, res.text).toBe(200);
    entries = res.body.items;
  });

  it("lists create, both updates and the delete, newest first, each by the acting user", () => {
    expect(entries.map((e) => e.action)).toEqual(["event.deleted", "event.updated", "event.updated", "event.created"]);
    for (const e of entries) expect(e).toMatchObject({ actorType: "user", actorId: world.tenant.owner.id });
    const times = entries.map((e) => Date.parse(e.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("records what was created", () => {
    expect(entries[3].details).toMatchObject({ name: "History Night", venueId: world.venue.id, status: "DRAFT", slug: "history-night" });
  });

  it("records each update as a from/to diff of only the fields that changed", () => {
    expect(entries[2].details).toEqual({ changes: { name: { from: "History Night", to: "History Night II" } } });
    expect(entries[1].details).toEqual({
      changes: {
        description: { from: null, to: "Now with a description" },
        tags: { from: ["a"], to: ["a", "b"] },
        startsAt: { from: iso(starts), to: iso(starts - HOUR) },
      },
    });
  });

  it("records the delete with what the event was", () => {
    expect(entries[0].details).toMatchObject({ name: "History Night II", status: "DRAFT" });
  });

  it("does not expose the request's ip or user agent", () => {
    for (const e of entries) expect(Object.keys(e).sort()).toEqual(["action", "actorId", "actorType", "createdAt", "details", "id"]);
  });
});

describe("GET /v1/events/{eventId}/history: pagination and scope", () => {
  it("pages newest first with a cursor, each entry once", async () => {
    const created = await send("POST", "/v1/events", { body: validEvent(world.venue.id) });
    const id = created.body.id as string;
    for (let v = 1; v <= 4; v++) {
      const res = await send("PATCH", `/v1/events/${id}`, { body: { priorityScore: v }, headers: ifMatch(v) });
      expect(res.status, res.text).toBe(200);
    }
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await history(id, world.owner, `limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((e) => e.details.changes?.priorityScore?.to ?? e.action)).toEqual([4, 3, 2, 1, "event.created"]);
  });

  it("holds only this event's entries", async () => {
    const a = await postEvent(world.owner, validEvent(world.venue.id));
    const b = await postEvent(world.owner, validEvent(world.venue.id));
    expect((await call("PATCH", `/v1/events/${b.id}`, { token: world.owner, body: { name: "B2" }, headers: ifMatch(1) })).status).toBe(200);
    const res = await history(a.id);
    expect(res.body.items.map((e: { action: string }) => e.action)).toEqual(["event.created"]);
  });

  it("is readable by every staff role and events:read keys", async () => {
    const ev = await postEvent(world.owner, validEvent(world.venue.id));
    const scanner = await userWithRole(world.tenant, "scanner");
    const organizer = await userWithRole(world.tenant, "organizer");
    const key = await createApiKey(world.tenant, ["events:read"]);
    for (const token of [scanner.tokens.accessToken, organizer.tokens.accessToken, key.key]) {
      const res = await history(ev.id, token);
      expect(res.status, res.text).toBe(200);
      expect(res.body.items).toHaveLength(1);
    }
  });

  it("answers 404 for a missing id and another tenant's event, the same way", async () => {
    const other = await createTenant();
    const venue = await seedVenue(other.id, other.owner.id);
    const foreign = await postEvent(other.owner.tokens.accessToken, validEvent(venue.id));
    const a = expectProblem(await history(foreign.id), 404, "NOT_FOUND");
    const b = expectProblem(await history(crypto.randomUUID()), 404, "NOT_FOUND");
    expect(a.detail).toBe(b.detail);
  });

  it("refuses a cursor it did not issue", async () => {
    const ev = await postEvent(world.owner, validEvent(world.venue.id));
    const res = await history(ev.id, world.owner, "cursor=nonsense");
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "query.cursor", message: expect.any(String) }]);
  });
});

describe("history of a deleted event", () => {
  // Decision: a deleted event is 404 to every event read, but its history is part of the
  // tenant's audit trail, so whoever may read the audit log (owners, admins, keys with
  // audit:read) still reads it; organizers and scanners get 404 as for any deleted event.
  let eventId: string;
  let creatorToken: string;
  beforeAll(async () => {
    const organizer = await userWithRole(world.tenant, "organizer");
    creatorToken = organizer.tokens.accessToken;
    await grantVenueAccess(world.tenant, world.venue.id, organizer.id);
    const ev = await postEvent(organizer.tokens.accessToken, validEvent(world.venue.id));
    eventId = ev.id;
    const del = await call("DELETE", `/v1/events/${ev.id}`, { token: organizer.tokens.accessToken, headers: ifMatch(1) });
    expect(del.status, del.text).toBe(204);
  });

  it("stays readable by owners, admins and keys with audit:read", async () => {
    const admin = await userWithRole(world.tenant, "admin");
    const auditKey = await createApiKey(world.tenant, ["events:read", "audit:read"]);
    for (const token of [world.owner, admin.tokens.accessToken, auditKey.key]) {
      const res = await history(eventId, token);
      expect(res.status, res.text).toBe(200);
      expect(res.body.items.map((e: { action: string }) => e.action)).toEqual(["event.deleted", "event.created"]);
    }
  });

  it("is 404 to organizers (even the creator), scanners and keys without audit:read", async () => {
    const scanner = await userWithRole(world.tenant, "scanner");
    const organizer = await userWithRole(world.tenant, "organizer");
    const key = await createApiKey(world.tenant, ["events:read"]);
    for (const token of [creatorToken, scanner.tokens.accessToken, organizer.tokens.accessToken, key.key]) {
      expectProblem(await history(eventId, token), 404, "NOT_FOUND");
    }
  });

  it("stays hidden from another tenant's owner", async () => {
    const other = await createTenant();
    expectProblem(await history(eventId, other.owner.tokens.accessToken), 404, "NOT_FOUND");
  });
});
