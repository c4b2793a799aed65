import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApiKey, createTenant, userWithRole } from "../helpers/fixtures";
import { call } from "../helpers/http";
import { listAll } from "../auth/support";
import { auditOf, OWNER_BODY } from "./support";

const catalogVersion = async (tenantId: string) =>
  (await env.DB.prepare("SELECT catalog_version AS v FROM tenants WHERE id = ?").bind(tenantId).first<{ v: number }>())!.v;

describe("venues: create, read, list, update, delete", () => {
  it("creates a venue: 201 with Location, ETag and the stored representation, readable at Location", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const res = await call("POST", "/v1/venues", {
      token,
      body: { ...OWNER_BODY, name: "  Grand Hall  ", addressLine2: "Back entrance", region: "Berlin", postalCode: "10115" },
    });
    expect(res.status, res.text).toBe(201);
    const v = res.body;
    expect(v).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "Grand Hall",
      addressLine1: "1 Main Street",
      addressLine2: "Back entrance",
      city: "Berlin",
      region: "Berlin",
      postalCode: "10115",
      country: "DE",
      timezone: "Europe/Berlin",
      capacity: 500,
      version: 1,
      createdBy: t.owner.id,
      createdAt: expect.any(String),
      updatedAt: v.createdAt,
    });
    expect(res.headers.get("location")).toBe(`/v1/venues/${v.id}`);
    expect(res.headers.get("etag")).toBe('"v1"');

    const got = await call("GET", res.headers.get("location")!, { token });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toEqual(v);
    expect(got.headers.get("etag")).toBe('"v1"');
  });

  it("stores omitted optional address fields as null", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/venues", { token: t.owner.tokens.accessToken, body: OWNER_BODY });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ addressLine2: null, region: null, postalCode: null });
  });

  it("lets an admin and a venues:write API key create venues; the key is recorded as creator and actor", async () => {
    const t = await createTenant();
    const admin = await userWithRole(t, "admin");
    const byAdmin = await call("POST", "/v1/venues", { token: admin.tokens.accessToken, body: OWNER_BODY });
    expect(byAdmin.status, byAdmin.text).toBe(201);
    expect(byAdmin.body.createdBy).toBe(admin.id);

    const key = await createApiKey(t, ["venues:write"]);
    const byKey = await call("POST", "/v1/venues", { token: key.key, body: OWNER_BODY });
    expect(byKey.status, byKey.text).toBe(201);
    expect(byKey.body.createdBy).toBe(`api_key:${key.id}`);
    const [created] = await auditOf(t.owner.tokens.accessToken, byKey.body.id);
    expect(created).toMatchObject({ action: "venue.created", actorType: "api_key", actorId: key.id });
  });

  it("lists the tenant's venues in creation order across pages, to every staff role", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call("POST", "/v1/venues", { token, body: { ...OWNER_BODY, name: `Venue ${i}` } });
      expect(res.status, res.text).toBe(201);
      ids.push(res.body.id);
    }
    const all = await listAll<{ id: string; name: string }>("/v1/venues", token, 2);
    expect(all.map((v) => v.id)).toEqual(ids);
    expect(all.map((v) => v.name)).toEqual(["Venue 0", "Venue 1", "Venue 2", "Venue 3", "Venue 4"]);

    for (const role of ["organizer", "scanner"] as const) {
      const u = await userWithRole(t, role);
      const list = await call("GET", "/v1/venues?limit=100", { token: u.tokens.accessToken });
      expect(list.status, list.text).toBe(200);
      expect(list.body.items.map((v: { id: string }) => v.id)).toEqual(ids);
      const one = await call("GET", `/v1/venues/${ids[0]}`, { token: u.tokens.accessToken });
      expect(one.status, one.text).toBe(200);
    }
  });

  it("updates only the fields sent, clears nullable ones with null, bumps version and ETag", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = (await call("POST", "/v1/venues", { token, body: { ...OWNER_BODY, addressLine2: "Side door", postalCode: "10115" } })).body;

    const res = await call("PATCH", `/v1/venues/${v.id}`, {
      token,
      headers: { "if-match": '"v1"' },
      body: { name: "Renamed Hall", capacity: 1_000_000, addressLine2: null, timezone: "America/New_York" },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("etag")).toBe('"v2"');
    expect(res.body).toMatchObject({
      name: "Renamed Hall",
      capacity: 1_000_000,
      addressLine2: null,
      timezone: "America/New_York",
      postalCode: "10115",
      city: "Berlin",
      version: 2,
      createdAt: v.createdAt,
    });
    const got = await call("GET", `/v1/venues/${v.id}`, { token });
    expect(got.body).toEqual(res.body);
    expect(got.headers.get("etag")).toBe('"v2"');
  });

  it("records create, update (before/after of the changed fields only) and delete in the audit log", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = (await call("POST", "/v1/venues", { token, body: OWNER_BODY })).body;
    const patched = await call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 1, name: "New Name", capacity: 800, city: "Berlin" } });
    expect(patched.status, patched.text).toBe(200);
    const deleted = await call("DELETE", `/v1/venues/${v.id}`, { token, headers: { "if-match": '"v2"' } });
    expect(deleted.status, deleted.text).toBe(204);

    const entries = await auditOf(token, v.id);
    expect(entries.map((e) => e.action)).toEqual(["venue.created", "venue.updated", "venue.deleted"]);
    for (const e of entries) expect(e).toMatchObject({ actorType: "user", actorId: t.owner.id, targetType: "venue", targetId: v.id });
    expect(entries[0]!.details).toMatchObject({ name: "Hall One", city: "Berlin", country: "DE", capacity: 500, timezone: "Europe/Berlin" });
    // city was sent unchanged: it is not part of the diff.
    expect(entries[1]!.details).toEqual({ before: { name: "Hall One", capacity: 500 }, after: { name: "New Name", capacity: 800 } });
    expect(entries[2]!.details).toMatchObject({ name: "New Name" });
  });

  it("answers a PATCH that changes nothing with the venue as it is: no new version, no audit entry", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = (await call("POST", "/v1/venues", { token, body: OWNER_BODY })).body;
    const res = await call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 1, name: "Hall One", capacity: 500 } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual(v);
    expect(res.headers.get("etag")).toBe('"v1"');
    expect((await auditOf(token, v.id)).map((e) => e.action)).toEqual(["venue.created"]);
  });

  it("bumps the tenant's catalogue version with each venue change, so cached catalogue pages showing it expire", async () => {
    const t = await createTenant();
    const token = t.owner.tokens.accessToken;
    const v = (await call("POST", "/v1/venues", { token, body: OWNER_BODY })).body;
    const before = await catalogVersion(t.id);
    expect((await call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 1, name: "Other" } })).status).toBe(200);
    expect(await catalogVersion(t.id)).toBe(before + 1);
    // A refused (stale) write changes nothing.
    expect((await call("PATCH", `/v1/venues/${v.id}`, { token, body: { version: 1, name: "Stale" } })).status).toBe(409);
    expect(await catalogVersion(t.id)).toBe(before + 1);
    expect((await call("DELETE", `/v1/venues/${v.id}?version=2`, { token })).status).toBe(204);
    expect(await catalogVersion(t.id)).toBe(before + 2);
  });
});
