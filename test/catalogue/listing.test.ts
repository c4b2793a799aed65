import { beforeAll, describe, expect, it } from "vitest";
import { createVenue } from "../helpers/event-fixtures";
import { expectProblem } from "../helpers/http";
import { catalogueWorld, comparable, DAY, getPublic, HOUR, listedIds, seedEvent, type CatalogueWorld } from "./support";

const PUBLIC_EVENT_KEYS = [
  "ageRestriction",
  "bannerImageUrl",
  "cancellationPolicy",
  "description",
  "doorsOpenAt",
  "dressCode",
  "endsAt",
  "id",
  "isFeatured",
  "metaDescription",
  "metaTitle",
  "name",
  "primaryCategoryId",
  "refundPolicy",
  "salesEndAt",
  "salesStartAt",
  "shortDescription",
  "slug",
  "startsAt",
  "status",
  "tags",
  "thumbnailImageUrl",
  "timezone",
  "venueId",
];

describe("which events the public catalogue shows", () => {
  let w: CatalogueWorld;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    w = await catalogueWorld();
    const seeds = {
      draft: { path: [] },
      review: { path: ["REVIEW"] },
      approved: { path: ["REVIEW", "APPROVED"] },
      published: { path: ["PUBLISHED"] },
      onSale: { path: ["PUBLISHED", "ON_SALE"] },
      paused: { path: ["PUBLISHED", "ON_SALE", "SALES_PAUSED"] },
      soldOut: { path: ["PUBLISHED", "ON_SALE", "SOLD_OUT"] },
      postponed: { path: ["PUBLISHED", "POSTPONED"] },
      cancelled: { path: ["PUBLISHED", "CANCELLED"] },
      completed: { path: ["PUBLISHED", "ON_SALE", "IN_PROGRESS", "COMPLETED"] },
      privatePublished: { path: ["PUBLISHED"], visibility: "PRIVATE" },
      unlistedPublished: { path: ["PUBLISHED"], visibility: "UNLISTED" },
      unlistedDraft: { path: [], visibility: "UNLISTED" },
      // A live event cannot be deleted (it is cancelled instead); a cancelled one can, and must stay hidden.
      deletedPublished: { path: ["PUBLISHED", "CANCELLED"], deleted: true },
    } as const;
    let hour = 0;
    for (const [label, seed] of Object.entries(seeds)) {
      // Distinct start times, so the expected order is the seeding order.
      ids[label] = (await seedEvent(w, { ...seed, path: [...seed.path], startsInHours: 24 * 10 + hour++, name: `Show ${label}` })).id;
    }
  });

  it("lists published, PUBLIC events only, in start order", async () => {
    expect(await listedIds(w.tenant.slug)).toEqual([ids.published, ids.onSale, ids.paused, ids.soldOut, ids.postponed]);
  });

  it("serves an UNLISTED published event by id, though it is never listed", async () => {
    const res = await getPublic(`/v1/public/${w.tenant.slug}/events/${ids.unlistedPublished}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: ids.unlistedPublished, name: "Show unlistedPublished", status: "PUBLISHED" });
    expect(await listedIds(w.tenant.slug, "limit=100")).not.toContain(ids.unlistedPublished);
  });

  it("serves every listed event by id too", async () => {
    for (const label of ["published", "onSale", "paused", "soldOut", "postponed"]) {
      const res = await getPublic(`/v1/public/${w.tenant.slug}/events/${ids[label]}`);
      expect(res.status, `${label}: ${res.text}`).toBe(200);
      expect(res.body.id).toBe(ids[label]);
    }
  });

  it("answers drafts, reviews, approvals, cancelled, completed, private, unlisted drafts and deleted events by id with the 404 of a missing id", async () => {
    const missing = await getPublic(`/v1/public/${w.tenant.slug}/events/${crypto.randomUUID()}`);
    expectProblem(missing, 404, "NOT_FOUND");
    for (const label of ["draft", "review", "approved", "cancelled", "completed", "privatePublished", "unlistedDraft", "deletedPublished"]) {
      const res = await getPublic(`/v1/public/${w.tenant.slug}/events/${ids[label]}`);
      expectProblem(res, 404, "NOT_FOUND");
      expect(comparable(res.body), label).toEqual(comparable(missing.body));
    }
  });

  it("shapes events with the public DTO: exactly the public keys, no internal values", async () => {
    const list = await getPublic(`/v1/public/${w.tenant.slug}/events`);
    const one = await getPublic(`/v1/public/${w.tenant.slug}/events/${ids.published}`);
    for (const event of [...list.body.items, one.body]) expect(Object.keys(event).sort()).toEqual(PUBLIC_EVENT_KEYS);
    for (const text of [list.text, one.text]) {
      expect(text).not.toContain(w.tenant.owner.id); // createdBy, statusChangedBy
      expect(text).not.toContain("do-not-leak"); // metadata
      expect(text).not.toContain("test moves to"); // statusReason
      expect(text).not.toContain(w.tenant.id);
    }
    expect(one.body).toMatchObject({ status: "PUBLISHED", venueId: w.venueId, description: "A night out", timezone: "Europe/Berlin" });
    expect(one.body.startsAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

describe("time window and filters", () => {
  let w: CatalogueWorld;
  let ended: string, running: string, soon: string, later: string, otherVenue: string, tagged: string;

  beforeAll(async () => {
    w = await catalogueWorld();
    const second = await createVenue(w.token, { name: "Hall Two", city: "Hamburg", capacity: 100 });
    // Seeded relative to now; the catalogue is then read 5 days later through the clock.
    ended = (await seedEvent(w, { startsInHours: 2 * 24, name: "Ended Gala" })).id;
    running = (await seedEvent(w, { startsInHours: 5 * 24 - 1, durationHours: 3, name: "Running Jazz" })).id;
    soon = (await seedEvent(w, { startsInHours: 6 * 24, name: "Soon Rock Night", tags: ["rock", "outdoor"] })).id;
    later = (await seedEvent(w, { startsInHours: 20 * 24, name: "Later Opera" })).id;
    otherVenue = (await seedEvent(w, { startsInHours: 7 * 24, name: "Elsewhere ROCK", venueId: second.id })).id;
    tagged = (await seedEvent(w, { startsInHours: 8 * 24, name: "Folk", tags: ["rock"] })).id;
  });

  const at = () => Date.now() + 5 * DAY;
  const list = async (query = "") => {
    const res = await getPublic(`/v1/public/${w.tenant.slug}/events${query}`, { at: at() });
    expect(res.status, res.text).toBe(200);
    return (res.body.items as { id: string }[]).map((e) => e.id);
  };

  it("shows events that have not ended by default, running ones included", async () => {
    expect(await list()).toEqual([running, soon, otherVenue, tagged, later]);
  });

  it("lets `from` replace the default lower bound, and `to` cap the start", async () => {
    const from = new Date(Date.now() + DAY).toISOString();
    expect(await list(`?from=${from}`)).toEqual([ended, running, soon, otherVenue, tagged, later]);
    const to = new Date(Date.now() + 7 * DAY).toISOString();
    expect(await list(`?to=${to}`)).toEqual([running, soon, otherVenue]);
    expect(await list(`?from=${new Date(Date.now() + 6 * DAY - HOUR).toISOString()}&to=${to}`)).toEqual([soon, otherVenue]);
  });

  it("filters by venue, tag and case-insensitive text in the name", async () => {
    expect(await list(`?venueId=${w.venueId}`)).toEqual([running, soon, tagged, later]);
    expect(await list("?tag=rock")).toEqual([soon, tagged]);
    expect(await list("?tag=outdoor")).toEqual([soon]);
    expect(await list("?q=rock")).toEqual([soon, otherVenue]);
    expect(await list(`?q=rock&venueId=${w.venueId}&tag=rock`)).toEqual([soon]);
    expect(await list("?q=nothing-matches")).toEqual([]);
  });
});

describe("pagination", () => {
  let w: CatalogueWorld;
  let expected: string[];

  beforeAll(async () => {
    w = await catalogueWorld();
    // Pairs with the same start time, so the order must fall back to the id.
    for (let i = 0; i < 7; i++) await seedEvent(w, { startsInHours: 48 + Math.floor(i / 2) });
    expected = await listedIds(w.tenant.slug, "limit=100");
  });

  async function walk(limit: number, between?: () => Promise<void>) {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await getPublic(`/v1/public/${w.tenant.slug}/events?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...res.body.items.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
      await between?.();
    } while (cursor);
    return seen;
  }

  it("orders by (startsAt, id) and walks every event exactly once", async () => {
    expect(expected).toHaveLength(7);
    const starts = await Promise.all(expected.map(async (id) => (await getPublic(`/v1/public/${w.tenant.slug}/events/${id}`)).body.startsAt as string));
    const pairs = expected.map((id, i) => [starts[i]!, id] as const);
    expect(pairs).toEqual([...pairs].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1)));
    for (const limit of [1, 2, 3, 7]) expect(await walk(limit), `limit ${limit}`).toEqual(expected);
  });

  it("stays stable when events are added before the cursor while paging", async () => {
    let added = 0;
    const seen = await walk(2, async () => {
      // Starts before everything already listed: it must not shift or repeat later pages.
      if (added++ < 2) await seedEvent(w, { startsInHours: 24 });
    });
    expect(seen).toEqual(expected);
  });

  it("answers the last page with nextCursor null", async () => {
    const res = await getPublic(`/v1/public/${w.tenant.slug}/events?limit=100`);
    expect(res.body.nextCursor).toBeNull();
  });
});

it("needs no credentials and ignores any that are sent", async () => {
  const w = await catalogueWorld();
  const e = await seedEvent(w);
  const variants: Record<string, string>[] = [{}, { authorization: "Bearer not.a.jwt" }, { authorization: `Bearer ${w.token}` }];
  for (const headers of variants) {
    expect(await getPublic(`/v1/public/${w.tenant.slug}/events`, { headers }).then((r) => r.status)).toBe(200);
    expect(await getPublic(`/v1/public/${w.tenant.slug}/events/${e.id}`, { headers }).then((r) => r.status)).toBe(200);
  }
});
