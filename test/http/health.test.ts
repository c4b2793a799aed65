import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectProblem } from "../helpers/http";
import { callApp, envWith } from "./app-harness";

/** A binding that records every use, so a test can show none happened. */
function recordingBinding(uses: string[], name: string) {
  return new Proxy(
    {},
    {
      get: (_target, prop) => {
        if (typeof prop === "string") uses.push(`${name}.${prop}`);
        return () => {
          throw new Error(`${name} used`);
        };
      },
    },
  );
}

describe("/health/live", () => {
  it("answers 200 without touching any binding or needing configuration", async () => {
    const uses: string[] = [];
    const bare = { DB: recordingBinding(uses, "DB"), RATE_LIMITER: recordingBinding(uses, "RATE_LIMITER") } as unknown as Env;
    const res = await callApp(bare, "GET", "/health/live");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(uses).toEqual([]);
  });
});

describe("/health/ready", () => {
  it("answers 200 with d1 and durableObject checks ok", async () => {
    const res = await call("GET", "/health/ready");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      status: "ok",
      checks: {
        d1: { status: "ok", latencyMs: expect.any(Number) },
        durableObject: { status: "ok", latencyMs: expect.any(Number) },
      },
    });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 503 naming d1 when a D1 query never completes, within the check timeout", async () => {
    const hangingDb = { prepare: () => ({ first: () => new Promise(() => {}) }) };
    const started = Date.now();
    const res = await callApp(envWith({ DB: hangingDb }), "GET", "/health/ready");
    const elapsed = Date.now() - started;
    const problem = expectProblem(res, 503, "DEPENDENCY_UNAVAILABLE");
    expect(problem.failing).toEqual(["d1"]);
    expect(problem.checks).toMatchObject({ d1: { status: "fail", error: "TimeoutError" }, durableObject: { status: "ok" } });
    expect(elapsed).toBeLessThan(5000);
  });

  it("answers 503 naming durableObject when the ping rejects, without its message", async () => {
    const failingLimiter = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: () => ({ ping: () => Promise.reject(new Error("connection reset by secret-host-17")) }),
    };
    const res = await callApp(envWith({ RATE_LIMITER: failingLimiter }), "GET", "/health/ready");
    const problem = expectProblem(res, 503, "DEPENDENCY_UNAVAILABLE");
    expect(problem.failing).toEqual(["durableObject"]);
    expect(problem.checks).toMatchObject({ durableObject: { status: "fail", error: "Error" }, d1: { status: "ok" } });
    expect(res.text).not.toContain("secret-host-17");
  });

  it("answers 503 naming d1 when D1 throws synchronously", async () => {
    const throwingDb = {
      prepare: () => {
        throw new Error("D1_ERROR: internal");
      },
    };
    const res = await callApp(envWith({ DB: throwingDb }), "GET", "/health/ready");
    const problem = expectProblem(res, 503, "DEPENDENCY_UNAVAILABLE");
    expect(problem.failing).toEqual(["d1"]);
    expect(res.text).not.toContain("D1_ERROR");
  });
});
