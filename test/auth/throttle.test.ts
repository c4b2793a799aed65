import { describe, expect, it } from "vitest";
import { createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { freshIp } from "./support";

const WRONG = "definitely not the password";
const attempt = (t: TenantFixture, email: string, password: string, ip: string) =>
  call("POST", "/v1/auth/login", { body: { tenant: t.slug, email, password }, headers: { "cf-connecting-ip": ip } });

async function failTimes(n: number, t: TenantFixture, email: string, ip: string) {
  for (let i = 0; i < n; i++) expectProblem(await attempt(t, email, WRONG, ip), 401, "INVALID_CREDENTIALS");
}

function expectThrottled(res: Awaited<ReturnType<typeof call>>) {
  const p = expectProblem(res, 429, "LOGIN_THROTTLED");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  // Counters forget failures after 15 minutes, so no client waits longer than that.
  expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  expect(res.text).not.toContain("accessToken");
  return p;
}

describe("per account", () => {
  it("after 5 wrong passwords the 6th attempt is 429 with Retry-After, even with the right password", async () => {
    const t = await createTenant();
    const victim = await registerUser(t);
    const bystander = await registerUser(t);
    const ip = freshIp();

    await failTimes(5, t, victim.email, ip);
    expectThrottled(await attempt(t, victim.email, victim.password, ip));
    // Another address does not help: the lock is on the account.
    expectThrottled(await attempt(t, victim.email, victim.password, freshIp()));

    const other = await attempt(t, bystander.email, bystander.password, freshIp());
    expect(other.status, other.text).toBe(200);

    // Each refused attempt is in the audit log, with the address it came from.
    const log = await call("GET", "/v1/audit-log?action=auth.login.throttled", { token: t.owner.tokens.accessToken });
    expect(log.status, log.text).toBe(200);
    expect(log.body.items).toHaveLength(2);
    expect(log.body.items.map((e: { ip: string }) => e.ip)).toContain(ip);
    expect(log.body.items[0].details).toMatchObject({ email: victim.email });
  });

  it("4 failures do not lock the account", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const ip = freshIp();
    await failTimes(4, t, u.email, ip);
    expect((await attempt(t, u.email, u.password, ip)).status).toBe(200);
  });

  it("a successful login resets the counter", async () => {
    const t = await createTenant();
    const u = await registerUser(t);
    const ip = freshIp();

    await failTimes(4, t, u.email, ip);
    expect((await attempt(t, u.email, u.password, ip)).status).toBe(200);
    await failTimes(4, t, u.email, ip);
    const res = await attempt(t, u.email, u.password, ip);
    expect(res.status, res.text).toBe(200);
    // The counter still counts after a reset.
    await failTimes(5, t, u.email, ip);
    expectThrottled(await attempt(t, u.email, u.password, ip));
  });

  it("the same email in another tenant is a different account", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const email = `shared-${a.slug}@example.test`;
    const inA = await registerUser(a, email);
    const inB = await registerUser(b, email);

    await failTimes(5, a, inA.email, freshIp());
    expectThrottled(await attempt(a, inA.email, inA.password, freshIp()));
    expect((await attempt(b, inB.email, inB.password, freshIp())).status).toBe(200);
  });
});

describe("per IP", () => {
  it("30 failures across accounts from one address block that address only", async () => {
    const t = await createTenant();
    const sprayer = freshIp();
    // 10 accounts x 3 failures: no single account reaches its own limit.
    const accounts = await Promise.all(Array.from({ length: 10 }, () => registerUser(t)));
    for (const a of accounts) await failTimes(3, t, a.email, sprayer);

    const fresh = await registerUser(t);
    expectThrottled(await attempt(t, fresh.email, fresh.password, sprayer));

    const elsewhere = await attempt(t, fresh.email, fresh.password, freshIp());
    expect(elsewhere.status, elsewhere.text).toBe(200);
    // The accounts themselves are not locked either.
    expect((await attempt(t, accounts[0]!.email, accounts[0]!.password, freshIp())).status).toBe(200);
  });

  it("29 failures from one address do not block it", async () => {
    const t = await createTenant();
    const ip = freshIp();
    const accounts = await Promise.all(Array.from({ length: 10 }, () => registerUser(t)));
    for (const [i, a] of accounts.entries()) await failTimes(i === 0 ? 2 : 3, t, a.email, ip);

    const fresh = await registerUser(t);
    const res = await attempt(t, fresh.email, fresh.password, ip);
    expect(res.status, res.text).toBe(200);
  });
});
