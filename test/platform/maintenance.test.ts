import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import api from "../../workers/api/index";
import { createTenant, login, registerUser, type TenantFixture, type UserFixture } from "../helpers/fixtures";
import { call } from "../helpers/http";

// Called as the runtime calls it: (event, env, ctx).
const worker: ExportedHandler<Env> = api;

const HOUR = 3600_000;
const DAY = 24 * HOUR;

let tenant: TenantFixture;
beforeAll(async () => {
  tenant = await createTenant();
});

async function runMaintenance(scheduledTime: number) {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime, cron: "*/5 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

type Table = "refresh_tokens" | "one_time_tokens";

async function tokenIds(table: Table, userId: string): Promise<string[]> {
  const { results } = await env.DB.prepare(`SELECT id FROM ${table} WHERE user_id = ? ORDER BY created_at, id`).bind(userId).all<{ id: string }>();
  return results.map((r) => r.id);
}

async function oneTimeTokenId(userId: string, purpose: "verify_email" | "password_reset") {
  const row = await env.DB.prepare("SELECT id FROM one_time_tokens WHERE user_id = ? AND purpose = ?").bind(userId, purpose).first<{ id: string }>();
  expect(row, `${purpose} token of ${userId}`).not.toBeNull();
  return row!.id;
}

/** Moves a token's expiry into the past (created_at moves along: expiry must follow creation). */
async function expireAt(table: Table, id: string, expiresAt: number) {
  const res = await env.DB.prepare(`UPDATE ${table} SET created_at = ?, expires_at = ? WHERE id = ?`).bind(expiresAt - HOUR, expiresAt, id).run();
  expect(res.meta.changes).toBe(1);
}

async function revokedAt(id: string, at: number) {
  const res = await env.DB.prepare("UPDATE refresh_tokens SET revoked_at = ? WHERE id = ?").bind(at, id).run();
  expect(res.meta.changes).toBe(1);
}

/** A registered user with `sessions` refresh tokens: registration's plus `sessions - 1` logins. */
async function userWithSessions(t: TenantFixture, sessions: number): Promise<UserFixture & { refreshIds: string[] }> {
  const u = await registerUser(t);
  for (let i = 1; i < sessions; i++) await login(t.slug, u.email, u.password);
  const refreshIds = await tokenIds("refresh_tokens", u.id);
  expect(refreshIds).toHaveLength(sessions);
  return { ...u, refreshIds };
}

describe("scheduled maintenance", () => {
  it("purges refresh tokens expired more than 7 days before the scheduled time", async () => {
    const now = Date.now();
    const u = await userWithSessions(tenant, 4);
    const [longExpired, exactlySevenDays, recentlyExpired, live] = u.refreshIds as [string, string, string, string];
    await expireAt("refresh_tokens", longExpired, now - 8 * DAY);
    await expireAt("refresh_tokens", exactlySevenDays, now - 7 * DAY);
    await expireAt("refresh_tokens", recentlyExpired, now - 6 * DAY);

    await runMaintenance(now);

    expect(await tokenIds("refresh_tokens", u.id)).toEqual([exactlySevenDays, recentlyExpired, live]);
  });

  it("purges refresh tokens revoked more than 7 days ago, even if not yet expired", async () => {
    const now = Date.now();
    const u = await userWithSessions(tenant, 3);
    const [oldRevoked, recentRevoked, live] = u.refreshIds as [string, string, string];
    await revokedAt(oldRevoked, now - 8 * DAY);
    await revokedAt(recentRevoked, now - 6 * DAY);

    await runMaintenance(now);

    expect(await tokenIds("refresh_tokens", u.id)).toEqual([recentRevoked, live]);
  });

  it("purges one-time tokens expired more than 7 days ago and keeps recent ones", async () => {
    const now = Date.now();
    const a = await registerUser(tenant);
    const reset = await call("POST", "/v1/auth/password-reset/request", { body: { tenant: tenant.slug, email: a.email } });
    expect(reset.status, reset.text).toBe(202);
    const b = await registerUser(tenant);
    const oldVerify = await oneTimeTokenId(a.id, "verify_email");
    const recentReset = await oneTimeTokenId(a.id, "password_reset");
    const freshVerify = await oneTimeTokenId(b.id, "verify_email");
    await expireAt("one_time_tokens", oldVerify, now - 8 * DAY);
    await expireAt("one_time_tokens", recentReset, now - 6 * DAY);

    await runMaintenance(now);

    expect(await tokenIds("one_time_tokens", a.id)).toEqual([recentReset]);
    expect(await tokenIds("one_time_tokens", b.id)).toEqual([freshVerify]);
  });

  it("measures age from the controller's scheduledTime, across all tenants, leaving live sessions working", async () => {
    const other = await createTenant();
    const users = [await userWithSessions(tenant, 1), await userWithSessions(other, 1)];

    await runMaintenance(Date.now());
    for (const u of users) {
      expect(await tokenIds("refresh_tokens", u.id)).toEqual(u.refreshIds);
      expect(await tokenIds("one_time_tokens", u.id)).toHaveLength(1);
    }
    const refreshed = await call("POST", "/v1/auth/refresh", { body: { refreshToken: users[0]!.tokens.refreshToken } });
    expect(refreshed.status, refreshed.text).toBe(200);

    // 40 days on, every token issued today (30-day refresh TTL, 1-day verification)
    // expired more than a week before.
    await runMaintenance(Date.now() + 40 * DAY);
    for (const u of users) {
      expect(await tokenIds("refresh_tokens", u.id)).toEqual([]);
      expect(await tokenIds("one_time_tokens", u.id)).toEqual([]);
    }
  });
});
