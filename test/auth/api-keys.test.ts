import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApiKey, createTenant, registerUser, userWithRole } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { expireRow, listAll } from "./support";

const KEY_SHAPE = /^bok_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

describe("creating and listing keys", () => {
  it("shows the key once; the listing has its prefix but never the key or its hash", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/api-keys", { token: t.owner.tokens.accessToken, body: { name: "box office sync", scopes: ["users:read"] } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.key).toMatch(/^bok_[0-9a-f]{12}_/);
    expect(res.body.key).toMatch(KEY_SHAPE);
    expect(res.body).toMatchObject({ name: "box office sync", scopes: ["users:read"], revokedAt: null, lastUsedAt: null, expiresAt: null });
    expect(res.body.prefix).toBe(KEY_SHAPE.exec(res.body.key)![1]);
    expect(res.headers.get("location")).toBe(`/v1/api-keys/${res.body.id}`);

    const listed = await call("GET", "/v1/api-keys", { token: t.owner.tokens.accessToken });
    expect(listed.status, listed.text).toBe(200);
    const item = listed.body.items.find((k: { id: string }) => k.id === res.body.id);
    expect(item).toMatchObject({ id: res.body.id, prefix: res.body.prefix, name: "box office sync" });
    for (const k of listed.body.items) {
      expect(k).not.toHaveProperty("key");
      expect(k).not.toHaveProperty("keyHash");
    }
    const secret = res.body.key.split("_").slice(2).join("_");
    expect(listed.text).not.toContain(secret);
    expect(listed.text).not.toContain(res.body.key);
  });

  it("pages through keys newest first without duplicates", async () => {
    const t = await createTenant();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await createApiKey(t, ["users:read"])).id);
    const all = await listAll<{ id: string; createdAt: string }>("/v1/api-keys", t.owner.tokens.accessToken, 2);
    expect(all).toHaveLength(ids.length);
    expect(new Set(all.map((k) => k.id))).toEqual(new Set(ids));
    const times = all.map((k) => Date.parse(k.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it("refuses an expiry in the past and unknown scopes", async () => {
    const t = await createTenant();
    const past = await call("POST", "/v1/api-keys", {
      token: t.owner.tokens.accessToken,
      body: { name: "old", scopes: ["users:read"], expiresAt: new Date(Date.now() - 60_000).toISOString() },
    });
    const p = expectProblem(past, 400, "VALIDATION_FAILED");
    expect(p.errors).toEqual([expect.objectContaining({ field: "body.expiresAt" })]);
    const badScope = await call("POST", "/v1/api-keys", { token: t.owner.tokens.accessToken, body: { name: "x", scopes: ["tenants:delete"] } });
    expectProblem(badScope, 400, "VALIDATION_FAILED");
  });

  it("only owners and admins manage keys", async () => {
    const t = await createTenant();
    const admin = await userWithRole(t, "admin");
    const organizer = await userWithRole(t, "organizer");
    const byAdmin = await call("POST", "/v1/api-keys", { token: admin.tokens.accessToken, body: { name: "a", scopes: ["users:read"] } });
    expect(byAdmin.status, byAdmin.text).toBe(201);
    expectProblem(await call("POST", "/v1/api-keys", { token: organizer.tokens.accessToken, body: { name: "o", scopes: ["users:read"] } }), 403, "FORBIDDEN");
    expectProblem(await call("GET", "/v1/api-keys", { token: organizer.tokens.accessToken }), 403, "FORBIDDEN");
  });
});

describe("using keys", () => {
  it("a users:read key can list users but not change roles", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const { key } = await createApiKey(t, ["users:read"]);
    const list = await call("GET", "/v1/users", { token: key });
    expect(list.status, list.text).toBe(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).toContain(u.id);

    expectProblem(await call("PATCH", `/v1/users/${u.id}/role`, { token: key, body: { role: "admin" } }), 403, "INSUFFICIENT_SCOPE");
    expectProblem(await call("GET", "/v1/audit-log", { token: key }), 403, "INSUFFICIENT_SCOPE");
    expect((await call("GET", `/v1/users/${u.id}`, { token: t.owner.tokens.accessToken })).body.role).toBe("customer");
  });

  it("a users:write key changes roles but cannot touch owners or admins", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const admin = await userWithRole(t, "admin");
    const { key } = await createApiKey(t, ["users:read", "users:write"]);
    const res = await call("PATCH", `/v1/users/${u.id}/role`, { token: key, body: { role: "organizer" } });
    expect(res.status, res.text).toBe(200);
    expectProblem(await call("PATCH", `/v1/users/${u.id}/role`, { token: key, body: { role: "owner" } }), 403, "FORBIDDEN");
    expectProblem(await call("POST", `/v1/users/${t.owner.id}/ban`, { token: key, body: { reason: "takeover" } }), 403, "FORBIDDEN");
    // A key minting an admin would be a path to every scope (admins create keys).
    expectProblem(await call("PATCH", `/v1/users/${u.id}/role`, { token: key, body: { role: "admin" } }), 403, "FORBIDDEN");
    expectProblem(await call("POST", `/v1/users/${admin.id}/ban`, { token: key, body: { reason: "takeover" } }), 403, "FORBIDDEN");
    expectProblem(await call("PATCH", `/v1/users/${admin.id}/role`, { token: key, body: { role: "customer" } }), 403, "FORBIDDEN");
    expect((await call("GET", `/v1/users/${u.id}`, { token: key })).body.role).toBe("organizer");
  });

  it("keys are refused on /v1/me and on key management, whatever their scopes", async () => {
    const t = await createTenant();
    const { key, id } = await createApiKey(t, ["users:read", "users:write", "audit:read"]);
    expectProblem(await call("GET", "/v1/me", { token: key }), 403, "FORBIDDEN");
    expectProblem(await call("GET", "/v1/api-keys", { token: key }), 403, "FORBIDDEN");
    expectProblem(await call("POST", "/v1/api-keys", { token: key, body: { name: "child", scopes: ["users:read"] } }), 403, "FORBIDDEN");
    expectProblem(await call("DELETE", `/v1/api-keys/${id}`, { token: key }), 403, "FORBIDDEN");
    expect((await call("GET", "/v1/users", { token: key })).status).toBe(200);
  });

  it("a key sees only its own tenant", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const inB = await registerUser(b);
    const { key } = await createApiKey(a, ["users:read"]);
    expectProblem(await call("GET", `/v1/users/${inB.id}`, { token: key }), 404, "NOT_FOUND");
    const ids = (await listAll<{ id: string }>("/v1/users", key, 2)).map((u) => u.id);
    expect(ids).toEqual([a.owner.id]);
  });

  it("records when a key was last used", async () => {
    const t = await createTenant();
    const { key, id } = await createApiKey(t, ["users:read"]);
    const listKey = async () => (await call("GET", "/v1/api-keys", { token: t.owner.tokens.accessToken })).body.items.find((k: { id: string }) => k.id === id);
    expect((await listKey()).lastUsedAt).toBeNull();

    const before = Date.now();
    expect((await call("GET", "/v1/users", { token: key })).status).toBe(200);
    const after = await listKey();
    expect(after.lastUsedAt).not.toBeNull();
    expect(Date.parse(after.lastUsedAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("a real prefix with a wrong secret, or a malformed key, is 401 TOKEN_INVALID", async () => {
    const t = await createTenant();
    const { key, prefix } = await createApiKey(t, ["users:read"]);
    const forged = `bok_${prefix}_${"A".repeat(43)}`;
    expect(forged).not.toBe(key);
    expectProblem(await call("GET", "/v1/users", { token: forged }), 401, "TOKEN_INVALID");
    expectProblem(await call("GET", "/v1/users", { token: `${key}x` }), 401, "TOKEN_INVALID");
    expectProblem(await call("GET", "/v1/users", { token: "bok_nothex_short" }), 401, "TOKEN_INVALID");
    expect((await call("GET", "/v1/users", { token: key })).status).toBe(200);
  });
});

describe("revocation and expiry", () => {
  it("a revoked key stops working at once; revoking again is still 204", async () => {
    const t = await createTenant();
    const { key, id } = await createApiKey(t, ["users:read"]);
    expect((await call("GET", "/v1/users", { token: key })).status).toBe(200);

    const del = await call("DELETE", `/v1/api-keys/${id}`, { token: t.owner.tokens.accessToken });
    expect(del.status, del.text).toBe(204);
    expectProblem(await call("GET", "/v1/users", { token: key }), 401, "TOKEN_INVALID");
    expect((await call("DELETE", `/v1/api-keys/${id}`, { token: t.owner.tokens.accessToken })).status).toBe(204);

    const listed = await call("GET", "/v1/api-keys", { token: t.owner.tokens.accessToken });
    expect(listed.body.items.find((k: { id: string }) => k.id === id).revokedAt).not.toBeNull();
  });

  it("another tenant cannot revoke the key", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const { key, id } = await createApiKey(a, ["users:read"]);
    expectProblem(await call("DELETE", `/v1/api-keys/${id}`, { token: b.owner.tokens.accessToken }), 404, "NOT_FOUND");
    expect((await call("GET", "/v1/users", { token: key })).status).toBe(200);
  });

  it("a key works until its expiry and is 401 after it", async () => {
    const t = await createTenant();
    const { key, id } = await createApiKey(t, ["users:read"], { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await call("GET", "/v1/users", { token: key })).status).toBe(200);

    await expireRow("api_keys", "id = ?", id);
    const row = await env.DB.prepare("SELECT expires_at FROM api_keys WHERE id = ?").bind(id).first<{ expires_at: number }>();
    expect(row!.expires_at).toBeLessThan(Date.now());
    expectProblem(await call("GET", "/v1/users", { token: key }), 401, "TOKEN_INVALID");
  });
});
