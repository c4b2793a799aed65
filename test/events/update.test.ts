import { beforeAll, describe, expect, it } from "vitest";
import { userWithRole } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { DAY, eventsWorld, forceStatus, grantVenueAccess, HOUR, iso, patch, postEvent, put, seedVenue, validEvent } from "./support";

let world: Awaited<ReturnType<typeof eventsWorld>>;
beforeAll(async () => {
  world = await eventsWorld();
});
const fresh = (overrides: Record<string, unknown> = {}) => postEvent(world.owner, validEvent(world.venue.id, overrides));

describe("PATCH /v1/events/{eventId}: versions", () => {
  it("applies a change under If-Match: version +1, new ETag, other fields kept", async () => {
    const ev = await fresh({ description: "Keep me", tags: ["a"] });
    const res = await patch(world.owner, ev.id, { name: "New name" }, 1);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("etag")).toBe('"v2"');
    expect(res.body).toEqual({ ...ev, name: "New name", version: 2, updatedAt: expect.any(String) });
    expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(ev.updatedAt));
  });

  it("accepts the version in the body instead of If-Match", async () => {
    const ev = await fresh();
    const res = await patch(world.owner, ev.id, { name: "Body versioned", version: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.version).toBe(2);
  });

  it("refuses a write that names no version: 428 PRECONDITION_REQUIRED", async () => {
    const ev = await fresh();
    expectProblem(await patch(world.owner, ev.id, { name: "x" }), 428, "PRECONDITION_REQUIRED");
    expectProblem(await put(world.owner, ev.id, validEvent(world.venue.id)), 428, "PRECONDITION_REQUIRED");
  });

  it("refuses a stale If-Match with 412 and a stale body version with 409, both carrying currentVersion", async () => {
    const ev = await fresh();
    expect((await patch(world.owner, ev.id, { name: "v2" }, 1)).status).toBe(200);

    const viaHeader = await patch(world.owner, ev.id, { name: "late" }, 1);
    expect(expectProblem(viaHeader, 412, "PRECONDITION_FAILED").currentVersion).toBe(2);
    expect(viaHeader.headers.get("etag")).toBe('"v2"');

    const viaBody = await patch(world.owner, ev.id, { name: "late", version: 1 });
    expect(expectProblem(viaBody, 409, "VERSION_CONFLICT").currentVersion).toBe(2);

    const viaPut = await put(world.owner, ev.id, validEvent(world.venue.id), 1);
    expect(expectProblem(viaPut, 412, "PRECONDITION_FAILED").currentVersion).toBe(2);

    const now = await call("GET", `/v1/events/${ev.id}`, { token: world.owner });
    expect(now.body).toMatchObject({ name: "v2", version: 2 });
  });

  it("refuses an If-Match this API never issued, and one that disagrees with the body version", async () => {
    const ev = await fresh();
    const weird = await call("PATCH", `/v1/events/${ev.id}`, { token: world.owner, body: { name: "x" }, headers: { "if-match": "*" } });
    expect(expectProblem(weird, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "headers.if-match", message: expect.any(String) }]);
    const disagree = await patch(world.owner, ev.id, { name: "x", version: 2 }, 1);
    expect(expectProblem(disagree, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "body.version", message: expect.any(String) }]);
  });

  it("writes nothing when the patch changes nothing: same version, same ETag", async () => {
    const ev = await fresh({ tags: ["x", "y"], metadata: { a: 1, b: 2 } });
    const res = await patch(world.owner, ev.id, { name: ev.name, tags: ["x", "y"], metadata: { b: 2, a: 1 } }, 1);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("etag")).toBe('"v1"');
    expect(res.body).toEqual(ev);
  });
});

describe("PATCH /v1/events/{eventId}: what may change", () => {
  it("rejects status as an unknown field (status changes have their own route)", async () => {
    const ev = await fresh();
    for (const res of [
      await patch(world.owner, ev.id, { name: "x", status: "PUBLISHED" }, 1),
      await put(world.owner, ev.id, { ...validEvent(world.venue.id), status: "PUBLISHED" }, 1),
    ]) {
      expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "body.status", message: "Unknown field" }]);
    }
    expect((await call("GET", `/v1/events/${ev.id}`, { token: world.owner })).body).toMatchObject({ status: "DRAFT", version: 1 });
  });

  it("refuses an empty patch", async () => {
    const ev = await fresh();
    expectProblem(await patch(world.owner, ev.id, {}, 1), 400, "VALIDATION_FAILED");
    expectProblem(await patch(world.owner, ev.id, { version: 1 }), 400, "VALIDATION_FAILED");
  });

  it("clears nullable fields sent as null", async () => {
    const ev = await fresh({ description: "text", ageRestriction: 18 });
    const res = await patch(world.owner, ev.id, { description: null, ageRestriction: null }, 1);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ description: null, ageRestriction: null });
  });

  it.each(["COMPLETED", "CANCELLED"] as const)("refuses to edit a %s event: 409 CONFLICT", async (status) => {
    const ev = await fresh();
    await forceStatus(ev.id, status);
    expectProblem(await patch(world.owner, ev.id, { name: "too late" }, 2), 409, "CONFLICT");
    expectProblem(await put(world.owner, ev.id, validEvent(world.venue.id), 2), 409, "CONFLICT");
  });

  it("still edits events in non-terminal states", async () => {
    const ev = await fresh();
    await forceStatus(ev.id, "ON_SALE");
    const res = await patch(world.owner, ev.id, { name: "Still editable" }, 2);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: "ON_SALE", version: 3 });
  });

  it("answers 404 for a deleted event", async () => {
    const ev = await fresh();
    expect((await call("DELETE", `/v1/events/${ev.id}?version=1`, { token: world.owner })).status).toBe(204);
    expectProblem(await patch(world.owner, ev.id, { name: "ghost" }, 2), 404, "NOT_FOUND");
  });
});

describe("PATCH: the schedule is checked on the merged result", () => {
  const starts = Date.UTC(2034, 4, 1, 19);
  const schedule = { startsAt: iso(starts), endsAt: iso(starts + 3 * HOUR), salesStartAt: iso(starts - 10 * DAY), salesEndAt: iso(starts) };

  it.each([
    ["startsAt after the stored end", { startsAt: iso(starts + 4 * HOUR) }, "body.startsAt"],
    ["endsAt before the stored start", { endsAt: iso(starts - HOUR) }, "body.endsAt"],
    ["doorsOpenAt after the stored start", { doorsOpenAt: iso(starts + HOUR) }, "body.doorsOpenAt"],
    ["salesEndAt after the stored end", { salesEndAt: iso(starts + 5 * HOUR) }, "body.salesEndAt"],
    ["salesStartAt after the stored sales end", { salesStartAt: iso(starts + HOUR) }, "body.salesStartAt"],
    ["endsAt before the stored sales end", { endsAt: iso(starts - 1), startsAt: iso(starts - HOUR) }, "body.endsAt"],
  ])("refuses %s, naming the field that was sent", async (_name, change, field) => {
    const ev = await fresh(schedule);
    const res = await patch(world.owner, ev.id, change, 1);
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field, message: expect.any(String) }]);
  });

  it("accepts moving the whole schedule at once", async () => {
    const ev = await fresh(schedule);
    const later = starts + 7 * DAY;
    const res = await patch(world.owner, ev.id, { startsAt: iso(later), endsAt: iso(later + HOUR), salesEndAt: iso(later) }, 1);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ startsAt: iso(later), endsAt: iso(later + HOUR), salesEndAt: iso(later), salesStartAt: schedule.salesStartAt });
  });
});

describe("PUT /v1/events/{eventId}", () => {
  it("replaces the representation: omitted optional fields reset to defaults, the slug stays", async () => {
    const tokyo = await seedVenue(world.tenant.id, world.tenant.owner.id, { timezone: "Asia/Tokyo" });
    const ev = await postEvent(
      world.owner,
      validEvent(world.venue.id, {
        slug: "kept-slug",
        timezone: "America/New_York",
        description: "d",
        shortDescription: "s",
        visibility: "PRIVATE",
        isFeatured: true,
        priorityScore: 10,
        bannerImageUrl: "https://img.example/b.png",
        thumbnailImageUrl: "https://img.example/t.png",
        tags: ["x"],
        primaryCategoryId: crypto.randomUUID(),
        ageRestriction: 16,
        dressCode: "none",
        cancellationPolicy: "c",
        refundPolicy: "r",
        metaTitle: "t",
        metaDescription: "m",
        metadata: { k: "v" },
        royaltyBps: 500,
        salesStartAt: iso(Date.UTC(2029, 0, 1)),
        salesEndAt: iso(Date.UTC(2029, 1, 1)),
      }),
    );
    const doorsAndStart = { startsAt: iso(Date.UTC(2035, 0, 1, 20)), endsAt: iso(Date.UTC(2035, 0, 1, 23)) };
    const res = await put(world.owner, ev.id, { name: "Replaced", venueId: tokyo.id, ...doorsAndStart }, 1);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("etag")).toBe('"v2"');
    expect(res.body).toEqual({
      ...ev,
      ...doorsAndStart,
      name: "Replaced",
      venueId: tokyo.id,
      slug: "kept-slug",
      timezone: "Asia/Tokyo",
      description: null,
      shortDescription: null,
      visibility: "PUBLIC",
      isFeatured: false,
      priorityScore: 0,
      bannerImageUrl: null,
      thumbnailImageUrl: null,
      tags: [],
      primaryCategoryId: null,
      ageRestriction: null,
      dressCode: null,
      cancellationPolicy: null,
      refundPolicy: null,
      metaTitle: null,
      metaDescription: null,
      metadata: {},
      royaltyBps: 0,
      doorsOpenAt: null,
      salesStartAt: null,
      salesEndAt: null,
      version: 2,
      updatedAt: expect.any(String),
    });
  });

  it("changes the slug when one is sent", async () => {
    const ev = await fresh();
    const res = await put(world.owner, ev.id, { ...validEvent(world.venue.id), slug: "brand-new-slug" }, 1);
    expect(res.status, res.text).toBe(200);
    expect(res.body.slug).toBe("brand-new-slug");
  });
});

describe("moving venues and changing slugs", () => {
  it("moves to another venue; PATCH keeps the event's time zone, PUT takes the new venue's", async () => {
    const lisbon = await seedVenue(world.tenant.id, world.tenant.owner.id, { timezone: "Europe/Lisbon" });
    const ev = await fresh();
    const patched = await patch(world.owner, ev.id, { venueId: lisbon.id }, 1);
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ venueId: lisbon.id, timezone: "Europe/Berlin" });
    const replaced = await put(world.owner, ev.id, { name: ev.name, venueId: lisbon.id, startsAt: ev.startsAt, endsAt: ev.endsAt }, 2);
    expect(replaced.body).toMatchObject({ venueId: lisbon.id, timezone: "Europe/Lisbon" });
  });

  it("refuses a missing target venue (400 body.venueId) and, for an organizer, one without access (403)", async () => {
    const organizer = await userWithRole(world.tenant, "organizer");
    await grantVenueAccess(world.tenant, world.venue.id, organizer.id);
    const ev = await postEvent(organizer.tokens.accessToken, validEvent(world.venue.id));
    const missing = await patch(organizer.tokens.accessToken, ev.id, { venueId: crypto.randomUUID() }, 1);
    expect(expectProblem(missing, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "body.venueId", message: expect.any(String) }]);
    const locked = await seedVenue(world.tenant.id, world.tenant.owner.id);
    expectProblem(await patch(organizer.tokens.accessToken, ev.id, { venueId: locked.id }, 1), 403, "VENUE_ACCESS_DENIED");
    await grantVenueAccess(world.tenant, locked.id, organizer.id);
    expect((await patch(organizer.tokens.accessToken, ev.id, { venueId: locked.id }, 1)).status).toBe(200);
  });

  it("refuses a slug used by another event at the same venue: 409 SLUG_TAKEN", async () => {
    await fresh({ slug: "taken-here" });
    const ev = await fresh();
    const res = await patch(world.owner, ev.id, { slug: "taken-here" }, 1);
    expect(expectProblem(res, 409, "SLUG_TAKEN").detail).toContain("taken-here");
  });

  it("refuses moving to a venue where the event's slug is taken, and allows it where it is free", async () => {
    const other = await seedVenue(world.tenant.id, world.tenant.owner.id);
    await postEvent(world.owner, validEvent(other.id, { slug: "same-slug" }));
    const ev = await fresh({ slug: "same-slug" });
    expectProblem(await patch(world.owner, ev.id, { venueId: other.id }, 1), 409, "SLUG_TAKEN");
    const free = await seedVenue(world.tenant.id, world.tenant.owner.id);
    const moved = await patch(world.owner, ev.id, { venueId: free.id }, 1);
    expect(moved.body).toMatchObject({ venueId: free.id, slug: "same-slug" });
  });

  it("lets an event keep its own slug when other fields change", async () => {
    const ev = await fresh({ slug: "my-own" });
    const res = await patch(world.owner, ev.id, { slug: "my-own", name: "Other name" }, 1);
    expect(res.status, res.text).toBe(200);
  });
});
