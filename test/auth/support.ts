import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { SentEmail } from "../helpers/fixtures";
import { call, type CallResult } from "../helpers/http";

/** Walks a cursor-paginated list endpoint, checking every page respects `limit`. */
export async function listAll<T = any>(path: string, token: string, limit = 2): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  const sep = path.includes("?") ? "&" : "?";
  for (let page = 0; page < 1000; page++) {
    const q: string = `${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res: CallResult = await call("GET", `${path}${q}`, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (!cursor) return items;
    // A page that announces more must be full, or the walk would skip nothing but waste calls.
    expect(res.body.items.length).toBe(limit);
  }
  throw new Error(`pagination of ${path} did not terminate`);
}

/** All emails of a template to a recipient, oldest first (rowid breaks created_at ties). */
export async function emailsTo(to: string, template: string): Promise<SentEmail[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, recipient, template, subject, body FROM sent_emails WHERE recipient = ? AND template = ? ORDER BY created_at, rowid",
  )
    .bind(to.toLowerCase(), template)
    .all<SentEmail>();
  return results;
}

/**
 * Waits until at least `n` emails of a template reached the recipient and returns
 * the n-th. Unlike `waitForEmail`, this tells a resent email from the first one even
 * when both carry the same millisecond.
 */
export async function waitForNthEmail(to: string, template: string, n: number, timeoutMs = 10_000): Promise<SentEmail> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const all = await emailsTo(to, template);
    if (all.length >= n) return all[n - 1]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${n} ${template} emails to ${to} within the deadline`);
}

let ipSeq = 0;
/** A client address no other test in the file uses (the per-IP login counter is keyed on it). */
export const freshIp = () => {
  ipSeq++;
  return `198.18.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
};

/** The problem body without the per-request fields. */
export function stableProblem(res: CallResult) {
  const { requestId: _r, instance: _i, ...rest } = res.body as Record<string, unknown>;
  return rest;
}

export async function suspendTenant(tenantId: string, platformToken: string) {
  const res = await call("POST", `/v1/platform/tenants/${tenantId}/suspend`, { token: platformToken, body: { reason: "unpaid invoices" } });
  expect(res.status, res.text).toBe(200);
  expect(res.body.status).toBe("suspended");
}

export async function reactivateTenant(tenantId: string, platformToken: string) {
  const res = await call("POST", `/v1/platform/tenants/${tenantId}/reactivate`, { token: platformToken });
  expect(res.status, res.text).toBe(200);
  expect(res.body.status).toBe("active");
}

/**
 * Moves a row's expiry into the past. The tables check `expires_at > created_at`, so
 * created_at moves back two hours and expires_at to one hour ago (SQLite evaluates
 * both right-hand sides against the old row).
 */
export async function expireRow(table: "api_keys" | "one_time_tokens", where: string, ...binds: unknown[]) {
  const hour = 3_600_000;
  const now = Date.now();
  const res = await env.DB.prepare(`UPDATE ${table} SET created_at = ?, expires_at = ? WHERE ${where}`)
    .bind(now - 2 * hour, now - hour, ...binds)
    .run();
  expect(res.meta.changes).toBeGreaterThan(0);
}
