import { describe, expect, it } from "vitest";
import { createTenant, login, registerUser, userWithRole } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { listAll } from "./support";

const setRole = (token: string, userId: string, role: string) => call("PATCH", `/v1/users/${userId}/role`, { token, body: { role } });
const ban = (token: string, userId: string) => call("POST", `/v1/users/${userId}/ban`, { token, body: { reason: "abusive messages" } });
const unban = (token: string, userId: string) => call("POST", `/v1/users/${userId}/unban`, { token });
const tryLogin = (slug: string, email: string, password: string) => call("POST", "/v1/auth/login", { body: { tenant: slug, email, password } });

describe("listing and reading users", () => {
  it("walks every user once with limit=2, and filters by role and status", async () => {
    const t = await createTenant();
    const admin = await userWithRole(t, "admin");
    const organizer = await userWithRole(t, "organizer");
    const customers = [await registerUser(t), await registerUser(t), await registerUser(t)];
    expect((await ban(t.owner.tokens.accessToken, customers[0]!.id)).status).toBe(200);

    const all = await listAll<{ id: string; email: string }>("/v1/users", t.owner.tokens.accessToken, 2);
    const ids = all.map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set([t.owner.id, admin.id, organizer.id, ...customers.map((c) => c.id)]));
    expect(JSON.stringify(all)).not.toMatch(/password|tokenVersion/i);

    const custIds = (await listAll<{ id: string; role: string }>("/v1/users?role=customer", admin.tokens.accessToken, 2)).map((u) => u.id);
    expect(new Set(custIds)).toEqual(new Set(customers.map((c) => c.id)));

    const banned = await listAll<{ id: string; status: string }>("/v1/users?status=banned", t.owner.tokens.accessToken, 2);
    expect(banned.map((u) => u.id)).toEqual([customers[0]!.id]);
    expect(banned[0]!.status).toBe("banned");

    const activeCustomers = await listAll("/v1/users?role=customer&status=active", t.owner.tokens.accessToken, 2);
    expect(activeCustomers).toHaveLength(2);
  });

  it("rejects a cursor it did not issue", async () => {
    const t = await createTenant();
    const res = await call("GET", "/v1/users?limit=2&cursor=not-a-cursor", { token: t.owner.tokens.accessToken });
    expectProblem(res, 400, "VALIDATION_FAILED");
  });

  it("gets one user, and answers 404 for another tenant's user", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const res = await call("GET", `/v1/users/${u.id}`, { token: t.owner.tokens.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, email: u.email, role: "customer", status: "active" });

    const other = await createTenant();
    expectProblem(await call("GET", `/v1/users/${u.id}`, { token: other.owner.tokens.accessToken }), 404, "NOT_FOUND");
  });

  it("is closed to roles other than owner and admin", async () => {
    const t = await createTenant();
    for (const role of ["organizer", "scanner", "customer"] as const) {
      const u = await userWithRole(t, role);
      expectProblem(await call("GET", "/v1/users", { token: u.tokens.accessToken }), 403, "FORBIDDEN");
    }
    expectProblem(await call("GET", "/v1/users"), 401, "UNAUTHENTICATED");
  });
});

describe("role changes", () => {
  it("an owner promotes a customer to admin, who can then manage users with the same token", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    expectProblem(await call("GET", "/v1/users", { token: u.tokens.accessToken }), 403, "FORBIDDEN");

    const res = await setRole(t.owner.tokens.accessToken, u.id, "admin");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, role: "admin" });
    expect((await call("GET", "/v1/users", { token: u.tokens.accessToken })).status).toBe(200);
    expect((await call("GET", `/v1/users/${u.id}`, { token: t.owner.tokens.accessToken })).body.role).toBe("admin");
  });

  it("an admin can neither grant the owner role nor demote an owner", async () => {
    const t = await createTenant();
    const admin = await userWithRole(t, "admin");
    const u = await registerUser(t);
    expectProblem(await setRole(admin.tokens.accessToken, u.id, "owner"), 403, "FORBIDDEN");
    expectProblem(await setRole(admin.tokens.accessToken, admin.id, "owner"), 403, "FORBIDDEN");
    expectProblem(await setRole(admin.tokens.accessToken, t.owner.id, "customer"), 403, "FORBIDDEN");
    expect((await call("GET", `/v1/users/${u.id}`, { token: t.owner.tokens.accessToken })).body.role).toBe("customer");

    const organizer = await setRole(admin.tokens.accessToken, u.id, "organizer");
    expect(organizer.status, organizer.text).toBe(200);
  });

  it("the last owner cannot be demoted; with a second owner it can", async () => {
    const t = await createTenant();
    expectProblem(await setRole(t.owner.tokens.accessToken, t.owner.id, "admin"), 409, "LAST_OWNER");

    const second = await userWithRole(t, "owner");
    const res = await setRole(second.tokens.accessToken, t.owner.id, "admin");
    expect(res.status, res.text).toBe(200);
    expectProblem(await setRole(second.tokens.accessToken, second.id, "admin"), 409, "LAST_OWNER");
  });

  it("a demoted admin loses access on the next request with the same access token", async () => {
    const t = await createTenant();
    const admin = await userWithRole(t, "admin");
    expect((await call("GET", "/v1/users", { token: admin.tokens.accessToken })).status).toBe(200);

    expect((await setRole(t.owner.tokens.accessToken, admin.id, "customer")).status).toBe(200);
    expectProblem(await call("GET", "/v1/users", { token: admin.tokens.accessToken }), 403, "FORBIDDEN");
    // Still signed in, just no longer an admin.
    expect((await call("GET", "/v1/me", { token: admin.tokens.accessToken })).body.role).toBe("customer");
  });
});

describe("bans", () => {
  it("a ban kills the user's access and refresh tokens at once and blocks login; unban restores login", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    expect((await call("GET", "/v1/me", { token: u.tokens.accessToken })).status).toBe(200);

    const res = await ban(t.owner.tokens.accessToken, u.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, status: "banned" });

    expectProblem(await call("GET", "/v1/me", { token: u.tokens.accessToken }), 401, "TOKEN_INVALID");
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: u.tokens.refreshToken } }), 401, "TOKEN_INVALID");
    expectProblem(await tryLogin(t.slug, u.email, u.password), 403, "FORBIDDEN");

    const lifted = await unban(t.owner.tokens.accessToken, u.id);
    expect(lifted.status, lifted.text).toBe(200);
    expect(lifted.body.status).toBe("active");
    const session = await login(t.slug, u.email, u.password);
    expect((await call("GET", "/v1/me", { token: session.tokens.accessToken })).status).toBe(200);
  });

  it("lifting a ban does not revive the access token the user held before it", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    expect((await ban(t.owner.tokens.accessToken, u.id)).status).toBe(200);
    expect((await unban(t.owner.tokens.accessToken, u.id)).status).toBe(200);
    // The ban ended the sessions (their refresh tokens stay revoked); the access
    // tokens of those sessions must stay dead too, or whoever stole one gets it back.
    expectProblem(await call("GET", "/v1/me", { token: u.tokens.accessToken }), 401, "TOKEN_INVALID");
  });

  it("nobody can ban themselves", async () => {
    const t = await createTenant();
    const admin = await userWithRole(t, "admin");
    expectProblem(await ban(admin.tokens.accessToken, admin.id), 409, "CONFLICT");
    expectProblem(await ban(t.owner.tokens.accessToken, t.owner.id), 409, "CONFLICT");
    expect((await call("GET", "/v1/me", { token: admin.tokens.accessToken })).status).toBe(200);
  });

  it("an admin cannot ban an owner", async () => {
    const t = await createTenant();
    const admin = await userWithRole(t, "admin");
    expectProblem(await ban(admin.tokens.accessToken, t.owner.id), 403, "FORBIDDEN");
    expect((await call("GET", "/v1/me", { token: t.owner.tokens.accessToken })).status).toBe(200);
  });
});
