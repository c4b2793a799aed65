import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../workers/api/app";
import { call } from "../helpers/http";

type Schema = Record<string, any>;
interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];
/** Served by the app but not API operations: the document itself and its viewer. */
const NOT_OPERATIONS = new Set(["GET /openapi.json", "GET /docs"]);

let doc: any;
beforeAll(async () => {
  const res = await call("GET", "/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  doc = res.body;
});

function operations(): [string, Operation][] {
  return Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Operation]),
  );
}

function resolve(schema: Schema): Schema {
  const ref = schema.$ref as string | undefined;
  if (!ref) return schema;
  const name = ref.replace("#/components/schemas/", "");
  const target = doc.components?.schemas?.[name];
  expect(target, ref).toBeDefined();
  return resolve(target);
}

/** Every object schema reachable from `schema`, with a path for messages. */
function objectSchemas(schema: Schema, at: string, out: [string, Schema][] = []): [string, Schema][] {
  const s = resolve(schema);
  if (s.type === "object" || s.properties) {
    out.push([at, s]);
    for (const [key, prop] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) objectSchemas(prop, `${at}.${key}`, out);
  }
  if (s.items) objectSchemas(s.items, `${at}[]`, out);
  for (const k of ["allOf", "anyOf", "oneOf"]) for (const [i, sub] of ((s[k] ?? []) as Schema[]).entries()) objectSchemas(sub, `${at}/${k}${i}`, out);
  return out;
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document describing the API", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.schemas.Problem).toBeDefined();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["bearerAuth", "platformKey"]);
  });

  it("documents every route the app serves, and nothing else", () => {
    const served = new Set(
      createApp()
        .routes.filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
        .filter((r) => !NOT_OPERATIONS.has(r)),
    );
    const documented = operations().map(([name]) => name);
    expect(documented.length).toBeGreaterThanOrEqual(27);
    expect(new Set(documented)).toEqual(served);
  });

  it("gives every operation at least one problem+json error response", () => {
    const missing = operations()
      .filter(([, op]) => !Object.entries(op.responses).some(([status, r]) => /^[45]\d\d$/.test(status) && r.content?.["application/problem+json"]))
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it("declares the If-Match header on every operation that can answer 412", () => {
    const missing = operations()
      .filter(([, op]) => "412" in op.responses)
      .filter(([, op]) => !(op.parameters ?? []).some((p) => p.in === "header" && p.name === "if-match"))
      .map(([name]) => name);
    expect(operations().filter(([, op]) => "412" in op.responses).length).toBeGreaterThan(4);
    expect(missing).toEqual([]);
  });

  it("describes every error response with the Problem schema", () => {
    for (const [name, op] of operations()) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (!/^[45]/.test(status)) continue;
        expect(Object.keys(r.content ?? {}), `${name} ${status}`).toEqual(["application/problem+json"]);
        expect(r.content!["application/problem+json"]!.schema.$ref, `${name} ${status}`).toBe("#/components/schemas/Problem");
      }
    }
  });

  it("declares strict request bodies: every object rejects additional properties", () => {
    // A provider's webhook is the provider's format, verified by signature and parsed
    // loosely on purpose (Stripe adds fields in every API version).
    const bodies = operations().filter(([name, op]) => op.requestBody && !name.startsWith("POST /v1/webhooks/"));
    expect(bodies.length).toBeGreaterThanOrEqual(10);
    const loose: string[] = [];
    for (const [name, op] of bodies) {
      const content = op.requestBody!.content;
      expect(Object.keys(content), name).toEqual(["application/json"]);
      expect(content["application/json"]!.schema.$ref, `${name} names its body schema`).toMatch(/^#\/components\/schemas\//);
      for (const [at, s] of objectSchemas(content["application/json"]!.schema, name)) {
        // A map (z.record, e.g. event metadata) has no fixed keys: its additionalProperties
        // is the schema every value must match, which is the bound.
        const isMap = typeof s.additionalProperties === "object" && !s.properties;
        if (s.additionalProperties !== false && !isMap) loose.push(at);
      }
    }
    expect(loose).toEqual([]);
  });

  it("marks authenticated operations with a security requirement", () => {
    for (const [name, op] of operations() as [string, Operation & { security?: unknown[] }][]) {
      const open = /^(GET \/health|GET \/\.well-known|POST \/v1\/auth\/|GET \/v1\/public\/|POST \/v1\/webhooks\/)/.test(name);
      if (open) expect(op.security, name).toBeUndefined();
      else expect(op.security, name).toEqual([expect.objectContaining(name.includes("/v1/platform/") ? { platformKey: [] } : { bearerAuth: [] })]);
    }
  });
});

describe("GET /docs", () => {
  it("serves an HTML page that loads the document", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<html/i);
    expect(res.text).toContain("/openapi.json");
  });
});
