import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/http/errors";
import { createRouter, errorResponses, jsonContent } from "../../../src/http/openapi";
import { withTimeout } from "../../../src/lib/timeout";
import type { ApiConfig } from "../../../src/config/env";

const CHECK_TIMEOUT_MS = 2000;
const Check = z.object({ status: z.enum(["ok", "fail"]), latencyMs: z.number(), error: z.string().optional() });
const Ready = z.object({ status: z.literal("ok"), checks: z.record(z.string(), Check) }).openapi("Readiness");

export const live = createRoute({
  method: "get",
  path: "/health/live",
  tags: ["Health"],
  summary: "Liveness: the isolate answers (no I/O)",
  responses: { 200: jsonContent(z.object({ status: z.literal("ok") }), "Alive"), ...errorResponses() },
});

export const ready = createRoute({
  method: "get",
  path: "/health/ready",
  tags: ["Health"],
  summary: "Readiness: D1 and a Durable Object round trip, each with a timeout",
  responses: { 200: jsonContent(Ready, "Ready"), ...errorResponses("DEPENDENCY_UNAVAILABLE", "CONFIG_INVALID") },
});

type CheckResult = z.infer<typeof Check>;

async function probe(fn: () => Promise<unknown>): Promise<CheckResult> {
  const started = Date.now();
  try {
    await withTimeout(fn(), CHECK_TIMEOUT_MS);
    return { status: "ok", latencyMs: Date.now() - started };
  } catch (err) {
    // Name the failure class only; driver messages can carry internals.
    return { status: "fail", latencyMs: Date.now() - started, error: err instanceof Error ? err.name : "Error" };
  }
}

export function readinessChecks(config: ApiConfig) {
  return {
    d1: () => config.DB.prepare("SELECT 1 AS ok").first(),
    durableObject: () => config.RATE_LIMITER.get(config.RATE_LIMITER.idFromName("health-probe")).ping(),
  };
}

export const liveRoutes = createRouter().openapi(live, (c) => c.json({ status: "ok" as const }, 200));

export const readyRoutes = createRouter().openapi(ready, async (c) => {
  const checks = readinessChecks(c.var.config);
  const names = Object.keys(checks) as (keyof typeof checks)[];
  const results = await Promise.all(names.map((n) => probe(checks[n])));
  const byName = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
  const failing = names.filter((_, i) => results[i]!.status === "fail");
  if (failing.length) {
    throw new AppError("DEPENDENCY_UNAVAILABLE", `Not ready: ${failing.join(", ")} failing`, { failing, checks: byName });
  }
  return c.json({ status: "ok" as const, checks: byName }, 200);
});
