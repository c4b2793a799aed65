import { describe, expect, it } from "vitest";
import { createApiKey, createTenant, login, platformKey, STRONG_PASSWORD, unique } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { listAll, reactivateTenant, suspendTenant } from "./support";

const createBody = (slug: string, password = STRONG_PASSWORD) => ({
  slug,
  name: `Tenant ${slug}`,
  owner: { email: `boss@${slug}.test`, name: "Boss", password },
});

describe("platform authentication", () => {
  it("requires the platform key; tenant credentials do not open it", async () => {
    const t = await createTenant();
    const { key } = await createApiKey(t, ["users:read", "users:write", "audit:read"]);
    expectProblem(await call("GET", "/v1/platform/tenants"), 401, "UNAUTHENTICATED");
    expectProblem(await call("GET", "/v1/platform/tenants", { token: `${platformKey()}x` }), 401, "TOKEN_INVALID");
    expectProblem(await call("GET", "/v1/platform/tenants", { token: t.owner.tokens.accessToken }), 401, "TOKEN_INVALID");
    expectProblem(await call("POST", "/v1/platform/tenants", { token: key, body: createBody(unique("p")) }), 401, "TOKEN_INVALID");
  });
});

describe("creating tenants", () => {
  it("creates a tenant with a verified owner who can log in; a taken slug is 409", async () => {
    const slug = unique("plat");
    const res = await call("POST", "/v1/platform/tenants", { token: platformKey(), body: createBody(slug) });
    expect(res.status, res.text).toBe(201);
    expect(res.body.tenant).toMatchObject({ slug, name: `Tenant ${slug}`, status: "active", suspendedReason: null, suspendedAt: null });
    expect(res.headers.get("location")).toBe(`/v1/platform/tenants/${res.body.tenant.id}`);

    const session = await login(slug, `boss@${slug}.test`, STRONG_PASSWORD);
    expect(session.user).toMatchObject({ id: res.body.ownerId, role: "owner" });
    const me = await call("GET", "/v1/me", { token: session.tokens.accessToken });
    expect(me.body.emailVerified).toBe(true);

    const again = await call("POST", "/v1/platform/tenants", { token: platformKey(), body: { ...createBody(slug), owner: { ...createBody(slug).owner, email: "other@x.test" } } });
    expectProblem(again, 409, "TENANT_SLUG_TAKEN");
  });

  it("refuses a weak owner password", async () => {
    const res = await call("POST", "/v1/platform/tenants", { token: platformKey(), body: createBody(unique("weak"), "short") });
    expectProblem(res, 422, "WEAK_PASSWORD");
  });

  it("lists tenants page by page without duplicates, and filters by status", async () => {
    const mine = [await createTenant(), await createTenant(), await createTenant()];
    await suspendTenant(mine[1]!.id, platformKey());

    const all = await listAll<{ id: string; status: string }>("/v1/platform/tenants", platformKey(), 2);
    const ids = all.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of mine) expect(ids).toContain(t.id);

    const suspended = await listAll<{ id: string; status: string }>("/v1/platform/tenants?status=suspended", platformKey(), 2);
    expect(suspended.every((x) => x.status === "suspended")).toBe(true);
    expect(suspended.map((x) => x.id)).toContain(mine[1]!.id);
    expect(suspended.map((x) => x.id)).not.toContain(mine[0]!.id);
  });
});

describe("suspension", () => {
  it("a suspended tenant's tokens and API keys stop working at once, and work again after reactivation", async () => {
    const t = await createTenant();
    const { key } = await createApiKey(t, ["users:read"]);
    expect((await call("GET", "/v1/users", { token: key })).status).toBe(200);

    await suspendTenant(t.id, platformKey());
    const got = await call("GET", `/v1/platform/tenants/${t.id}`, { token: platformKey() });
    expect(got.body).toMatchObject({ status: "suspended", suspendedReason: "unpaid invoices", suspendedAt: expect.any(String) });

    expectProblem(await call("GET", "/v1/me", { token: t.owner.tokens.accessToken }), 401, "TOKEN_INVALID");
    expectProblem(await call("GET", "/v1/users", { token: key }), 401, "TOKEN_INVALID");
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: t.owner.tokens.refreshToken } }), 401, "TOKEN_INVALID");

    await reactivateTenant(t.id, platformKey());
    expect((await call("GET", "/v1/me", { token: t.owner.tokens.accessToken })).status).toBe(200);
    expect((await call("GET", "/v1/users", { token: key })).status).toBe(200);
    expect((await call("POST", "/v1/auth/refresh", { body: { refreshToken: t.owner.tokens.refreshToken } })).status).toBe(200);
  });

  it("suspending one tenant leaves the others alone", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await suspendTenant(a.id, platformKey());
    expect((await call("GET", "/v1/me", { token: b.owner.tokens.accessToken })).status).toBe(200);
  });

  it("answers 404 for a tenant that does not exist", async () => {
    const missing = "01938a3c-6f1e-7c2a-9d4b-2f5e8a7c1b3d";
    expectProblem(await call("POST", `/v1/platform/tenants/${missing}/suspend`, { token: platformKey(), body: { reason: "nope" } }), 404, "NOT_FOUND");
    expectProblem(await call("POST", `/v1/platform/tenants/${missing}/reactivate`, { token: platformKey() }), 404, "NOT_FOUND");
  });
});
