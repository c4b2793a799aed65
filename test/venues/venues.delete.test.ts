import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { prepareAudit } from "../../src/audit/audit";
import { EVENT_STATUSES } from "../../src/db/schema";
import { isTerminal } from "../../src/domain/event-status";
import { usableVenue } from "../../src/domain/event-access";
import { AppError } from "../../src/http/errors";
import { createTenant, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { auditOf, insertEvent, OWNER_BODY, tenantDb, userPrincipal } from "./support";

async function venueOf(t: TenantFixture, name = "Hall One") {
  const res = await call("POST", "/v1/venues", { token: t.owner.tokens.accessToken, body: { ...OWNER_BODY, name } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; version: number };
}

const LIVE = EVENT_STATUSES.filter((s) => !isTerminal(s));
const OVER = EVENT_STATUSES.filter(isTerminal);

describe("soft delete", () => {
  it("hides the venue from get, list, update, delete and its access routes, but keeps the row", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const kept = await venueOf(t, "Kept");
    const gone = await venueOf(t, "Gone");
    const organizer = await userWithRole(t, "organizer");
    expect((await call("PUT", `/v1/venues/${gone.id}/access/${organizer.id}`, { token })).status).toBe(204);

    const del = await call("DELETE", `/v1/venues/${gone.id}`, { token, headers: { "if-match": '"v1"' } });
    expect(del.status, del.text).toBe(204);
    expect(del.text).toBe("");

    expectProblem(await call("GET", `/v1/venues/${gone.id}`, { token }), 404, "NOT_FOUND");
    const list = await call("GET", "/v1/venues?limit=100", { token });
    expect(list.body.items.map((v: { id: string }) => v.id)).toEqual([kept.id]);
    expectProblem(await call("PATCH", `/v1/venues/${gone.id}`, { token, body: { version: 2, name: "Zombie" } }), 404, "NOT_FOUND");
    expectProblem(await call("DELETE", `/v1/venues/${gone.id}?version=2`, { token }), 404, "NOT_FOUND");
    expectProblem(await call("GET", `/v1/venues/${gone.id}/access`, { token }), 404, "NOT_FOUND");
    expectProblem(await call("PUT", `/v1/venues/${gone.id}/access/${organizer.id}`, { token }), 404, "NOT_FOUND");
    expectProblem(await call("DELETE", `/v1/venues/${gone.id}/access/${organizer.id}`, { token }), 404, "NOT_FOUND");

    // The deleted venue answers exactly like one that never existed.
    const missing = await call("GET", `/v1/venues/${crypto.randomUUID()}`, { token });
    const deleted = await call("GET", `/v1/venues/${gone.id}`, { token });
    expect({ ...deleted.body, requestId: 0, instance: 0 }).toEqual({ ...missing.body, requestId: 0, instance: 0 });

    // Soft: the row and its history stay for reports and audits.
    const row = await env.DB.prepare("SELECT name, deleted_at, version FROM venues WHERE id = ?").bind(gone.id).first<{ name: string; deleted_at: number | null; version: number }>();
    expect(row).toMatchObject({ name: "Gone", version: 2, deleted_at: expect.any(Number) });
    expect((await auditOf(token, gone.id)).map((e) => e.action)).toEqual(["venue.created", "venue.access_granted", "venue.deleted"]);
  });

  it("blocks creating events there: the venue reads as missing for everyone, even with access granted before", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const organizer = await userWithRole(t, "organizer");
    expect((await call("PUT", `/v1/venues/${v.id}/access/${organizer.id}`, { token })).status).toBe(204);
    const db = tenantDb(t.id);
    const asOrganizer = userPrincipal(t.id, organizer.id, "organizer");
    await expect(usableVenue(asOrganizer, db, v.id)).resolves.toMatchObject({ id: v.id });

    expect((await call("DELETE", `/v1/venues/${v.id}?version=1`, { token })).status).toBe(204);

    expect(await db.venues.findById(v.id)).toBeUndefined();
    for (const p of [asOrganizer, userPrincipal(t.id, t.owner.id, "owner")]) {
      const err = await usableVenue(p, db, v.id).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: "VALIDATION_FAILED", extras: { errors: [{ field: "body.venueId", message: "No such venue" }] } });
    }
  });
});

describe("deleting a venue with events", () => {
  it(`is refused with 409 CONFLICT naming the count while events are live (${LIVE.join(", ")})`, async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    for (const status of LIVE) {
      const v = await venueOf(t, `Venue with ${status}`);
      await insertEvent(t.id, v.id, status);
      const res = await call("DELETE", `/v1/venues/${v.id}?version=1`, { token });
      const problem = expectProblem(res, 409, "CONFLICT");
      expect(problem.liveEvents, status).toBe(1);
      expect(problem.detail).toMatch(/1 live event\b/);
      expect((await call("GET", `/v1/venues/${v.id}`, { token })).status, status).toBe(200);
      expect((await auditOf(token, v.id)).map((e) => e.action)).toEqual(["venue.created"]);
    }
  });

  it("counts every live event, and only live ones", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const other = await venueOf(t, "Elsewhere");
    await insertEvent(t.id, v.id, "DRAFT");
    await insertEvent(t.id, v.id, "ON_SALE");
    await insertEvent(t.id, v.id, "POSTPONED");
    await insertEvent(t.id, v.id, "COMPLETED");
    await insertEvent(t.id, v.id, "PUBLISHED", { deleted: true });
    await insertEvent(t.id, other.id, "ON_SALE");
    expect(await tenantDb(t.id).venues.liveEventCount(v.id)).toBe(3);
    const problem = expectProblem(await call("DELETE", `/v1/venues/${v.id}?version=1`, { token }), 409, "CONFLICT");
    expect(problem.liveEvents).toBe(3);
    expect(problem.detail).toMatch(/3 live events/);
  });

  it(`is allowed once every event there is over (${OVER.join(", ")}) or deleted`, async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    for (const status of OVER) await insertEvent(t.id, v.id, status);
    await insertEvent(t.id, v.id, "ON_SALE", { deleted: true });
    expect(await tenantDb(t.id).venues.liveEventCount(v.id)).toBe(0);
    expect((await call("DELETE", `/v1/venues/${v.id}?version=1`, { token })).status).toBe(204);
  });

  it("re-checks live events inside the delete itself, so an event created after the route's check still blocks it", async () => {
    const t = await createTenant();
    const v = await venueOf(t);
    const db = tenantDb(t.id);
    await insertEvent(t.id, v.id, "DRAFT");
    const ctx = {
      var: { now: () => Date.now(), principal: undefined, requestId: "rq-delete-race" },
      req: { header: () => undefined },
    } as unknown as Parameters<typeof prepareAudit>[0];
    const audit = prepareAudit(ctx, { action: "venue.deleted", targetType: "venue", targetId: v.id });
    expect(await db.venues.softDelete(v.id, 1, audit.createdAt, audit)).toBeNull();
    expect(await db.venues.findById(v.id)).toMatchObject({ version: 1 });
    expect((await auditOf(t.owner.tokens.accessToken, v.id)).map((e) => e.action)).toEqual(["venue.created"]);
  });

  it("never counts another tenant's events at a venue id", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const v = await venueOf(a);
    await insertEvent(a.id, v.id, "ON_SALE");
    expect(await tenantDb(b.id).venues.liveEventCount(v.id)).toBe(0);
    expect(await tenantDb(a.id).venues.liveEventCount(v.id)).toBe(1);
  });
});
