import { beforeAll, describe, expect, it } from "vitest";
import { expectProblem, type CallResult } from "../helpers/http";
import { catalogueWorld, editEvent, getPublic, listedIds, seedEvent, setTenantStatus, type CatalogueWorld } from "./support";

function expectCached(res: CallResult, state: "HIT" | "MISS") {
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get("x-cache"), res.text).toBe(state);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("public, no-cache");
  expect(res.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]+"$/);
  return res;
}

const names = (res: CallResult) => (res.body.items as { name: string }[]).map((e) => e.name);

describe("edge cache", () => {
  let w: CatalogueWorld;
  let eventId: string;
  let listPath: string;
  let eventPath: string;

  beforeAll(async () => {
    w = await catalogueWorld();
    eventId = (await seedEvent(w, { name: "Original Name", startsInHours: 48 })).id;
    await seedEvent(w, { name: "Second Show", startsInHours: 72 });
    listPath = `/v1/public/${w.tenant.slug}/events`;
    eventPath = `${listPath}/${eventId}`;
  });

  it("answers a second identical request from the cache, with the same body and ETag", async () => {
    for (const path of [`${listPath}?q=show`, eventPath]) {
      const first = expectCached(await getPublic(path), "MISS");
      const second = expectCached(await getPublic(path), "HIT");
      expect(second.text).toBe(first.text);
      expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    }
  });

  it("shares one entry between equivalent queries (defaults, parameter order, encoding)", async () => {
    const venue = w.venueId;
    expectCached(await getPublic(`${listPath}?tag=x&venueId=${venue}`), "MISS");
    expectCached(await getPublic(`${listPath}?venueId=${venue}&tag=x`), "HIT");
    expectCached(await getPublic(`${listPath}?venueId=${venue}&tag=x&limit=25`), "HIT");
    expectCached(await getPublic(`${listPath}?venueId=${venue}&tag=%78`), "HIT");
    // A different query is a different entry.
    expectCached(await getPublic(`${listPath}?venueId=${venue}&tag=x&limit=24`), "MISS");
  });

  it("shows a rename in the very next request of the list and of the event, then caches again", async () => {
    expectCached(await getPublic(listPath), "MISS");
    expectCached(await getPublic(eventPath), "HIT");
    expect(names(expectCached(await getPublic(listPath), "HIT"))).toContain("Original Name");

    await editEvent(w, eventId, { name: "Renamed Show" });

    const list = expectCached(await getPublic(listPath), "MISS");
    expect(names(list)).toContain("Renamed Show");
    expect(names(list)).not.toContain("Original Name");
    const one = expectCached(await getPublic(eventPath), "MISS");
    expect(one.body.name).toBe("Renamed Show");

    expectCached(await getPublic(listPath), "HIT");
    expect(expectCached(await getPublic(eventPath), "HIT").body.name).toBe("Renamed Show");
  });

  it("invalidates on any event write in the tenant, even to an event the page does not show", async () => {
    const draft = await seedEvent(w, { path: [], name: "Draft Show" });
    expectCached(await getPublic(eventPath), "MISS");
    expectCached(await getPublic(eventPath), "HIT");
    await editEvent(w, draft.id, { name: "Still A Draft" });
    expectCached(await getPublic(eventPath), "MISS");
  });

  it("takes an event out of the list and off its link at once when it is made private", async () => {
    const e = await seedEvent(w, { name: "Soon Private", startsInHours: 96 });
    const path = `${listPath}/${e.id}`;
    expect(await listedIds(w.tenant.slug)).toContain(e.id);
    expectCached(await getPublic(path), "MISS");
    expectCached(await getPublic(path), "HIT");

    await editEvent(w, e.id, { visibility: "PRIVATE" });

    expectProblem(await getPublic(path), 404, "NOT_FOUND");
    expect(await listedIds(w.tenant.slug)).not.toContain(e.id);
  });

  it("is not invalidated by writes in another tenant", async () => {
    const other = await catalogueWorld();
    const otherEvent = await seedEvent(other);
    expectCached(await getPublic(eventPath), "MISS");
    await editEvent(other, otherEvent.id, { name: "Elsewhere" });
    expectCached(await getPublic(eventPath), "HIT");
  });

  it("answers If-None-Match with 304 on a hit and on a miss, and with the new body after a change", async () => {
    await getPublic(eventPath);
    const first = expectCached(await getPublic(eventPath), "HIT");
    const etag = first.headers.get("etag")!;

    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await getPublic(eventPath, { headers: { "if-none-match": inm } });
      expect(res.status, inm).toBe(304);
      expect(res.text).toBe("");
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.headers.get("cache-control")).toBe("public, no-cache");
      expect(res.headers.get("x-cache")).toBe("HIT");
    }
    expectCached(await getPublic(eventPath, { headers: { "if-none-match": '"something-else"' } }), "HIT");

    // A write elsewhere in the tenant: a miss, but the event itself is unchanged → still 304.
    await seedEvent(w, { path: [], name: "Unrelated Draft" });
    const revalidated = await getPublic(eventPath, { headers: { "if-none-match": etag } });
    expect([revalidated.status, revalidated.headers.get("x-cache")]).toEqual([304, "MISS"]);

    await editEvent(w, eventId, { name: "Renamed Again" });
    const changed = expectCached(await getPublic(eventPath, { headers: { "if-none-match": etag } }), "MISS");
    expect(changed.body.name).toBe("Renamed Again");
    expect(changed.headers.get("etag")).not.toBe(etag);
  });

  it("refuses a suspended tenant at once, cached entries notwithstanding, and serves it again on reactivation", async () => {
    const t = await catalogueWorld();
    const e = await seedEvent(t);
    const list = `/v1/public/${t.tenant.slug}/events`;
    expectCached(await getPublic(list), "MISS");
    expectCached(await getPublic(`${list}/${e.id}`), "MISS");
    expectCached(await getPublic(list), "HIT");

    await setTenantStatus(t.tenant, "suspend");
    expectProblem(await getPublic(list), 404, "NOT_FOUND");
    expectProblem(await getPublic(`${list}/${e.id}`), 404, "NOT_FOUND");

    await setTenantStatus(t.tenant, "reactivate");
    expect((await getPublic(list)).body.items.map((i: { id: string }) => i.id)).toEqual([e.id]);
  });

  it("never caches errors", async () => {
    const missing = `${listPath}/${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      const res = await getPublic(missing);
      expectProblem(res, 404, "NOT_FOUND");
      expect(res.headers.get("x-cache")).toBeNull();
      expect(res.headers.get("etag")).toBeNull();
    }
  });
});
