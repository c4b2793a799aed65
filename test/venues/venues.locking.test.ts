import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { prepareAudit } from "../../src/audit/audit";
import { createTenant, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { auditOf, OWNER_BODY, tenantDb } from "./support";

async function venueOf(t: TenantFixture) {
  const res = await call("POST", "/v1/venues", { token: t.owner.tokens.accessToken, body: OWNER_BODY });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; version: number };
}

describe("optimistic locking on PATCH /v1/venues/{venueId}", () => {
  it("requires If-Match or a body version: 428 PRECONDITION_REQUIRED, nothing changed", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    expectProblem(await call("PATCH", `/v1/venues/${v.id}`, { token, body: { name: "Blind write" } }), 428, "PRECONDITION_REQUIRED");
    expect((await call("GET", `/v1/venues/${v.id}`, { token })).body).toMatchObject({ name: "Hall One", version: 1 });
  });

  it("refuses a stale If-Match with 412 PRECONDITION_FAILED, the current version and its ETag", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    expect((await call("PATCH", `/v1/venues/${v.id}`, { token, headers: { "if-match": '"v1"' }, body: { name: "First" } })).status).toBe(200);
    const res = await call("PATCH", `/v1/venues/${v.id}`, { token, headers: { "if-match": '"v1"' }, body: { name: "Second" } });
    const problem = expectProblem(res, 412, "PRECONDITION_FAILED");
    expect(problem.currentVersion).toBe(2);
    expect(res.headers.get("etag")).toBe('"v2"');
    expect((await call("GET", `/v1/venues/${v.id}`, { token })).body.name).toBe("First");
  });

  it("refuses a stale body version with 409 VERSION_CONFLICT and the current version", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    expect((await call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 1, capacity: 10 } })).status).toBe(200);
    const problem = expectProblem(await call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 1, capacity: 20 } }), 409, "VERSION_CONFLICT");
    expect(problem.currentVersion).toBe(2);
    // A version from the future is just as wrong.
    expect(expectProblem(await call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 9, capacity: 20 } }), 409, "VERSION_CONFLICT").currentVersion).toBe(2);
  });

  it("accepts a weak ETag, refuses a foreign one and an If-Match that disagrees with the body version", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const foreign = await call("PATCH", `/v1/venues/${v.id}`, { token, headers: { "if-match": '"abc"' }, body: { name: "x" } });
    expect(expectProblem(foreign, 400, "VALIDATION_FAILED").errors).toEqual([expect.objectContaining({ field: "headers.if-match" })]);
    const disagree = await call("PATCH", `/v1/venues/${v.id}`, { token, headers: { "if-match": '"v1"' }, body: { version: 2, name: "x" } });
    expect(expectProblem(disagree, 400, "VALIDATION_FAILED").errors).toEqual([expect.objectContaining({ field: "body.version" })]);
    const weak = await call("PATCH", `/v1/venues/${v.id}`, { token, headers: { "if-match": 'W/"v1"' }, body: { name: "Weakly matched" } });
    expect(weak.status, weak.text).toBe(200);
    expect(weak.body.version).toBe(2);
  });

  for (const via of ["If-Match", "body version"] as const) {
    it(`lets exactly one of two concurrent PATCHes with the same version win (${via}); the loser learns the current version`, async () => {
      const t = await createTenant();
      const token = t.owner.tokens.accessToken;
      const v = await venueOf(t);
      const send = (name: string) =>
        via === "If-Match"
          ? call("PATCH", `/v1/venues/${v.id}`, { token, headers: { "if-match": '"v1"' }, body: { name } })
          : call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 1, name } });
      const results = await Promise.all([send("Writer A"), send("Writer B")]);
      const won = results.filter((r) => r.status === 200);
      const lost = results.filter((r) => r.status !== 200);
      expect(won, results.map((r) => r.text).join("\n")).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const problem = via === "If-Match" ? expectProblem(lost[0]!, 412, "PRECONDITION_FAILED") : expectProblem(lost[0]!, 409, "VERSION_CONFLICT");
      expect(problem.currentVersion).toBe(2);

      const now = await call("GET", `/v1/venues/${v.id}`, { token });
      expect(now.body).toMatchObject({ name: won[0]!.body.name, version: 2 });
      const updates = (await auditOf(token, v.id)).filter((e) => e.action === "venue.updated");
      expect(updates).toHaveLength(1);
      expect(updates[0]!.details).toEqual({ before: { name: "Hall One" }, after: { name: won[0]!.body.name } });
    });
  }
});

describe("the compare-and-set write underneath", () => {
  // The route checks the version before writing, so two racing requests usually part there;
  // these drive the repository directly to pin down the write itself.
  const fakeContext = (now: number) =>
    ({
      var: { now: () => now, principal: undefined, requestId: `rq-${now}` },
      req: { header: () => undefined },
    }) as unknown as Parameters<typeof prepareAudit>[0];

  it("applies a stale write nowhere: no row change, no audit entry, no catalogue bump", async () => {
    const t = await createTenant();
    const v = await venueOf(t);
    const db = tenantDb(t.id);
    const catalogVersion = () => env.DB.prepare("SELECT catalog_version AS v FROM tenants WHERE id = ?").bind(t.id).first<number>("v");
    const catalogBefore = await catalogVersion();
    const now = Date.now();
    const first = prepareAudit(fakeContext(now), { action: "venue.updated", targetType: "venue", targetId: v.id, details: { n: 1 } });
    const second = prepareAudit(fakeContext(now + 1), { action: "venue.updated", targetType: "venue", targetId: v.id, details: { n: 2 } });
    const [a, b] = await Promise.all([
      db.venues.update(v.id, 1, { name: "A" }, now, first),
      db.venues.update(v.id, 1, { name: "B" }, now + 1, second),
    ]);
    expect([a, b].filter((r) => r !== null)).toHaveLength(1);
    const winner = (a ?? b)!;
    expect(winner.version).toBe(2);
    expect((await db.venues.findById(v.id))?.name).toBe(winner.name);
    const updates = (await auditOf(t.owner.tokens.accessToken, v.id)).filter((e) => e.action === "venue.updated");
    expect(updates.map((e) => e.details)).toEqual([{ n: winner.name === "A" ? 1 : 2 }]);
    expect(await catalogVersion()).toBe(catalogBefore! + 1);
  });
});

describe("optimistic locking on DELETE /v1/venues/{venueId}", () => {
  it("requires If-Match or ?version=: 428, and the venue stays", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    expectProblem(await call("DELETE", `/v1/venues/${v.id}`, { token }), 428, "PRECONDITION_REQUIRED");
    expect((await call("GET", `/v1/venues/${v.id}`, { token })).status).toBe(200);
  });

  it("refuses a stale version: 412 with If-Match, 409 with ?version=, both with currentVersion", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    expect((await call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 1, name: "Changed meanwhile" } })).status).toBe(200);
    expect(expectProblem(await call("DELETE", `/v1/venues/${v.id}`, { token, headers: { "if-match": '"v1"' } }), 412, "PRECONDITION_FAILED").currentVersion).toBe(2);
    expect(expectProblem(await call("DELETE", `/v1/venues/${v.id}?version=1`, { token }), 409, "VERSION_CONFLICT").currentVersion).toBe(2);
    expect((await call("GET", `/v1/venues/${v.id}`, { token })).status).toBe(200);
    expect((await call("DELETE", `/v1/venues/${v.id}?version=2`, { token })).status).toBe(204);
  });
});
