import { describe, expect, it } from "vitest";
import { createTenant, login, platformKey, registerUser, STRONG_PASSWORD, tokenFromEmail, unique, waitForEmail } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { reactivateTenant, stableProblem, suspendTenant, waitForNthEmail } from "./support";

const register = (tenant: string, email: string, password = STRONG_PASSWORD) =>
  call("POST", "/v1/auth/register", { body: { tenant, email, password, name: "Some One" } });

describe("register", () => {
  it("creates an unverified customer whose tokens work at once, and queues a verification email", async () => {
    const t = await createTenant();
    const email = `${unique("new")}@example.test`;
    const res = await register(t.slug, email);
    expect(res.status, res.text).toBe(201);
    expect(res.body.user).toMatchObject({ email, name: "Some One", role: "customer", status: "active", emailVerified: false, lastLoginAt: null });
    expect(res.text).not.toMatch(/passwordHash|password_hash|tokenVersion/);
    expect(res.body.tokens).toMatchObject({ tokenType: "Bearer", accessToken: expect.any(String), refreshToken: expect.stringMatching(/^bor_/) });

    const me = await call("GET", "/v1/me", { token: res.body.tokens.accessToken });
    expect(me.status, me.text).toBe(200);
    expect(me.body).toMatchObject({ id: res.body.user.id, email, role: "customer", emailVerified: false });

    const refreshed = await call("POST", "/v1/auth/refresh", { body: { refreshToken: res.body.tokens.refreshToken } });
    expect(refreshed.status, refreshed.text).toBe(200);

    const mail = await waitForEmail(email, "verify_email");
    expect(mail.body).toMatch(/\/verify-email\?token=[A-Za-z0-9_-]{20,}/);
  });

  it("refuses an email already registered in the tenant, whatever its case, but not in another tenant", async () => {
    const t = await createTenant();
    const local = unique("dup");
    await registerUser(t, `${local}@example.test`);

    expectProblem(await register(t.slug, `${local}@example.test`), 409, "EMAIL_TAKEN");
    expectProblem(await register(t.slug, `${local.toUpperCase()}@Example.TEST`), 409, "EMAIL_TAKEN");

    const other = await createTenant();
    const elsewhere = await register(other.slug, `${local}@example.test`);
    expect(elsewhere.status, elsewhere.text).toBe(201);
  });

  it("refuses weak passwords with 422 WEAK_PASSWORD naming the field", async () => {
    const t = await createTenant();
    const local = unique("weakling");
    for (const password of ["short pw", "a".repeat(20), `my ${local} password`]) {
      const p = expectProblem(await register(t.slug, `${local}@example.test`, password), 422, "WEAK_PASSWORD");
      expect(p.errors).toEqual([expect.objectContaining({ field: "body.password" })]);
    }
    // None of the refused attempts created the account.
    expect((await register(t.slug, `${local}@example.test`)).status).toBe(201);
  });

  it("answers 404 for an unknown tenant", async () => {
    expectProblem(await register(unique("nosuch"), `${unique("u")}@example.test`), 404, "NOT_FOUND");
  });

  it("a suspended tenant accepts neither registrations nor logins until reactivated", async () => {
    const t = await createTenant();
    const customer = await registerUser(t);
    await suspendTenant(t.id, platformKey());

    expectProblem(await register(t.slug, `${unique("u")}@example.test`), 404, "NOT_FOUND");
    for (const who of [t.owner, customer]) {
      const res = await call("POST", "/v1/auth/login", { body: { tenant: t.slug, email: who.email, password: who.password } });
      expectProblem(res, 401, "INVALID_CREDENTIALS");
    }

    await reactivateTenant(t.id, platformKey());
    await login(t.slug, customer.email, customer.password);
    expect((await register(t.slug, `${unique("u")}@example.test`)).status).toBe(201);
  });
});

describe("login", () => {
  it("returns the user and working tokens, and records the login time", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const before = Date.now();
    const res = await call("POST", "/v1/auth/login", { body: { tenant: t.slug, email: u.email.toUpperCase(), password: u.password } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.user).toMatchObject({ id: u.id, email: u.email, role: "customer" });
    expect(Date.parse(res.body.user.lastLoginAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(res.body.tokens.refreshToken).not.toBe(u.tokens.refreshToken);

    const me = await call("GET", "/v1/me", { token: res.body.tokens.accessToken });
    expect(me.status, me.text).toBe(200);
    expect(me.body.lastLoginAt).toBe(res.body.user.lastLoginAt);
  });

  it("answers a wrong password and an unknown email with the same 401 body", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const wrong = await call("POST", "/v1/auth/login", { body: { tenant: t.slug, email: u.email, password: "not the right password" } });
    const unknown = await call("POST", "/v1/auth/login", {
      body: { tenant: t.slug, email: `${unique("ghost")}@example.test`, password: "not the right password" },
    });
    expectProblem(wrong, 401, "INVALID_CREDENTIALS");
    expectProblem(unknown, 401, "INVALID_CREDENTIALS");
    expect(stableProblem(wrong)).toEqual(stableProblem(unknown));
    expect(wrong.body.requestId).not.toBe(unknown.body.requestId);
  });

  it("refuses a banned user with 403 FORBIDDEN even with the right password", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const ban = await call("POST", `/v1/users/${u.id}/ban`, { token: t.owner.tokens.accessToken, body: { reason: "chargebacks" } });
    expect(ban.status, ban.text).toBe(200);
    const res = await call("POST", "/v1/auth/login", { body: { tenant: t.slug, email: u.email, password: u.password } });
    expectProblem(res, 403, "FORBIDDEN");
    expect(res.text).not.toContain("refreshToken");
  });
});

describe("email verification", () => {
  it("a verification token works once", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const token = tokenFromEmail(await waitForEmail(u.email, "verify_email"));

    const first = await call("POST", "/v1/auth/verify-email", { body: { token } });
    expect(first.status, first.text).toBe(204);
    expect((await call("GET", "/v1/me", { token: u.tokens.accessToken })).body.emailVerified).toBe(true);

    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token } }), 422, "ONE_TIME_TOKEN_INVALID");
  });

  it("refuses a password-reset token, which stays usable for its own purpose", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const req = await call("POST", "/v1/auth/password-reset/request", { body: { tenant: t.slug, email: u.email } });
    expect(req.status, req.text).toBe(202);
    const resetToken = tokenFromEmail(await waitForEmail(u.email, "password_reset"));

    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token: resetToken } }), 422, "ONE_TIME_TOKEN_INVALID");
    expect((await call("GET", "/v1/me", { token: u.tokens.accessToken })).body.emailVerified).toBe(false);

    const reset = await call("POST", "/v1/auth/password-reset/confirm", { body: { token: resetToken, newPassword: "a brand new passphrase" } });
    expect(reset.status, reset.text).toBe(204);
  });

  it("refuses a token nobody issued", async () => {
    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token: "x".repeat(43) } }), 422, "ONE_TIME_TOKEN_INVALID");
  });

  it("resending issues a new token and voids the old one", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const oldToken = tokenFromEmail(await waitForNthEmail(u.email, "verify_email", 1));

    const resend = await call("POST", "/v1/me/verify-email/resend", { token: u.tokens.accessToken });
    expect(resend.status, resend.text).toBe(202);
    const newToken = tokenFromEmail(await waitForNthEmail(u.email, "verify_email", 2));
    expect(newToken).not.toBe(oldToken);

    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token: oldToken } }), 422, "ONE_TIME_TOKEN_INVALID");
    expect((await call("GET", "/v1/me", { token: u.tokens.accessToken })).body.emailVerified).toBe(false);

    const ok = await call("POST", "/v1/auth/verify-email", { body: { token: newToken } });
    expect(ok.status, ok.text).toBe(204);
    expect((await call("GET", "/v1/me", { token: u.tokens.accessToken })).body.emailVerified).toBe(true);
  });
});
