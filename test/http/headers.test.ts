import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem, type CallResult } from "../helpers/http";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALLOWED_ORIGIN = "http://localhost:3000";
const OTHER_ALLOWED_ORIGIN = "http://localhost:5173";
const FOREIGN_ORIGIN = "https://evil.example";

let tenant: TenantFixture;
beforeAll(async () => {
  tenant = await createTenant();
});

/** One response of each kind: a success, an authenticated read, a write, and errors. */
async function sampleResponses(): Promise<Record<string, CallResult>> {
  return {
    "GET /health/live": await call("GET", "/health/live"),
    "GET /v1/me": await call("GET", "/v1/me", { token: tenant.owner.tokens.accessToken }),
    "POST /v1/auth/login": await call("POST", "/v1/auth/login", { body: { tenant: tenant.slug, email: tenant.owner.email, password: tenant.owner.password } }),
    "401 GET /v1/me": await call("GET", "/v1/me"),
    "404": await call("GET", "/v1/nowhere"),
    "405": await call("DELETE", "/v1/auth/login"),
    "400 MALFORMED_JSON": await call("POST", "/v1/auth/refresh", { rawBody: "{", headers: { "content-type": "application/json" } }),
  };
}

describe("request id", () => {
  it("echoes a well-formed X-Request-ID on success and on error", async () => {
    for (const id of ["trace-abc_123=", "x".repeat(128)]) {
      const ok = await call("GET", "/health/live", { headers: { "x-request-id": id } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("x-request-id")).toBe(id);
      const err = await call("GET", "/v1/me", { headers: { "x-request-id": id } });
      expect(expectProblem(err, 401, "UNAUTHENTICATED").requestId).toBe(id);
    }
  });

  it("replaces a malformed X-Request-ID with a generated one", async () => {
    for (const bad of ["has spaces in it", "a".repeat(300), "x".repeat(129), "<script>alert(1)</script>", "id;drop"]) {
      const res = await call("GET", "/v1/nowhere", { headers: { "x-request-id": bad } });
      const problem = expectProblem(res, 404, "NOT_FOUND");
      expect(problem.requestId, bad).toMatch(UUID);
      expect(res.text).not.toContain(bad);
    }
  });

  it("gives every response a request id, distinct per request", async () => {
    const ids = Object.entries(await sampleResponses()).map(([name, res]) => {
      const id = res.headers.get("x-request-id");
      expect(id, name).toMatch(UUID);
      return id;
    });
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("security headers", () => {
  it("are on every response, success and error alike", async () => {
    for (const [name, res] of Object.entries(await sampleResponses())) {
      expect(res.headers.get("x-content-type-options"), name).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), name).toBe("DENY");
      expect(res.headers.get("strict-transport-security"), name).toMatch(/max-age=\d{8,}; includeSubDomains/);
      expect(res.headers.get("referrer-policy"), name).toBe("no-referrer");
      expect(res.headers.get("content-security-policy"), name).toMatch(/^default-src 'none'/);
      expect(res.headers.get("content-security-policy"), name).toContain("frame-ancestors 'none'");
    }
  });
});

describe("Cache-Control", () => {
  it("is no-store on POST responses, errors and authenticated reads", async () => {
    const responses = await sampleResponses();
    expect(responses["POST /v1/auth/login"]!.status).toBe(200);
    expect(responses["GET /v1/me"]!.status).toBe(200);
    for (const name of ["POST /v1/auth/login", "GET /v1/me", "401 GET /v1/me", "404", "405", "400 MALFORMED_JSON"]) {
      expect(responses[name]!.headers.get("cache-control"), name).toBe("no-store");
    }
  });

  it("is no-store on an authenticated list read", async () => {
    const res = await call("GET", "/v1/users", { token: tenant.owner.tokens.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("lets the JWKS be cached publicly", async () => {
    const res = await call("GET", "/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    expect(res.body.keys.length).toBeGreaterThan(0);
  });
});

describe("CORS", () => {
  const preflight = (origin: string) =>
    call("OPTIONS", "/v1/users", {
      headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });

  it("answers a preflight from an allowed origin", async () => {
    for (const origin of [ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN]) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(res.headers.get("access-control-allow-methods")).toContain("GET");
      expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
      expect(res.headers.get("vary")).toContain("Origin");
    }
  });

  it("allows an allowed origin to read responses, errors included, and the request id", async () => {
    const ok = await call("GET", "/v1/me", { token: tenant.owner.tokens.accessToken, headers: { origin: ALLOWED_ORIGIN } });
    expect(ok.status).toBe(200);
    const err = await call("GET", "/v1/me", { headers: { origin: ALLOWED_ORIGIN } });
    expectProblem(err, 401, "UNAUTHENTICATED");
    for (const res of [ok, err]) {
      expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
      expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("x-request-id");
    }
  });

  it("marks cacheable responses as varying by Origin", async () => {
    const res = await call("GET", "/.well-known/jwks.json", { headers: { origin: ALLOWED_ORIGIN } });
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("grants nothing to an origin that is not configured", async () => {
    const pre = await preflight(FOREIGN_ORIGIN);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const get = await call("GET", "/.well-known/jwks.json", { headers: { origin: FOREIGN_ORIGIN } });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
    // A prefix or suffix of an allowed origin is another origin.
    const lookalike = await call("GET", "/.well-known/jwks.json", { headers: { origin: `${ALLOWED_ORIGIN}.evil.example` } });
    expect(lookalike.headers.get("access-control-allow-origin")).toBeNull();
  });
});
