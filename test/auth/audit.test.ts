import { describe, expect, it } from "vitest";
import { createApiKey, createTenant, login, platformKey, registerUser, tokenFromEmail, unique, waitForEmail } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { listAll, reactivateTenant } from "./support";

interface AuditEntry {
  id: string;
  action: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown> | null;
}

const IP = "192.0.2.44";
const UA = "boxoffice-audit-test/1.0 (+https://example.test)";
const OWNER_PW = "the boss passphrase kept secret";
const USER_PW = "user passphrase kept secret";
const WRONG_PW = "a wrong guess of the passphrase";
const NEW_PW = "changed passphrase kept secret";
const RESET_PW = "reset passphrase kept secret";

/** Request ids must be unique across the file (entries are matched on them) and use only [A-Za-z0-9_=-]. */
const rid = (label: string) => `${label.replaceAll(".", "_")}-${unique("rq")}`;
const headers = (requestId: string) => ({ "x-request-id": requestId, "cf-connecting-ip": IP, "user-agent": UA });

async function auditLog(token: string): Promise<AuditEntry[]> {
  return listAll<AuditEntry>("/v1/audit-log", token, 100);
}

describe("what the audit log records", () => {
  it("records each auth and admin event with actor, request id, ip and user agent, and no secrets", async () => {
    const expected: { requestId: string; action: string; actorType: string; actorId: string | null; targetId: string | null }[] = [];
    const secrets: string[] = [OWNER_PW, USER_PW, WRONG_PW, NEW_PW, RESET_PW];
    const step = async (action: string, actorType: string, actorId: string | null, targetId: string | null, send: (r: string) => Promise<any>) => {
      const requestId = rid(action);
      const res = await send(requestId);
      expect(res.status, res.text).toBeLessThan(300);
      expect(res.headers.get("x-request-id")).toBe(requestId);
      return { res, requestId, record: (target = targetId) => expected.push({ requestId, action, actorType, actorId, targetId: target }) };
    };

    // Platform creates the tenant.
    const slug = unique("audit");
    const ownerEmail = `owner@${slug}.test`;
    const created = await step("tenant.created", "platform", null, null, (r) =>
      call("POST", "/v1/platform/tenants", {
        token: platformKey(),
        headers: headers(r),
        body: { slug, name: "Audited", owner: { email: ownerEmail, name: "Owner", password: OWNER_PW } },
      }),
    );
    const tenantId: string = created.res.body.tenant.id;
    const ownerId: string = created.res.body.ownerId;
    created.record(tenantId);

    const ownerLogin = await step("auth.login.succeeded", "user", ownerId, ownerId, (r) =>
      call("POST", "/v1/auth/login", { headers: headers(r), body: { tenant: slug, email: ownerEmail, password: OWNER_PW } }),
    );
    ownerLogin.record();
    const owner = ownerLogin.res.body.tokens.accessToken as string;
    secrets.push(ownerLogin.res.body.tokens.refreshToken);

    const email = `${unique("member")}@example.test`;
    const reg = await call("POST", "/v1/auth/register", { body: { tenant: slug, email, password: USER_PW, name: "Member" } });
    expect(reg.status, reg.text).toBe(201);
    const userId: string = reg.body.user.id;
    secrets.push(reg.body.tokens.refreshToken);

    const verifyToken = tokenFromEmail(await waitForEmail(email, "verify_email"));
    secrets.push(verifyToken);
    (await step("auth.email.verified", "user", userId, userId, (r) => call("POST", "/v1/auth/verify-email", { headers: headers(r), body: { token: verifyToken } }))).record();

    const failedId = rid("auth.login.failed");
    const failed = await call("POST", "/v1/auth/login", { headers: headers(failedId), body: { tenant: slug, email, password: WRONG_PW } });
    expect(expectProblem(failed, 401, "INVALID_CREDENTIALS").requestId).toBe(failedId);
    expected.push({ requestId: failedId, action: "auth.login.failed", actorType: "anonymous", actorId: null, targetId: userId });

    const userLogin = await step("auth.login.succeeded", "user", userId, userId, (r) =>
      call("POST", "/v1/auth/login", { headers: headers(r), body: { tenant: slug, email, password: USER_PW } }),
    );
    userLogin.record();
    secrets.push(userLogin.res.body.tokens.refreshToken);

    const refreshed = await step("auth.refreshed", "user", userId, userId, (r) =>
      call("POST", "/v1/auth/refresh", { headers: headers(r), body: { refreshToken: userLogin.res.body.tokens.refreshToken } }),
    );
    refreshed.record();
    secrets.push(refreshed.res.body.refreshToken);

    (await step("auth.logout", "user", userId, userId, (r) =>
      call("POST", "/v1/auth/logout", { headers: headers(r), body: { refreshToken: refreshed.res.body.refreshToken } }),
    )).record();

    const changed = await step("auth.password.changed", "user", userId, userId, (r) =>
      call("POST", "/v1/me/password", { token: reg.body.tokens.accessToken, headers: headers(r), body: { currentPassword: USER_PW, newPassword: NEW_PW } }),
    );
    changed.record();
    secrets.push(changed.res.body.refreshToken);

    (await step("auth.password.reset_requested", "anonymous", null, userId, (r) =>
      call("POST", "/v1/auth/password-reset/request", { headers: headers(r), body: { tenant: slug, email } }),
    )).record();
    const resetToken = tokenFromEmail(await waitForEmail(email, "password_reset"));
    secrets.push(resetToken);
    const reset = await call("POST", "/v1/auth/password-reset/confirm", { body: { token: resetToken, newPassword: RESET_PW } });
    expect(reset.status, reset.text).toBe(204);

    const adminAct = (action: string, method: string, path: string, body?: unknown) =>
      step(action, "user", ownerId, null, (r) => call(method, path, { token: owner, headers: headers(r), body }));
    (await adminAct("user.banned", "POST", `/v1/users/${userId}/ban`, { reason: "testing the log" })).record(userId);
    (await adminAct("user.unbanned", "POST", `/v1/users/${userId}/unban`)).record(userId);
    (await adminAct("user.role_changed", "PATCH", `/v1/users/${userId}/role`, { role: "organizer" })).record(userId);
    const keyCreated = await adminAct("api_key.created", "POST", "/v1/api-keys", { name: "audited key", scopes: ["users:read"] });
    keyCreated.record(keyCreated.res.body.id);
    secrets.push(keyCreated.res.body.key, keyCreated.res.body.key.split("_").slice(2).join("_"));
    (await adminAct("api_key.revoked", "DELETE", `/v1/api-keys/${keyCreated.res.body.id}`)).record(keyCreated.res.body.id);

    (await step("tenant.suspended", "platform", null, tenantId, (r) =>
      call("POST", `/v1/platform/tenants/${tenantId}/suspend`, { token: platformKey(), headers: headers(r), body: { reason: "audit test" } }),
    )).record();
    await reactivateTenant(tenantId, platformKey());

    const log = await auditLog(owner);
    for (const e of expected) {
      const matches = log.filter((x) => x.requestId === e.requestId && x.action === e.action);
      expect(matches, `${e.action} (${e.requestId})`).toHaveLength(1);
      expect(matches[0]).toMatchObject({ ...e, ip: IP, userAgent: UA });
    }
    expect(log.find((x) => x.action === "user.role_changed")!.details).toEqual({ from: "customer", to: "organizer" });
    expect(log.find((x) => x.action === "user.banned")!.details).toMatchObject({ reason: "testing the log" });
    // A reset confirmed without our headers is still recorded.
    expect(log.some((x) => x.action === "auth.password.reset" && x.targetId === userId)).toBe(true);

    const text = JSON.stringify(log);
    for (const s of secrets) expect(text, "the audit log leaks a secret").not.toContain(s);
  });

  it("an API key with audit:read reads the log, and actions by a key are attributed to it", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const reader = await createApiKey(t, ["audit:read"]);
    const writer = await createApiKey(t, ["users:read", "users:write"]);
    const requestId = rid("bykey");
    const res = await call("PATCH", `/v1/users/${u.id}/role`, { token: writer.key, headers: headers(requestId), body: { role: "scanner" } });
    expect(res.status, res.text).toBe(200);

    const log = await auditLog(reader.key);
    expect(log.find((x) => x.requestId === requestId)).toMatchObject({
      action: "user.role_changed",
      actorType: "api_key",
      actorId: writer.id,
      targetId: u.id,
      ip: IP,
      userAgent: UA,
    });
    expect(log.filter((x) => x.action === "api_key.created").map((x) => x.targetId).sort()).toEqual([reader.id, writer.id].sort());
    expectProblem(await call("GET", "/v1/audit-log", { token: writer.key }), 403, "INSUFFICIENT_SCOPE");
  });

  it("filters by action and target", async () => {
    const t = await createTenant();
    const a = await registerUser(t);
    const b = await registerUser(t);
    for (const u of [a, b]) expect((await call("POST", `/v1/users/${u.id}/ban`, { token: t.owner.tokens.accessToken, body: { reason: "filtering" } })).status).toBe(200);

    const bans = await listAll<AuditEntry>("/v1/audit-log?action=user.banned", t.owner.tokens.accessToken, 1);
    expect(bans.map((x) => x.targetId).sort()).toEqual([a.id, b.id].sort());
    const aboutA = await listAll<AuditEntry>(`/v1/audit-log?targetId=${a.id}`, t.owner.tokens.accessToken, 100);
    expect(aboutA.length).toBeGreaterThan(0);
    expect(aboutA.every((x) => x.targetId === a.id)).toBe(true);
  });

  it("is closed to roles other than owner and admin", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    expectProblem(await call("GET", "/v1/audit-log", { token: u.tokens.accessToken }), 403, "FORBIDDEN");
  });
});

describe("tenant isolation", () => {
  it("tenant B's audit log never contains tenant A's entries", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const aUser = await registerUser(a);
    const marker = rid("tenant-a");
    await call("POST", "/v1/auth/login", { headers: headers(marker), body: { tenant: a.slug, email: aUser.email, password: "wrong wrong wrong" } });
    expect((await call("POST", `/v1/users/${aUser.id}/ban`, { token: a.owner.tokens.accessToken, headers: headers(marker), body: { reason: "isolation" } })).status).toBe(200);
    await login(b.slug, b.owner.email, b.owner.password);

    const aLog = await auditLog(a.owner.tokens.accessToken);
    const bLog = await auditLog(b.owner.tokens.accessToken);
    expect(aLog.filter((x) => x.requestId === marker)).toHaveLength(2);
    expect(bLog.some((x) => x.action === "tenant.created" && x.targetId === b.id)).toBe(true);

    const aIds = new Set(aLog.map((x) => x.id));
    const aSubjects = [a.id, a.owner.id, aUser.id];
    for (const e of bLog) {
      expect(aIds.has(e.id)).toBe(false);
      expect(e.requestId).not.toBe(marker);
      expect(aSubjects).not.toContain(e.targetId);
      expect(aSubjects).not.toContain(e.actorId);
    }
    expect(await listAll(`/v1/audit-log?targetId=${aUser.id}`, b.owner.tokens.accessToken, 100)).toEqual([]);
  });
});
