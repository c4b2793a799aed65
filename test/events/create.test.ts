import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createTenant, userWithRole } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { DAY, eventsWorld, grantVenueAccess, HOUR, iso, postEvent, seedVenue, tenantDb, validEvent } from "./support";

let world: Awaited<ReturnType<typeof eventsWorld>>;
beforeAll(async () => {
  world = await eventsWorld();
});

describe("POST /v1/events: happy path", () => {
  it("creates a DRAFT event at version 1 with Location, ETag and the defaults", async () => {
    const body = validEvent(world.venue.id, { name: "Spring Gala" });
    const res = await call("POST", "/v1/events", { token: world.owner, body });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("etag")).toBe('"v1"');
    expect(res.headers.get("location")).toBe(`/v1/events/${res.body.id}`);
    expect(res.body).toMatchObject({
      name: "Spring Gala",
      slug: "spring-gala",
      venueId: world.venue.id,
      status: "DRAFT",
      version: 1,
      timezone: "Europe/Berlin",
      startsAt: body.startsAt,
      endsAt: body.endsAt,
      visibility: "PUBLIC",
      isFeatured: false,
      priorityScore: 0,
      tags: [],
      metadata: {},
      royaltyBps: 0,
      description: null,
      doorsOpenAt: null,
      salesStartAt: null,
      salesEndAt: null,
      statusReason: null,
      createdBy: world.tenant.owner.id,
    });
    expect(res.body).not.toHaveProperty("tenantId");
    expect(res.body).not.toHaveProperty("lastChangeId");

    const got = await call("GET", res.headers.get("location")!, { token: world.owner });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it("stores every editable field as sent, instants normalised to UTC", async () => {
    const starts = Date.UTC(2031, 5, 1, 18);
    const full = {
      name: "Full Monty",
      venueId: world.venue.id,
      slug: "full-monty-2031",
      startsAt: "2031-06-01T20:00:00+02:00",
      endsAt: iso(starts + 4 * HOUR),
      doorsOpenAt: iso(starts - HOUR),
      salesStartAt: iso(starts - 30 * DAY),
      salesEndAt: iso(starts + HOUR),
      timezone: "America/New_York",
      description: "A long description",
      shortDescription: "Short",
      visibility: "UNLISTED",
      isFeatured: true,
      priorityScore: 1000,
      bannerImageUrl: "https://img.example/banner.png",
      thumbnailImageUrl: "https://img.example/thumb.png",
      tags: ["rock", "live"],
      primaryCategoryId: crypto.randomUUID(),
      ageRestriction: 18,
      dressCode: "Smart casual",
      cancellationPolicy: "No cancellations",
      refundPolicy: "Refunds until a week before",
      metaTitle: "Full Monty live",
      metaDescription: "The whole thing",
      metadata: { promoter: "ACME", capacityHint: 1200, vip: true, note: null },
      royaltyBps: 750,
    };
    const created = await postEvent(world.owner, full);
    expect(created).toMatchObject({ ...full, startsAt: iso(starts), version: 1, status: "DRAFT" });
  });

  it("lets an organizer with venue access create, and records them as the creator", async () => {
    const organizer = await userWithRole(world.tenant, "organizer");
    await grantVenueAccess(world.tenant, world.venue.id, organizer.id);
    const created = await postEvent(organizer.tokens.accessToken, validEvent(world.venue.id));
    expect(created.createdBy).toBe(organizer.id);
  });

  it("lets an API key with events:write create, recorded as api_key:<id>", async () => {
    const key = await createApiKey(world.tenant, ["events:write"]);
    const created = await postEvent(key.key, validEvent(world.venue.id));
    expect(created.createdBy).toBe(`api_key:${key.id}`);
  });
});

describe("POST /v1/events: the venue", () => {
  it("refuses a venue that does not exist: 400 naming body.venueId", async () => {
    const res = await call("POST", "/v1/events", { token: world.owner, body: validEvent(crypto.randomUUID()) });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "body.venueId", message: expect.any(String) }]);
  });

  it("refuses another tenant's venue exactly like a missing one", async () => {
    const other = await createTenant();
    const foreignVenue = await seedVenue(other.id, other.owner.id);
    const res = await call("POST", "/v1/events", { token: world.owner, body: validEvent(foreignVenue.id) });
    const missing = await call("POST", "/v1/events", { token: world.owner, body: validEvent(crypto.randomUUID()) });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual(expectProblem(missing, 400, "VALIDATION_FAILED").errors);
    expect(res.body.detail).toBe(missing.body.detail);
  });

  it("refuses a deleted venue: 400 naming body.venueId", async () => {
    const venue = await seedVenue(world.tenant.id, world.tenant.owner.id);
    expect(await tenantDb(world.tenant.id).venues.softDelete(venue.id, 1, Date.now())).not.toBeNull();
    const res = await call("POST", "/v1/events", { token: world.owner, body: validEvent(venue.id) });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "body.venueId", message: expect.any(String) }]);
  });

  it("refuses an organizer without access to the venue: 403 VENUE_ACCESS_DENIED", async () => {
    const organizer = await userWithRole(world.tenant, "organizer");
    const res = await call("POST", "/v1/events", { token: organizer.tokens.accessToken, body: validEvent(world.venue.id) });
    expectProblem(res, 403, "VENUE_ACCESS_DENIED");
  });

  it("defaults the time zone to the venue's and keeps one that is sent", async () => {
    const tokyo = await seedVenue(world.tenant.id, world.tenant.owner.id, { timezone: "Asia/Tokyo" });
    expect((await postEvent(world.owner, validEvent(tokyo.id))).timezone).toBe("Asia/Tokyo");
    expect((await postEvent(world.owner, validEvent(tokyo.id, { timezone: "Europe/Lisbon" }))).timezone).toBe("Europe/Lisbon");
  });
});

describe("POST /v1/events: schedule rules", () => {
  const starts = Date.UTC(2032, 2, 1, 19);
  const base = { startsAt: iso(starts), endsAt: iso(starts + 3 * HOUR) };
  const cases: [string, Record<string, string>, string][] = [
    ["endsAt equal to startsAt", { endsAt: iso(starts) }, "body.endsAt"],
    ["endsAt before startsAt", { endsAt: iso(starts - HOUR) }, "body.endsAt"],
    ["doorsOpenAt after startsAt", { doorsOpenAt: iso(starts + 1) }, "body.doorsOpenAt"],
    ["salesEndAt equal to salesStartAt", { salesStartAt: iso(starts - DAY), salesEndAt: iso(starts - DAY) }, "body.salesEndAt"],
    ["salesEndAt before salesStartAt", { salesStartAt: iso(starts - DAY), salesEndAt: iso(starts - 2 * DAY) }, "body.salesEndAt"],
    ["salesEndAt after endsAt", { salesEndAt: iso(starts + 3 * HOUR + 1) }, "body.salesEndAt"],
    ["salesStartAt at endsAt with no sales end", { salesStartAt: iso(starts + 3 * HOUR) }, "body.salesStartAt"],
  ];
  it.each(cases)("refuses %s: 400 naming the field", async (_name, overrides, field) => {
    const res = await call("POST", "/v1/events", { token: world.owner, body: validEvent(world.venue.id, { ...base, ...overrides }) });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field, message: expect.any(String) }]);
  });

  it("accepts the boundaries: doors at the start, sales ending at the end", async () => {
    const created = await postEvent(
      world.owner,
      validEvent(world.venue.id, { ...base, doorsOpenAt: base.startsAt, salesStartAt: iso(starts - DAY), salesEndAt: base.endsAt }),
    );
    expect(created).toMatchObject({ doorsOpenAt: base.startsAt, salesEndAt: base.endsAt });
  });

  it("lists every broken rule at once", async () => {
    const body = validEvent(world.venue.id, { startsAt: iso(starts), endsAt: iso(starts - HOUR), doorsOpenAt: iso(starts + HOUR) });
    const res = await call("POST", "/v1/events", { token: world.owner, body });
    const fields = expectProblem(res, 400, "VALIDATION_FAILED").errors!.map((e) => e.field);
    expect(fields.sort()).toEqual(["body.doorsOpenAt", "body.endsAt"]);
  });
});

describe("POST /v1/events: slugs", () => {
  it("generates name, name-2, name-3 at one venue, and name again at another", async () => {
    const venue = await seedVenue(world.tenant.id, world.tenant.owner.id);
    const other = await seedVenue(world.tenant.id, world.tenant.owner.id);
    const name = "Rock & Roll Night!";
    const slugs = [];
    for (let i = 0; i < 3; i++) slugs.push((await postEvent(world.owner, validEvent(venue.id, { name }))).slug);
    expect(slugs).toEqual(["rock-roll-night", "rock-roll-night-2", "rock-roll-night-3"]);
    expect((await postEvent(world.owner, validEvent(other.id, { name }))).slug).toBe("rock-roll-night");
  });

  it("transliterates accents and falls back to 'event' for names without latin letters", async () => {
    const venue = await seedVenue(world.tenant.id, world.tenant.owner.id);
    expect((await postEvent(world.owner, validEvent(venue.id, { name: "Café Überraschung" }))).slug).toBe("cafe-uberraschung");
    expect((await postEvent(world.owner, validEvent(venue.id, { name: "東京" }))).slug).toBe("event");
  });

  it("refuses an explicit slug already used at the venue: 409 SLUG_TAKEN; another venue may use it", async () => {
    const venue = await seedVenue(world.tenant.id, world.tenant.owner.id);
    const other = await seedVenue(world.tenant.id, world.tenant.owner.id);
    await postEvent(world.owner, validEvent(venue.id, { slug: "opening-night" }));
    const res = await call("POST", "/v1/events", { token: world.owner, body: validEvent(venue.id, { slug: "opening-night" }) });
    expect(expectProblem(res, 409, "SLUG_TAKEN").detail).toContain("opening-night");
    expect((await postEvent(world.owner, validEvent(other.id, { slug: "opening-night" }))).slug).toBe("opening-night");
  });

  it("skips generated candidates that an explicit slug already took", async () => {
    const venue = await seedVenue(world.tenant.id, world.tenant.owner.id);
    await postEvent(world.owner, validEvent(venue.id, { slug: "jazz" }));
    await postEvent(world.owner, validEvent(venue.id, { slug: "jazz-2" }));
    expect((await postEvent(world.owner, validEvent(venue.id, { name: "Jazz" }))).slug).toBe("jazz-3");
  });

  it("still finds a slug when name-2 … name-20 are all taken", async () => {
    const venue = await seedVenue(world.tenant.id, world.tenant.owner.id);
    for (let i = 0; i < 20; i++) await postEvent(world.owner, validEvent(venue.id, { name: "Busy" }));
    const last = await postEvent(world.owner, validEvent(venue.id, { name: "Busy" }));
    expect(last.slug).toMatch(/^busy-[0-9a-f]{8}$/);
  });

  it("refuses a malformed slug: 400 naming body.slug", async () => {
    const res = await call("POST", "/v1/events", { token: world.owner, body: validEvent(world.venue.id, { slug: "Not A Slug" }) });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "body.slug", message: expect.any(String) }]);
  });
});
