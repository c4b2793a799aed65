import { describe, expect, it } from "vitest";
import { createTenant, login, registerUser, tokenFromEmail, unique, waitForEmail, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { emailsTo, expireRow } from "./support";

const refresh = (refreshToken: string) => call("POST", "/v1/auth/refresh", { body: { refreshToken } });
const logout = (refreshToken: string) => call("POST", "/v1/auth/logout", { body: { refreshToken } });
const me = (token: string) => call("GET", "/v1/me", { token });
const tryLogin = (t: TenantFixture, email: string, password: string) =>
  call("POST", "/v1/auth/login", { body: { tenant: t.slug, email, password } });
const NEW_PASSWORD = "an entirely different passphrase";

describe("refresh", () => {
  it("rotates: the successor works, the used token is reuse and revokes the whole family", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const first = await refresh(u.tokens.refreshToken);
    expect(first.status, first.text).toBe(200);
    expect(first.body.refreshToken).not.toBe(u.tokens.refreshToken);
    expect(first.body.accessToken).not.toBe(u.tokens.accessToken);
    expect((await me(first.body.accessToken)).status).toBe(200);

    expectProblem(await refresh(u.tokens.refreshToken), 401, "REFRESH_TOKEN_REUSED");
    // The successor, which the thief or the owner holds, died with the family.
    expectProblem(await refresh(first.body.refreshToken), 401, "TOKEN_INVALID");
  });

  it("reuse in one session leaves the user's other sessions alone", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const other = await login(t.slug, u.email, u.password);
    const rotated = await refresh(u.tokens.refreshToken);
    expect(rotated.status).toBe(200);
    expectProblem(await refresh(u.tokens.refreshToken), 401, "REFRESH_TOKEN_REUSED");

    const stillFine = await refresh(other.tokens.refreshToken);
    expect(stillFine.status, stillFine.text).toBe(200);
  });

  // Two presentations of one refresh token are reuse, even when simultaneous (ADR 0002):
  // at most one rotation may answer 200, and whatever it returned is dead afterwards.
  it("treats two concurrent refreshes with the same token as reuse and ends the session", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const results = await Promise.all([refresh(u.tokens.refreshToken), refresh(u.tokens.refreshToken)]);
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    expectProblem(results.find((r) => r.status === 401)!, 401, "REFRESH_TOKEN_REUSED");
    for (const r of ok) {
      expect((await refresh(r.body.refreshToken)).status).toBe(401);
      expectProblem(await call("GET", "/v1/me", { token: r.body.accessToken }), 401, "TOKEN_INVALID");
    }
    expectProblem(await call("GET", "/v1/me", { token: u.tokens.accessToken }), 401, "TOKEN_INVALID");
  });

  it("refuses a token nobody issued", async () => {
    expectProblem(await refresh(`bor_${"A".repeat(43)}`), 401, "TOKEN_INVALID");
  });
});

describe("logout", () => {
  it("revokes the session's family, and answers 204 for tokens it does not know", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const rotated = await refresh(u.tokens.refreshToken);
    expect(rotated.status).toBe(200);

    const out = await logout(rotated.body.refreshToken);
    expect(out.status, out.text).toBe(204);
    expectProblem(await refresh(rotated.body.refreshToken), 401, "TOKEN_INVALID");
    // The session's access tokens end with it, not 15 minutes later.
    expectProblem(await me(rotated.body.accessToken), 401, "TOKEN_INVALID");

    expect((await logout(rotated.body.refreshToken)).status).toBe(204);
    expect((await logout(`bor_${"B".repeat(43)}`)).status).toBe(204);
  });
});

describe("password change", () => {
  it("refuses a wrong current password with 401 INVALID_CREDENTIALS and changes nothing", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const res = await call("POST", "/v1/me/password", { token: u.tokens.accessToken, body: { currentPassword: "not my password!", newPassword: NEW_PASSWORD } });
    const p = expectProblem(res, 401, "INVALID_CREDENTIALS");
    expect(p.errors).toEqual([expect.objectContaining({ field: "body.currentPassword" })]);
    expect((await me(u.tokens.accessToken)).status).toBe(200);
    await login(t.slug, u.email, u.password);
  });

  it("refuses a weak new password with 422 WEAK_PASSWORD", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const res = await call("POST", "/v1/me/password", { token: u.tokens.accessToken, body: { currentPassword: u.password, newPassword: "tiny" } });
    expectProblem(res, 422, "WEAK_PASSWORD");
    await login(t.slug, u.email, u.password);
  });

  it("returns new tokens, kills every old access and refresh token, and emails the user", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const otherDevice = await login(t.slug, u.email, u.password);
    const startedAt = Date.now();

    const res = await call("POST", "/v1/me/password", { token: u.tokens.accessToken, body: { currentPassword: u.password, newPassword: NEW_PASSWORD } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ tokenType: "Bearer", accessToken: expect.any(String), refreshToken: expect.stringMatching(/^bor_/) });

    for (const old of [u.tokens, otherDevice.tokens]) {
      expectProblem(await me(old.accessToken), 401, "TOKEN_INVALID");
      expectProblem(await refresh(old.refreshToken), 401, "TOKEN_INVALID");
    }
    expect((await me(res.body.accessToken)).status).toBe(200);
    expect((await refresh(res.body.refreshToken)).status).toBe(200);

    expectProblem(await tryLogin(t, u.email, u.password), 401, "INVALID_CREDENTIALS");
    await login(t.slug, u.email, NEW_PASSWORD);
    await waitForEmail(u.email, "password_changed", { after: startedAt });
  });
});

describe("password reset", () => {
  it("always answers 202 and emails only existing accounts", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const ghost = `${unique("ghost")}@example.test`;
    for (const body of [
      { tenant: t.slug, email: ghost },
      { tenant: unique("nosuch"), email: u.email },
    ]) {
      const res = await call("POST", "/v1/auth/password-reset/request", { body });
      expect(res.status, res.text).toBe(202);
      expect(res.text).toBe("");
    }
    const real = await call("POST", "/v1/auth/password-reset/request", { body: { tenant: t.slug, email: u.email } });
    expect(real.status).toBe(202);
    expect(real.text).toBe("");
    // The real request was queued last; once its email arrived, an email for the
    // unknown address (queued earlier) would have arrived too.
    const mail = await waitForEmail(u.email, "password_reset");
    expect(mail.body).toMatch(/\/reset-password\?token=/);
    expect(await emailsTo(ghost, "password_reset")).toEqual([]);
    expect(await emailsTo(u.email, "password_reset")).toHaveLength(1);
  });

  it("a reset token sets the password once, ends every session and verifies the email", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const other = await login(t.slug, u.email, u.password);
    await call("POST", "/v1/auth/password-reset/request", { body: { tenant: t.slug, email: u.email } });
    const token = tokenFromEmail(await waitForEmail(u.email, "password_reset"));

    const weak = await call("POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword: "short" } });
    expectProblem(weak, 422, "WEAK_PASSWORD");

    const ok = await call("POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword: NEW_PASSWORD } });
    expect(ok.status, ok.text).toBe(204);

    for (const old of [u.tokens, other.tokens]) {
      expectProblem(await me(old.accessToken), 401, "TOKEN_INVALID");
      expectProblem(await refresh(old.refreshToken), 401, "TOKEN_INVALID");
    }
    expectProblem(await tryLogin(t, u.email, u.password), 401, "INVALID_CREDENTIALS");
    const session = await login(t.slug, u.email, NEW_PASSWORD);
    expect((await me(session.tokens.accessToken)).body.emailVerified).toBe(true);

    const again = await call("POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword: "yet another passphrase" } });
    expectProblem(again, 422, "ONE_TIME_TOKEN_INVALID");
    await login(t.slug, u.email, NEW_PASSWORD);
  });

  it("holds the new password to the registration policy, including the email rule", async () => {
    const t = await createTenant();
    const local = unique("resetter");
    const u = await registerUser(t, `${local}@example.test`);
    const containsLocal = `my ${local} password`;
    // The same password is refused when changing it while signed in...
    const change = await call("POST", "/v1/me/password", { token: u.tokens.accessToken, body: { currentPassword: u.password, newPassword: containsLocal } });
    expectProblem(change, 422, "WEAK_PASSWORD");

    // ...and must be refused through a reset too.
    await call("POST", "/v1/auth/password-reset/request", { body: { tenant: t.slug, email: u.email } });
    const token = tokenFromEmail(await waitForEmail(u.email, "password_reset"));
    const res = await call("POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword: containsLocal } });
    expectProblem(res, 422, "WEAK_PASSWORD");
  });

  it("refuses an expired reset token and keeps the old password", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    await call("POST", "/v1/auth/password-reset/request", { body: { tenant: t.slug, email: u.email } });
    const token = tokenFromEmail(await waitForEmail(u.email, "password_reset"));
    await expireRow("one_time_tokens", "user_id = ? AND purpose = 'password_reset' AND used_at IS NULL", u.id);

    const res = await call("POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword: NEW_PASSWORD } });
    expectProblem(res, 422, "ONE_TIME_TOKEN_INVALID");
    expectProblem(await tryLogin(t, u.email, NEW_PASSWORD), 401, "INVALID_CREDENTIALS");
    await login(t.slug, u.email, u.password);
  });
});
