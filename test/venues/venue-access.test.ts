import { describe, expect, it } from "vitest";
import { usableVenue } from "../../src/domain/event-access";
import { createApiKey, createTenant, registerUser, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { listAll } from "../auth/support";
import { auditOf, OWNER_BODY, tenantDb, userPrincipal } from "./support";

async function venueOf(t: TenantFixture, name = "Hall One") {
  const res = await call("POST", "/v1/venues", { token: t.owner.tokens.accessToken, body: { ...OWNER_BODY, name } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string };
}

const grant = (token: string, venueId: string, userId: string) => call("PUT", `/v1/venues/${venueId}/access/${userId}`, { token });
const revoke = (token: string, venueId: string, userId: string) => call("DELETE", `/v1/venues/${venueId}/access/${userId}`, { token });

/** What an organizer gets when creating or moving an event to the venue. */
async function usableBy(tenantId: string, userId: string, venueId: string) {
  return usableVenue(userPrincipal(tenantId, userId, "organizer"), tenantDb(tenantId), venueId).then(
    () => "usable",
    (e: { code?: string }) => e.code,
  );
}

describe("venue access: grant", () => {
  it("grants an organizer access (204), listed with who granted it and when; hasAccess and usableVenue follow", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const organizer = await userWithRole(t, "organizer");
    expect(await usableBy(t.id, organizer.id, v.id)).toBe("VENUE_ACCESS_DENIED");

    const res = await grant(token, v.id, organizer.id);
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");

    const list = await call("GET", `/v1/venues/${v.id}/access`, { token });
    expect(list.status, list.text).toBe(200);
    expect(list.body).toEqual({
      items: [{ venueId: v.id, userId: organizer.id, grantedBy: t.owner.id, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }],
      nextCursor: null,
    });
    expect(await tenantDb(t.id).venues.hasAccess(v.id, organizer.id)).toBe(true);
    expect(await usableBy(t.id, organizer.id, v.id)).toBe("usable");
  });

  it("is idempotent: granting again changes nothing and is audited once", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const organizer = await userWithRole(t, "organizer");
    const admin = await userWithRole(t, "admin");
    expect((await grant(token, v.id, organizer.id)).status).toBe(204);
    const first = (await call("GET", `/v1/venues/${v.id}/access`, { token })).body.items;
    expect((await grant(admin.tokens.accessToken, v.id, organizer.id)).status).toBe(204);
    const [a, b] = await Promise.all([grant(token, v.id, organizer.id), grant(token, v.id, organizer.id)]);
    expect([a.status, b.status]).toEqual([204, 204]);

    expect((await call("GET", `/v1/venues/${v.id}/access`, { token })).body.items).toEqual(first);
    const grants = (await auditOf(token, v.id)).filter((e) => e.action === "venue.access_granted");
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ actorType: "user", actorId: t.owner.id, targetType: "venue", targetId: v.id, details: { userId: organizer.id } });
  });

  it("is per venue: access to one venue gives none at another", async () => {
    const t = await createTenant();
    const here = await venueOf(t, "Here");
    const there = await venueOf(t, "There");
    const organizer = await userWithRole(t, "organizer");
    expect((await grant(t.owner.tokens.accessToken, here.id, organizer.id)).status).toBe(204);
    expect(await usableBy(t.id, organizer.id, here.id)).toBe("usable");
    expect(await usableBy(t.id, organizer.id, there.id)).toBe("VENUE_ACCESS_DENIED");
    expect((await call("GET", `/v1/venues/${there.id}/access`, { token: t.owner.tokens.accessToken })).body.items).toEqual([]);
  });

  it("records an API key as the granter", async () => {
    const t = await createTenant();
    const v = await venueOf(t);
    const organizer = await userWithRole(t, "organizer");
    const key = await createApiKey(t, ["venues:read", "venues:write"]);
    expect((await grant(key.key, v.id, organizer.id)).status).toBe(204);
    const list = await call("GET", `/v1/venues/${v.id}/access`, { token: key.key });
    expect(list.body.items).toEqual([expect.objectContaining({ userId: organizer.id, grantedBy: `api_key:${key.id}` })]);
    const [granted] = (await auditOf(t.owner.tokens.accessToken, v.id)).filter((e) => e.action === "venue.access_granted");
    expect(granted).toMatchObject({ actorType: "api_key", actorId: key.id });
  });

  for (const role of ["customer", "scanner", "admin", "owner"] as const) {
    it(`refuses to grant a ${role}: 400 VALIDATION_FAILED on params.userId, nothing recorded`, async () => {
      const t = await createTenant();
      const token = t.owner.tokens.accessToken;
      const v = await venueOf(t);
      const userId = role === "owner" ? t.owner.id : role === "customer" ? (await registerUser(t)).id : (await userWithRole(t, role)).id;
      const problem = expectProblem(await grant(token, v.id, userId), 400, "VALIDATION_FAILED");
      expect(problem.errors).toEqual([{ field: "params.userId", message: "must be an organizer" }]);
      expect(problem.detail).toContain(role);
      expect((await call("GET", `/v1/venues/${v.id}/access`, { token })).body.items).toEqual([]);
      expect((await auditOf(token, v.id)).map((e) => e.action)).toEqual(["venue.created"]);
    });
  }

  it("answers 404 for a user that does not exist in the tenant, including another tenant's organizer", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const foreignOrganizer = await userWithRole(other, "organizer");
    const missing = expectProblem(await grant(token, v.id, crypto.randomUUID()), 404, "NOT_FOUND");
    const foreign = expectProblem(await grant(token, v.id, foreignOrganizer.id), 404, "NOT_FOUND");
    expect(foreign.detail).toBe(missing.detail);
    expect(missing.detail).toMatch(/user/i);
  });

  it("answers 404 for a venue that does not exist, before looking at the user", async () => {
    const t = await createTenant();
    const organizer = await userWithRole(t, "organizer");
    const problem = expectProblem(await grant(t.owner.tokens.accessToken, crypto.randomUUID(), organizer.id), 404, "NOT_FOUND");
    expect(problem.detail).toMatch(/venue/i);
    expectProblem(await call("GET", `/v1/venues/${crypto.randomUUID()}/access`, { token: t.owner.tokens.accessToken }), 404, "NOT_FOUND");
  });
});

describe("venue access: revoke", () => {
  it("revokes (204): gone from the list, hasAccess false, usableVenue refuses; audited once however often repeated", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const organizer = await userWithRole(t, "organizer");
    const colleague = await userWithRole(t, "organizer");
    expect((await grant(token, v.id, organizer.id)).status).toBe(204);
    expect((await grant(token, v.id, colleague.id)).status).toBe(204);

    const res = await revoke(token, v.id, organizer.id);
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");
    expect((await revoke(token, v.id, organizer.id)).status).toBe(204);

    const list = await call("GET", `/v1/venues/${v.id}/access`, { token });
    expect(list.body.items.map((g: { userId: string }) => g.userId)).toEqual([colleague.id]);
    expect(await tenantDb(t.id).venues.hasAccess(v.id, organizer.id)).toBe(false);
    expect(await usableBy(t.id, organizer.id, v.id)).toBe("VENUE_ACCESS_DENIED");
    expect(await usableBy(t.id, colleague.id, v.id)).toBe("usable");

    const entries = (await auditOf(token, v.id)).filter((e) => e.action.startsWith("venue.access"));
    expect(entries.map((e) => [e.action, e.details?.userId])).toEqual([
      ["venue.access_granted", organizer.id],
      ["venue.access_granted", colleague.id],
      ["venue.access_revoked", organizer.id],
    ]);
  });

  it("answers 204 without an audit entry for an existing user who never had access, whatever their role", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const customer = await registerUser(t);
    expect((await revoke(token, v.id, customer.id)).status).toBe(204);
    expect((await auditOf(token, v.id)).map((e) => e.action)).toEqual(["venue.created"]);
  });

  it("answers 404 only when the venue or the user does not exist (in this tenant)", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const organizer = await userWithRole(t, "organizer");
    expectProblem(await revoke(token, crypto.randomUUID(), organizer.id), 404, "NOT_FOUND");
    expectProblem(await revoke(token, v.id, crypto.randomUUID()), 404, "NOT_FOUND");
    expectProblem(await revoke(token, v.id, other.owner.id), 404, "NOT_FOUND");
  });

  it("keeps a grant across a role change but refuses re-granting a demoted user", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const organizer = await userWithRole(t, "organizer");
    expect((await grant(token, v.id, organizer.id)).status).toBe(204);
    expect((await call("PATCH", `/v1/users/${organizer.id}/role`, { token, body: { role: "customer" } })).status).toBe(200);
    expectProblem(await grant(token, v.id, organizer.id), 400, "VALIDATION_FAILED");
    // The stale grant can still be cleaned up.
    expect((await revoke(token, v.id, organizer.id)).status).toBe(204);
    expect(await tenantDb(t.id).venues.hasAccess(v.id, organizer.id)).toBe(false);
  });
});

describe("venue access: listing", () => {
  it("pages through grants oldest first", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const o = await userWithRole(t, "organizer");
      expect((await grant(token, v.id, o.id)).status).toBe(204);
      ids.push(o.id);
    }
    const all = await listAll<{ userId: string }>(`/v1/venues/${v.id}/access`, token, 2);
    expect(all.map((g) => g.userId)).toEqual(ids);
  });
});
