import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../../workers/api/app";
import type { CallOptions, CallResult } from "../helpers/http";

/**
 * Drives a fresh `createApp()` with an env the test controls (a broken binding, a
 * missing secret), which the real worker export cannot be given. Results have the
 * same shape as `call`, so `expectProblem` applies unchanged.
 */

/** A copy of the test env with some entries replaced and some removed. */
export function envWith(overrides: Record<string, unknown> = {}, omit: string[] = []): Env {
  const copy: Record<string, unknown> = { ...env, ...overrides };
  for (const name of omit) delete copy[name];
  return copy as unknown as Env;
}

export async function readResult(res: Response): Promise<CallResult> {
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export async function callApp(appEnv: Env, method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...opts.headers };
  let payload: string | undefined;
  if (opts.rawBody !== undefined) payload = opts.rawBody;
  else if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const ctx = createExecutionContext();
  const res = await createApp().request(`https://api.boxoffice.test${path}`, { method, headers, body: payload }, appEnv, ctx);
  const result = await readResult(res);
  await waitOnExecutionContext(ctx);
  return result;
}
