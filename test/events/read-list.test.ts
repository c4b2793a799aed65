import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createTenant, userWithRole } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { DAY, eventsWorld, forceStatus, HOUR, ifMatch, iso, postEvent, seedVenue, validEvent } from "./support";

describe("GET /v1/events/{eventId}", () => {
  let world: Awaited<ReturnType<typeof eventsWorld>>;
  beforeAll(async () => {
    world = await eventsWorld();
  });

  it("returns the event with its version as ETag, to scanners and events:read keys too", async () => {
    const created = await postEvent(world.owner, validEvent(world.venue.id));
    const scanner = await userWithRole(world.tenant, "scanner");
    const key = await createApiKey(world.tenant, ["events:read"]);
    for (const token of [world.owner, scanner.tokens.accessToken, key.key]) {
      const res = await call("GET", `/v1/events/${created.id}`, { token });
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get("etag")).toBe('"v1"');
      expect(res.body).toEqual(created);
    }
    const patched = await call("PATCH", `/v1/events/${created.id}`, { token: world.owner, body: { name: "Renamed" }, headers: ifMatch(1) });
    expect(patched.status, patched.text).toBe(200);
    const again = await call("GET", `/v1/events/${created.id}`, { token: world.owner });
    expect(again.headers.get("etag")).toBe('"v2"');
    expect(again.body).toMatchObject({ name: "Renamed", version: 2 });
  });

  it("answers 404 for a missing, a deleted and another tenant's event alike", async () => {
    const deleted = await postEvent(world.owner, validEvent(world.venue.id));
    const del = await call("DELETE", `/v1/events/${deleted.id}`, { token: world.owner, headers: ifMatch(1) });
    expect(del.status, del.text).toBe(204);
    const other = await createTenant();
    const otherVenue = await seedVenue(other.id, other.owner.id);
    const foreign = await postEvent(other.owner.tokens.accessToken, validEvent(otherVenue.id));

    const details = new Set<string>();
    for (const id of [crypto.randomUUID(), deleted.id, foreign.id]) {
      const res = await call("GET", `/v1/events/${id}`, { token: world.owner });
      details.add(expectProblem(res, 404, "NOT_FOUND").detail!);
    }
    expect(details.size).toBe(1);
  });

  it("refuses a malformed id: 400 naming params.eventId", async () => {
    const res = await call("GET", "/v1/events/not-a-uuid", { token: world.owner });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "params.eventId", message: expect.any(String) }]);
  });
});

describe("GET /v1/events: filters", () => {
  // A tenant of its own, so the listing holds exactly these events.
  let token: string;
  let hallA: string;
  let hallB: string;
  const t0 = Date.UTC(2033, 0, 10, 19);
  const ev: Record<string, { id: string }> = {};

  const ids = async (query: string) => {
    const res = await call("GET", `/v1/events?limit=100${query ? `&${query}` : ""}`, { token });
    expect(res.status, res.text).toBe(200);
    return (res.body.items as { id: string }[]).map((e) => e.id);
  };

  beforeAll(async () => {
    const w = await eventsWorld();
    token = w.owner;
    hallA = w.venue.id;
    hallB = (await seedVenue(w.tenant.id, w.tenant.owner.id)).id;
    const at = (days: number) => ({ startsAt: iso(t0 + days * DAY), endsAt: iso(t0 + days * DAY + 2 * HOUR) });
    ev.jazz = await postEvent(token, validEvent(hallA, { name: "Late Night JAZZ", tags: ["jazz", "late"], ...at(0) }));
    ev.rock = await postEvent(token, validEvent(hallA, { name: "Rock Festival", tags: ["rock"], ...at(1) }));
    ev.opera = await postEvent(token, validEvent(hallB, { name: "Opera Gala", tags: ["classical"], ...at(2) }));
    ev.jazzB = await postEvent(token, validEvent(hallB, { name: "Jazz Brunch", tags: ["jazz"], ...at(3) }));
    ev.gone = await postEvent(token, validEvent(hallA, { name: "Jazz Cancelled Plans", tags: ["jazz"], ...at(4) }));
    const del = await call("DELETE", `/v1/events/${ev.gone.id}`, { token, headers: ifMatch(1) });
    expect(del.status, del.text).toBe(204);
    await forceStatus(ev.rock.id, "PUBLISHED");
  });

  it("lists live events by start time; deleted ones never appear", async () => {
    expect(await ids("")).toEqual([ev.jazz!.id, ev.rock!.id, ev.opera!.id, ev.jazzB!.id]);
  });

  it("filters by status", async () => {
    expect(await ids("status=PUBLISHED")).toEqual([ev.rock!.id]);
    expect(await ids("status=DRAFT")).toEqual([ev.jazz!.id, ev.opera!.id, ev.jazzB!.id]);
    expect(await ids("status=CANCELLED")).toEqual([]);
  });

  it("filters by venue", async () => {
    expect(await ids(`venueId=${hallB}`)).toEqual([ev.opera!.id, ev.jazzB!.id]);
    expect(await ids(`venueId=${crypto.randomUUID()}`)).toEqual([]);
  });

  it("filters by start date range, both ends inclusive", async () => {
    expect(await ids(`from=${iso(t0 + DAY)}`)).toEqual([ev.rock!.id, ev.opera!.id, ev.jazzB!.id]);
    expect(await ids(`to=${iso(t0 + DAY)}`)).toEqual([ev.jazz!.id, ev.rock!.id]);
    expect(await ids(`from=${iso(t0 + DAY)}&to=${iso(t0 + 2 * DAY)}`)).toEqual([ev.rock!.id, ev.opera!.id]);
    expect(await ids(`from=${encodeURIComponent("2033-01-11T20:00:01+01:00")}`)).toEqual([ev.opera!.id, ev.jazzB!.id]);
  });

  it("filters by tag (exact match)", async () => {
    expect(await ids("tag=jazz")).toEqual([ev.jazz!.id, ev.jazzB!.id]);
    expect(await ids("tag=jaz")).toEqual([]);
  });

  it("filters by text in the name, case-insensitively", async () => {
    expect(await ids("q=jazz")).toEqual([ev.jazz!.id, ev.jazzB!.id]);
    expect(await ids("q=GALA")).toEqual([ev.opera!.id]);
    expect(await ids("q=100%25")).toEqual([]);
  });

  it("combines filters", async () => {
    expect(await ids(`tag=jazz&venueId=${hallA}`)).toEqual([ev.jazz!.id]);
    expect(await ids(`q=jazz&from=${iso(t0 + DAY)}`)).toEqual([ev.jazzB!.id]);
  });

  it("refuses bad filters with the query field named", async () => {
    const cases: [string, string][] = [
      ["status=LIVE", "query.status"],
      ["venueId=hall", "query.venueId"],
      ["from=yesterday", "query.from"],
      [`from=${iso(t0 + DAY)}&to=${iso(t0)}`, "query.to"],
      ["limit=101", "query.limit"],
      ["cursor=garbage", "query.cursor"],
      ["colour=red", "query.colour"],
    ];
    for (const [query, field] of cases) {
      const res = await call("GET", `/v1/events?${query}`, { token });
      expect(expectProblem(res, 400, "VALIDATION_FAILED").errors, query).toEqual([{ field, message: expect.any(String) }]);
    }
  });
});

describe("GET /v1/events: pagination", () => {
  it("walks every event once, in (startsAt, id) order, even when events are added between pages", async () => {
    const w = await eventsWorld();
    const sameStart = validEvent(w.venue.id, {}, 5);
    const made: { id: string; startsAt: string }[] = [];
    // Three share a start time: the id breaks the tie.
    for (let i = 0; i < 3; i++) made.push(await postEvent(w.owner, { ...sameStart, name: `Same ${i}` }));
    for (const days of [1, 9, 3]) made.push(await postEvent(w.owner, validEvent(w.venue.id, {}, days)));
    const expected = [...made].sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.id.localeCompare(b.id)).map((e) => e.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await call("GET", `/v1/events?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: w.owner });
      expect(res.status, res.text).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
      if (pages++ === 0) {
        // Lands before the cursor: must not shift what the next pages return.
        await postEvent(w.owner, validEvent(w.venue.id, {}, 0));
      }
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
  });
});
