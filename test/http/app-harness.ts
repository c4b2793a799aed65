import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../../workers/api/app";
import { BASE_URL, readResult, requestInit, type CallOptions, type CallResult } from "../helpers/http";

export { readResult };

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

export async function callApp(appEnv: Env, method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const ctx = createExecutionContext();
  const res = await createApp().request(`${BASE_URL}${path}`, requestInit(method, opts), appEnv, ctx);
  const result = await readResult(res);
  await waitOnExecutionContext(ctx);
  return result;
}
