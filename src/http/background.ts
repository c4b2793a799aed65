import type { Context } from "hono";

/**
 * Lets `work` outlive the response where the runtime allows (waitUntil); without an
 * execution context (`app.request()` in some tests) it is finished before returning.
 */
export async function inBackground(c: Context, work: Promise<unknown>): Promise<void> {
  let ctx: { waitUntil(work: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  if (ctx) ctx.waitUntil(work);
  else await work;
}
