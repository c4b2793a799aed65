import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call } from "./http";

export const platformKey = () => env.PLATFORM_ADMIN_KEY;

let seq = 0;
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(seq++).toString(36)}`;
export const STRONG_PASSWORD = "correct horse battery staple";

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface TenantFixture {
  id: string;
  slug: string;
  owner: { id: string; email: string; password: string; tokens: TokenPair };
}

export async function login(slug: string, email: string, password: string, headers: Record<string, string> = {}) {
  const res = await call("POST", "/v1/auth/login", { body: { tenant: slug, email, password }, headers });
  expect(res.status, res.text).toBe(200);
  return res.body as { user: { id: string; role: string }; tokens: TokenPair };
}

/** A fresh tenant through the platform API, with its owner logged in. */
export async function createTenant(): Promise<TenantFixture> {
  const slug = unique("t");
  const email = `owner@${slug}.test`;
  const res = await call("POST", "/v1/platform/tenants", {
    token: platformKey(),
    body: { slug, name: `Tenant ${slug}`, owner: { email, name: "Owner", password: STRONG_PASSWORD } },
  });
  expect(res.status, res.text).toBe(201);
  const session = await login(slug, email, STRONG_PASSWORD);
  return { id: res.body.tenant.id, slug, owner: { id: res.body.ownerId, email, password: STRONG_PASSWORD, tokens: session.tokens } };
}

export interface UserFixture {
  id: string;
  email: string;
  password: string;
  tokens: TokenPair;
}

/** Self-registered customer. */
export async function registerUser(tenant: TenantFixture, email = `${unique("u")}@example.test`): Promise<UserFixture> {
  const res = await call("POST", "/v1/auth/register", { body: { tenant: tenant.slug, email, password: STRONG_PASSWORD, name: "Some One" } });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.user.id, email, password: STRONG_PASSWORD, tokens: res.body.tokens };
}

/** A user with the given role (registered, promoted by the owner, logged in again). */
export async function userWithRole(tenant: TenantFixture, role: "owner" | "admin" | "organizer" | "scanner" | "customer") {
  const u = await registerUser(tenant);
  if (role !== "customer") {
    const res = await call("PATCH", `/v1/users/${u.id}/role`, { token: tenant.owner.tokens.accessToken, body: { role } });
    expect(res.status, res.text).toBe(200);
  }
  const session = await login(tenant.slug, u.email, u.password);
  return { ...u, tokens: session.tokens };
}

export async function createApiKey(tenant: TenantFixture, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/api-keys", { token: tenant.owner.tokens.accessToken, body: { name: "svc", scopes, ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; key: string; prefix: string };
}

export interface SentEmail {
  id: string;
  recipient: string;
  template: string;
  subject: string;
  body: string;
}

/**
 * Waits for the notification queue's consumer to record an email. Delivery goes
 * through the real local queue, which batches asynchronously; there is no
 * in-process trigger to flush it, so this polls D1 with a deadline.
 */
export async function waitForEmail(to: string, template: string, opts: { after?: number; timeoutMs?: number } = {}): Promise<SentEmail> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    const row = await env.DB.prepare(
      "SELECT id, recipient, template, subject, body FROM sent_emails WHERE recipient = ? AND template = ? AND created_at >= ? ORDER BY created_at DESC LIMIT 1",
    )
      .bind(to.toLowerCase(), template, opts.after ?? 0)
      .first<SentEmail>();
    if (row) return row;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${template} email to ${to} within the deadline`);
}

export function tokenFromEmail(email: SentEmail): string {
  const m = /token=([A-Za-z0-9_-]+)/.exec(email.body);
  if (!m) throw new Error(`no token in email body: ${email.body}`);
  return m[1]!;
}
