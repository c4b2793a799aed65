import { createExecutionContext, createMessageBatch, createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RateLimiter } from "../../durable-objects/rate-limiter";
import { ConfigError, loadConfig } from "../../src/config/env";
import api from "../../workers/api/index";
import { expectProblem } from "../helpers/http";
import { callApp, envWith, readResult } from "./app-harness";

// Called as the runtime calls it: (event, env, ctx).
const worker: ExportedHandler<Env> = api;

afterEach(() => {
  vi.restoreAllMocks();
});

/** The ConfigError thrown for an env, or a failure if the env is accepted. */
function configErrorOf(brokenEnv: object): ConfigError {
  try {
    loadConfig(brokenEnv);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  expect.fail("loadConfig accepted a broken env");
}

const activeKey = () => (JSON.parse(env.JWT_SIGNING_KEYS) as Record<string, string>[])[0]!;

describe("loadConfig", () => {
  it("accepts the test env and parses typed values", () => {
    const config = loadConfig(envWith());
    expect(config.MAX_BODY_BYTES).toBe(65536);
    expect(config.CORS_ORIGINS).toEqual(["http://localhost:3000", "http://localhost:5173"]);
    expect(config.JWT_SIGNING_KEYS.map((k) => k.kid)).toEqual(["test-active", "test-previous"]);
  });

  it("names a missing secret", () => {
    const err = configErrorOf(envWith({}, ["PLATFORM_ADMIN_KEY"]));
    expect(err.message).toContain("PLATFORM_ADMIN_KEY");
    expect(err.problems).toEqual(["PLATFORM_ADMIN_KEY is missing"]);
  });

  it("names a missing binding, and a value that is not a binding", () => {
    expect(configErrorOf(envWith({}, ["DB"])).message).toContain("DB is missing");
    expect(configErrorOf(envWith({ RATE_LIMITER: "oops" })).problems).toEqual([expect.stringMatching(/^RATE_LIMITER: binding RATE_LIMITER/)]);
  });

  it("names malformed JWT_SIGNING_KEYS", () => {
    const { x, d } = activeKey();
    const cases = {
      "not json": "{not json",
      "no keys": "[]",
      "public key only": JSON.stringify([{ kty: "OKP", crv: "Ed25519", kid: "k1", x }]),
      "duplicate kid": JSON.stringify([
        { kty: "OKP", crv: "Ed25519", kid: "same", x, d },
        { kty: "OKP", crv: "Ed25519", kid: "same", x, d },
      ]),
      "wrong curve": JSON.stringify([{ kty: "EC", crv: "P-256", kid: "k1", x, d }]),
    };
    for (const [name, value] of Object.entries(cases)) {
      const err = configErrorOf(envWith({ JWT_SIGNING_KEYS: value }));
      expect(err.message, name).toContain("JWT_SIGNING_KEYS");
    }
  });

  it("does not copy secret values into the error", () => {
    const { x, d } = activeKey();
    const shortKey = "short-admin-key-value";
    const err = configErrorOf(
      envWith({ PLATFORM_ADMIN_KEY: shortKey, JWT_SIGNING_KEYS: JSON.stringify([{ kty: "OKP", crv: "Ed25519", kid: "k1", x: "too-short", d }]) }),
    );
    expect(err.message).toContain("PLATFORM_ADMIN_KEY");
    expect(err.message).toContain("JWT_SIGNING_KEYS");
    expect(err.message).not.toContain(shortKey);
    expect(err.message).not.toContain(d);
    expect(err.message).not.toContain(x!);
  });

  it("names every problem at once", () => {
    const err = configErrorOf(envWith({ JWT_SIGNING_KEYS: "[]", MAX_BODY_BYTES: "lots" }, ["PLATFORM_ADMIN_KEY", "DB", "NOTIFICATIONS"]));
    for (const name of ["PLATFORM_ADMIN_KEY", "DB", "NOTIFICATIONS", "JWT_SIGNING_KEYS", "MAX_BODY_BYTES"]) {
      expect(err.message).toContain(name);
    }
    expect(err.problems).toHaveLength(5);
  });

  it("validates once per env object", () => {
    const copy = envWith() as unknown as Record<string, unknown>;
    const first = loadConfig(copy);
    expect(loadConfig(copy)).toBe(first);
    // A cached env is not parsed again: breaking it afterwards goes unnoticed.
    delete copy.PLATFORM_ADMIN_KEY;
    expect(loadConfig(copy)).toBe(first);
    // A different object is validated on its own.
    expect(() => loadConfig({ ...copy })).toThrow(ConfigError);
  });
});

describe("fetch with a broken env", () => {
  const broken = () => envWith({}, ["PLATFORM_ADMIN_KEY"]);

  it("answers 500 CONFIG_INVALID without naming the secret, and logs the name", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    for (const path of ["/v1/me", "/health/ready", "/.well-known/jwks.json"]) {
      const res = await callApp(broken(), "GET", path);
      expectProblem(res, 500, "CONFIG_INVALID");
      expect(res.text).not.toContain("PLATFORM_ADMIN_KEY");
      expect(res.text).not.toMatch(/is missing/);
    }
    const lines = logged.mock.calls.map((args) => String(args[0]));
    expect(lines.some((l) => l.includes("configuration invalid") && l.includes("PLATFORM_ADMIN_KEY"))).toBe(true);
  });

  it("answers the same through the worker's own fetch export", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const req = new Request("https://api.boxoffice.test/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant: "demo", email: "a@example.test", password: "x" }),
    });
    const res = await readResult(await api.fetch(req, broken(), createExecutionContext()));
    expectProblem(res, 500, "CONFIG_INVALID");
    expect(res.text).not.toContain("PLATFORM_ADMIN_KEY");
  });

  it("still answers liveness", async () => {
    const res = await callApp(broken(), "GET", "/health/live");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });
});

describe("other entry points with a broken env", () => {
  it("scheduled rejects with a ConfigError naming what is missing", async () => {
    const run = worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), envWith({}, ["DB"]), createExecutionContext());
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow(/DB is missing/);
  });

  it("queue rejects with a ConfigError naming what is missing", async () => {
    const batch = createMessageBatch("boxoffice-notifications", [{ id: "m1", timestamp: Date.now(), attempts: 1, body: {} }]);
    const run = worker.queue!(batch, envWith({}, ["PLATFORM_ADMIN_KEY"]), createExecutionContext());
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow(/PLATFORM_ADMIN_KEY is missing/);
  });

  it("the RateLimiter constructor rejects a broken env and accepts a good one", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("config-test"));
    await runInDurableObject(stub, async (_instance, state) => {
      expect(() => new RateLimiter(state, envWith({}, ["JWT_SIGNING_KEYS"]))).toThrow(ConfigError);
      expect(() => new RateLimiter(state, envWith({}, ["JWT_SIGNING_KEYS"]))).toThrow(/JWT_SIGNING_KEYS is missing/);
      expect(await new RateLimiter(state, envWith()).ping()).toBe("pong");
    });
  });
});
