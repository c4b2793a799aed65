import { beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/db/pagination";
import { base64url } from "../../src/lib/crypto";
import { call, expectProblem } from "../helpers/http";
import { catalogueWorld, comparable, getPublic, seedEvent, setTenantStatus, type CatalogueWorld } from "./support";

describe("tenant isolation", () => {
  let a: CatalogueWorld;
  let b: CatalogueWorld;
  const aEvents: string[] = [];

  beforeAll(async () => {
    a = await catalogueWorld();
    b = await catalogueWorld();
    aEvents.push((await seedEvent(a, { name: "A Public" })).id);
    aEvents.push((await seedEvent(a, { name: "A Unlisted", visibility: "UNLISTED" })).id);
    await seedEvent(b, { name: "B Public" });
  });

  it("never lists tenant A's events under tenant B's slug", async () => {
    const res = await call("GET", `/v1/public/${b.tenant.slug}/events?limit=100`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.items.map((e: { name: string }) => e.name)).toEqual(["B Public"]);
    for (const id of [...aEvents, a.tenant.id, a.venueId]) expect(res.text).not.toContain(id);
    // Even when filtering by A's venue.
    const byVenue = await call("GET", `/v1/public/${b.tenant.slug}/events?venueId=${a.venueId}`);
    expect(byVenue.body.items).toEqual([]);
  });

  it("answers A's event ids under B's slug with the same 404 as a missing id", async () => {
    const missing = await call("GET", `/v1/public/${b.tenant.slug}/events/${crypto.randomUUID()}`);
    expectProblem(missing, 404, "NOT_FOUND");
    for (const id of aEvents) {
      const foreign = await call("GET", `/v1/public/${b.tenant.slug}/events/${id}`);
      expectProblem(foreign, 404, "NOT_FOUND");
      expect(comparable(foreign.body)).toEqual(comparable(missing.body));
      // ...while A's own slug serves it.
      expect((await call("GET", `/v1/public/${a.tenant.slug}/events/${id}`)).status).toBe(200);
    }
  });

  it("answers an unknown slug and a suspended tenant's slug with the same 404", async () => {
    const suspended = await catalogueWorld();
    const e = await seedEvent(suspended);
    await setTenantStatus(suspended.tenant, "suspend");
    const unknown = await call("GET", "/v1/public/no-such-tenant-here/events");
    expectProblem(unknown, 404, "NOT_FOUND");
    const list = await call("GET", `/v1/public/${suspended.tenant.slug}/events`);
    expectProblem(list, 404, "NOT_FOUND");
    expect(comparable(list.body)).toEqual(comparable(unknown.body));
    const one = await call("GET", `/v1/public/${suspended.tenant.slug}/events/${e.id}`);
    const unknownOne = await call("GET", `/v1/public/no-such-tenant-here/events/${e.id}`);
    expectProblem(one, 404, "NOT_FOUND");
    expect(comparable(one.body)).toEqual(comparable(unknownOne.body));
  });
});

describe("input validation", () => {
  let w: CatalogueWorld;
  beforeAll(async () => {
    w = await catalogueWorld();
    await seedEvent(w);
  });

  const badQueries: [string, string, string][] = [
    ["limit below 1", "limit=0", "query.limit"],
    ["limit above 100", "limit=101", "query.limit"],
    ["limit not a number", "limit=lots", "query.limit"],
    ["limit not an integer", "limit=2.5", "query.limit"],
    ["cursor not base64url JSON", "cursor=garbage!", "query.cursor"],
    ["cursor of the wrong shape", `cursor=${base64url(new TextEncoder().encode('{"x":1}'))}`, "query.cursor"],
    ["cursor too long", `cursor=${"a".repeat(600)}`, "query.cursor"],
    ["venueId not a UUID", "venueId=hall-one", "query.venueId"],
    ["from not an instant", "from=tomorrow", "query.from"],
    ["to not an instant", "to=2027-13-45", "query.to"],
    ["from after to", "from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z", "query.to"],
    ["empty q", "q=%20%20", "query.q"],
    ["q too long", `q=${"x".repeat(101)}`, "query.q"],
    ["tag too long", `tag=${"t".repeat(51)}`, "query.tag"],
    ["unknown parameter", "status=DRAFT", "query.status"],
    ["cache-busting parameter", "_cv=1", "query._cv"],
  ];

  for (const [label, query, field] of badQueries) {
    it(`refuses ${label}: 400 VALIDATION_FAILED naming ${field}`, async () => {
      const problem = expectProblem(await call("GET", `/v1/public/${w.tenant.slug}/events?${query}`), 400, "VALIDATION_FAILED");
      expect(problem.errors?.map((e) => e.field)).toContain(field);
    });
  }

  it("accepts a cursor it issued and every bound at its limit", async () => {
    const cursor = encodeCursor({ t: 0, i: "0" });
    for (const query of ["limit=1", "limit=100", `cursor=${cursor}`, `q=${"x".repeat(100)}`, `tag=${"t".repeat(50)}`]) {
      const res = await getPublic(`/v1/public/${w.tenant.slug}/events?${query}`);
      expect(res.status, `${query}: ${res.text}`).toBe(200);
    }
  });

  it("refuses malformed path parameters with 400, before looking anything up", async () => {
    for (const [path, field] of [
      ["/v1/public/AB/events", "params.tenantSlug"],
      ["/v1/public/Upper-Case/events", "params.tenantSlug"],
      [`/v1/public/${"a".repeat(64)}/events`, "params.tenantSlug"],
      [`/v1/public/${w.tenant.slug}/events/not-a-uuid`, "params.eventId"],
      [`/v1/public/${w.tenant.slug}/events/${crypto.randomUUID().toUpperCase()}`, "params.eventId"],
    ] as const) {
      const problem = expectProblem(await call("GET", path), 400, "VALIDATION_FAILED");
      expect(problem.errors?.map((e) => e.field), path).toContain(field);
    }
  });

  it("refuses writes to the public paths with 405", async () => {
    const res = await call("POST", `/v1/public/${w.tenant.slug}/events`, { body: {} });
    expectProblem(res, 405, "METHOD_NOT_ALLOWED");
  });
});

describe("through the deployed worker", () => {
  it("carries the API's security headers and the request id, and answers HEAD", async () => {
    const w = await catalogueWorld();
    await seedEvent(w);
    const res = await call("GET", `/v1/public/${w.tenant.slug}/events`, { headers: { origin: "http://localhost:3000" } });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(res.headers.get("cache-control")).toBe("public, no-cache");
    const head = await call("HEAD", `/v1/public/${w.tenant.slug}/events`);
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    expect(head.headers.get("etag")).toBe(res.headers.get("etag"));
  });
});
