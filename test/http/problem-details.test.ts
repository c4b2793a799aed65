import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, STRONG_PASSWORD, unique, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { createApp } from "../../workers/api/app";
import { callApp, envWith, readResult } from "./app-harness";

const MAX_BODY_BYTES = 65536;
const fieldsOf = (problem: { errors?: { field: string }[] }) => (problem.errors ?? []).map((e) => e.field);
const login = (overrides: Record<string, unknown> = {}) => ({ tenant: "no-such-tenant", email: "a@example.test", password: "x", ...overrides });

/** A JSON body of exactly `bytes` bytes (ASCII), so the limit boundary is exact. */
function jsonOfSize(bytes: number): string {
  const skeleton = JSON.stringify({ ...login(), pad: "" });
  return JSON.stringify({ ...login(), pad: "a".repeat(bytes - skeleton.length) });
}

/**
 * Sends a body as a stream of chunks, so no Content-Length is known up front:
 * through the worker's export, or straight into the app (where the Request is
 * certain to carry no Content-Length at all).
 */
async function postStreamed(path: string, chunks: string[], via: "worker" | "app" = "worker") {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const request = new Request(`https://api.boxoffice.test${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  if (via === "app") expect(request.headers.has("content-length")).toBe(false);
  const res = via === "worker" ? await exports.default.fetch(request) : await createApp().request(request, undefined, env, createExecutionContext());
  return readResult(res);
}

describe("request body problems", () => {
  it("rejects malformed JSON with 400 MALFORMED_JSON", async () => {
    const res = await call("POST", "/v1/auth/login", { rawBody: '{"tenant": "demo",', headers: { "content-type": "application/json" } });
    expectProblem(res, 400, "MALFORMED_JSON");
  });

  it("rejects a text/plain body with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const res = await call("POST", "/v1/auth/login", { rawBody: JSON.stringify(login()), headers: { "content-type": "text/plain" } });
    expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("accepts JSON media types with parameters or a +json suffix", async () => {
    const raw = JSON.stringify(login({ tenant: unique("nobody") }));
    for (const type of ["application/json; charset=utf-8", "Application/JSON", "application/vnd.boxoffice+json"]) {
      const res = await call("POST", "/v1/auth/login", { rawBody: raw, headers: { "content-type": type } });
      expectProblem(res, 401, "INVALID_CREDENTIALS");
    }
  });

  it("answers a missing body with the required fields, not a parse error", async () => {
    const res = await call("POST", "/v1/auth/login");
    const problem = expectProblem(res, 400, "VALIDATION_FAILED");
    expect(fieldsOf(problem).sort()).toEqual(["body.email", "body.password", "body.tenant"]);
  });

  it("rejects a body with no content type with 415", async () => {
    const res = await call("POST", "/v1/auth/login", { rawBody: JSON.stringify(login()) });
    expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("rejects a body over MAX_BODY_BYTES sent with its Content-Length with 413", async () => {
    const raw = jsonOfSize(MAX_BODY_BYTES + 1);
    const res = await call("POST", "/v1/auth/login", { rawBody: raw, headers: { "content-type": "application/json" } });
    expectProblem(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("accepts a body of exactly MAX_BODY_BYTES (then validates it)", async () => {
    const res = await call("POST", "/v1/auth/login", { rawBody: jsonOfSize(MAX_BODY_BYTES), headers: { "content-type": "application/json" } });
    const problem = expectProblem(res, 400, "VALIDATION_FAILED");
    expect(fieldsOf(problem)).toContain("body.pad");
  });

  it("rejects a streamed body that grows past MAX_BODY_BYTES with 413", async () => {
    const big = jsonOfSize(MAX_BODY_BYTES + 4096);
    const chunks = big.match(/[\s\S]{1,8192}/g)!;
    expect(chunks.length).toBeGreaterThan(1);
    expectProblem(await postStreamed("/v1/auth/login", chunks, "worker"), 413, "PAYLOAD_TOO_LARGE");
    expectProblem(await postStreamed("/v1/auth/login", chunks, "app"), 413, "PAYLOAD_TOO_LARGE");
  });

  it("still reads a small streamed body normally", async () => {
    const raw = JSON.stringify(login({ tenant: unique("nobody") }));
    const res = await postStreamed("/v1/auth/login", [raw.slice(0, 10), raw.slice(10)]);
    expectProblem(res, 401, "INVALID_CREDENTIALS");
  });
});

describe("validation problems", () => {
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await createTenant();
  });

  it("names each unknown body field as body.<name>", async () => {
    const res = await call("POST", "/v1/auth/login", { body: login({ extra: 1, isAdmin: true }) });
    const problem = expectProblem(res, 400, "VALIDATION_FAILED");
    expect(fieldsOf(problem)).toEqual(expect.arrayContaining(["body.extra", "body.isAdmin"]));
    expect(problem.errors!.find((e) => e.field === "body.extra")!.message).toBe("Unknown field");
  });

  it("rejects limit=0 and limit=101 naming query.limit", async () => {
    for (const limit of [0, 101]) {
      const res = await call("GET", `/v1/users?limit=${limit}`, { token: tenant.owner.tokens.accessToken });
      const problem = expectProblem(res, 400, "VALIDATION_FAILED");
      expect(fieldsOf(problem), `limit=${limit}`).toEqual(["query.limit"]);
    }
    const ok = await call("GET", "/v1/users?limit=100", { token: tenant.owner.tokens.accessToken });
    expect(ok.status, ok.text).toBe(200);
  });

  it("rejects an unknown query parameter", async () => {
    const res = await call("GET", "/v1/users?sort=email", { token: tenant.owner.tokens.accessToken });
    const problem = expectProblem(res, 400, "VALIDATION_FAILED");
    expect(fieldsOf(problem)).toEqual(["query.sort"]);
  });

  it("rejects a 300-character name naming body.name", async () => {
    const res = await call("POST", "/v1/auth/register", {
      body: { tenant: tenant.slug, email: `${unique("u")}@example.test`, password: STRONG_PASSWORD, name: "n".repeat(300) },
    });
    const problem = expectProblem(res, 400, "VALIDATION_FAILED");
    expect(fieldsOf(problem)).toEqual(["body.name"]);
  });

  it("rejects a malformed id naming params.userId", async () => {
    const res = await call("GET", "/v1/users/not-a-uuid", { token: tenant.owner.tokens.accessToken });
    const problem = expectProblem(res, 400, "VALIDATION_FAILED");
    expect(fieldsOf(problem)).toEqual(["params.userId"]);
  });

  it("rejects a cursor the API did not issue naming query.cursor", async () => {
    const forged = btoa(JSON.stringify({ t: -1, i: "x" })).replaceAll("=", "");
    for (const cursor of ["garbage!!", forged]) {
      const res = await call("GET", `/v1/users?cursor=${encodeURIComponent(cursor)}`, { token: tenant.owner.tokens.accessToken });
      const problem = expectProblem(res, 400, "VALIDATION_FAILED");
      expect(fieldsOf(problem), cursor).toEqual(["query.cursor"]);
    }
  });

  // A client maps errors to form inputs: schema validation and domain errors
  // (WEAK_PASSWORD, INVALID_CREDENTIALS on /v1/me/password) must share one prefix.
  it("uses one field-path prefix for body fields across validation and domain errors", async () => {
    const email = `${unique("u")}@example.test`;
    const invalid = await call("POST", "/v1/auth/register", { body: { tenant: tenant.slug, email, password: "x", name: "" } });
    const weak = await call("POST", "/v1/auth/register", { body: { tenant: tenant.slug, email, password: "x", name: "Some One" } });
    const validationFields = fieldsOf(expectProblem(invalid, 400, "VALIDATION_FAILED"));
    const policyFields = fieldsOf(expectProblem(weak, 422, "WEAK_PASSWORD"));
    expect(validationFields).toEqual(["body.name"]);
    const prefix = (f: string) => f.split(".")[0];
    expect(policyFields.map(prefix)).toEqual(validationFields.map(prefix));
  });
});

describe("routing problems", () => {
  it("answers an unknown route with 404 NOT_FOUND", async () => {
    const res = await call("GET", "/v1/no-such-thing?token=query-secret");
    const problem = expectProblem(res, 404, "NOT_FOUND");
    expect(problem.instance).toBe("/v1/no-such-thing");
    expect(res.text).not.toContain("query-secret");
  });

  it("answers a wrong method with 405 and an Allow header", async () => {
    const res = await call("DELETE", "/v1/auth/login");
    expectProblem(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")?.split(/,\s*/)).toEqual(["POST"]);
  });

  it("lists every method of a path with several in Allow", async () => {
    const res = await call("PUT", "/v1/api-keys");
    expectProblem(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")?.split(/,\s*/).sort()).toEqual(["GET", "HEAD", "POST"]);
  });
});

describe("unexpected errors", () => {
  it("answers 500 INTERNAL without the internal message or stack", async () => {
    const brokenDb = {
      prepare() {
        throw new Error("secret internal detail");
      },
      batch() {
        throw new Error("secret internal detail");
      },
    };
    const res = await callApp(envWith({ DB: brokenDb }), "POST", "/v1/auth/login", { body: login({ tenant: "some-tenant" }) });
    const problem = expectProblem(res, 500, "INTERNAL");
    expect(res.text).not.toContain("secret internal detail");
    expect(res.text).not.toMatch(/select|tenants/i);
    expect(Object.keys(problem).sort()).toEqual(["code", "detail", "instance", "requestId", "status", "title", "type"]);
  });

  // Hono's compose and error handler only catch `instanceof Error`; anything else
  // thrown escapes onError and the runtime answers without our envelope or headers.
  it("answers 500 INTERNAL when something throws a value that is not an Error", async () => {
    const brokenDb = {
      prepare() {
        throw "secret internal detail";
      },
    };
    const res = await callApp(envWith({ DB: brokenDb }), "POST", "/v1/auth/login", { body: login({ tenant: "some-tenant" }) }).catch(
      (thrown: unknown) => ({ status: 0, headers: new Headers(), body: null, text: `app.request rejected with ${String(thrown)}` }),
    );
    expectProblem(res, 500, "INTERNAL");
    expect(res.text).not.toContain("secret internal detail");
  });
});
