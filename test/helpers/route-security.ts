/**
 * The authorization cases every route must pass, written once.
 *
 * One spec per operation, in test/security/routes.security.test.ts:
 *
 *   describeRouteSecurity({
 *     method: "POST", path: "/v1/users/{userId}/ban",
 *     setup: async (w) => ({ userId: (await registerUser(await w.a.fixture())).id }),
 *     body: () => ({ reason: "spam" }),
 *     allowedRoles: ["owner", "admin"], apiKeyScopes: ["users:write"], success: 200,
 *   });
 *
 * generates, against the real worker:
 *   - no / non-Bearer Authorization → 401 UNAUTHENTICATED (also with malformed params or
 *     body: credentials are checked before input); garbage JWT, fake or revoked API key,
 *     the platform key → 401 TOKEN_INVALID
 *   - every role outside `allowedRoles` → 403 FORBIDDEN; every allowed role → `success`
 *   - an API key lacking `apiKeyScopes` → 403 INSUFFICIENT_SCOPE (keys refused when
 *     `apiKeyScopes` is undefined: even an all-scope key → 403 FORBIDDEN); a key with
 *     exactly those scopes → `success`
 *   - a suspended tenant's JWT and API key → 401 TOKEN_INVALID
 *   - cross-tenant: when the path names a resource ({param}; override with
 *     `resourceScoped`), tenant B's caller (strongest allowed role, and a scoped key) gets a
 *     404 identical (bar requestId/instance) to the 404 for a random id in its own
 *     tenant, so ids cannot be probed; for listings (`listsParam`), tenant A's caller
 *     sees the setup row and tenant B's does not.
 *
 * Each spec gets its own tenants A and B (beforeAll). `setup` runs before EVERY case, so
 * destructive routes always get a fresh target, and returns the path params. In the
 * per-role cases it also gets the calling role, for resources that belong to their caller
 * (a buyer's hold). `headers` adds request headers (an Idempotency-Key) to every request. Callers log
 * in afresh per case, so a route that revokes the caller's own tokens (password change)
 * cannot break later cases.
 * Platform routes use `describePlatformRouteSecurity`. Every spec is recorded in
 * `coveredOperations()` so the OpenAPI coverage test can demand one per operation.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SCOPES, type Scope } from "../../src/auth/scopes";
import { ROLES, type Role } from "../../src/db/schema";
import { createApiKey, createTenant, login, userWithRole, type TenantFixture } from "./fixtures";
import { call, expectProblem, type CallResult } from "./http";

type Params = Record<string, string>;
type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface WorldTenant {
  id: string;
  slug: string;
  /** A fresh access token (a new login) of this tenant's user with `role`; non-owners are created on first use. */
  token(role: Role): Promise<string>;
  /** The id of this tenant's user with `role`. */
  userId(role: Role): Promise<string>;
  /** This tenant as a fixtures.ts TenantFixture whose owner is freshly logged in (for createApiKey, registerUser, ...). */
  fixture(): Promise<TenantFixture>;
  /** A new API key of this tenant with exactly these scopes. */
  apiKey(scopes: readonly Scope[]): Promise<string>;
}

export interface SecurityWorld {
  /** Owns the resources under test. */
  a: WorldTenant;
  /** The foreign tenant. */
  b: WorldTenant;
}

export interface RouteSecuritySpec {
  method: Method;
  /** The OpenAPI path template, e.g. "/v1/users/{userId}"; each {param} is filled from `setup`'s result. */
  path: string;
  /** Query parameters; values may use {param} too. */
  query?: Params;
  /**
   * Creates in tenant A what the path names and returns the params. Runs before every case.
   * In the per-role cases it is told the role about to call, for resources that belong to
   * their caller (a buyer's own hold).
   */
  setup?: (world: SecurityWorld, caller?: { role: Role }) => Promise<Params>;
  /** A valid request body (called per request, so it may generate unique values). */
  body?: (params: Params) => unknown;
  /** Extra request headers, sent with every request of the spec (e.g. a fresh Idempotency-Key). */
  headers?: (params: Params) => Record<string, string>;
  /** Roles whose users may call the route; the others must get 403 FORBIDDEN. */
  allowedRoles: readonly Role[];
  /** Scopes that admit an API key; undefined = API keys are refused. */
  apiKeyScopes?: readonly Scope[];
  /** Status of a successful call by an allowed principal. */
  success: number;
  /** Tenant-wide listings: the setup param whose id tenant A's caller sees and tenant B's must not. */
  listsParam?: string;
  /** Whether the path names a tenant resource (foreign tenant → 404). Defaults to "the path has a {param}". */
  resourceScoped?: boolean;
}

export interface PlatformRouteSpec {
  method: Method;
  path: string;
  query?: Params;
  /** Returns the path params (e.g. a tenant created for the case). Runs before every case. */
  setup?: () => Promise<Params>;
  body?: (params: Params) => unknown;
  success: number;
}

const covered = new Set<string>();
/** "METHOD /path/{template}" of every spec declared so far in this test file. */
export const coveredOperations = (): ReadonlySet<string> => covered;
const operation = (s: { method: Method; path: string }) => `${s.method} ${s.path}`;

function fill(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`setup() returned no value for {${name}} in ${template}`);
    return encodeURIComponent(v);
  });
}

function target(spec: { path: string; query?: Params }, params: Params): string {
  const path = fill(spec.path, params);
  if (!spec.query) return path;
  const q = new URLSearchParams(Object.entries(spec.query).map(([k, v]) => [k, fill(v, params)]));
  return `${path}?${q}`;
}

type AnySpec = RouteSecuritySpec | PlatformRouteSpec;
function send(spec: AnySpec, params: Params, auth: { token?: string; authorization?: string } = {}): Promise<CallResult> {
  const extra = "headers" in spec && spec.headers ? spec.headers(params) : {};
  const headers: Record<string, string> = auth.authorization ? { ...extra, authorization: auth.authorization } : extra;
  return call(spec.method, target(spec, params), { token: auth.token, headers, body: spec.body?.(params) });
}

function expectSuccess(res: CallResult, status: number) {
  expect(res.status, res.text).toBe(status);
}

/** The problem body minus what legitimately differs per request. */
function comparable(body: Record<string, unknown>) {
  const { requestId: _r, instance: _i, ...rest } = body;
  return rest;
}

/** Well-formed, never-issued ids in place of every param. */
const randomIds = (params: Params): Params => Object.fromEntries(Object.keys(params).map((k) => [k, crypto.randomUUID()]));

// A key that parses (bok_<12 hex>_<43 chars>) but was never issued.
const UNKNOWN_API_KEY = `bok_0123456789ab_${"A".repeat(43)}`;

/**
 * Route middleware (authentication) must run before validation, or anonymous callers
 * could map the API's schemas and ids through 400 responses. Only generated when the
 * route takes path params or a body, which are then replaced by invalid ones.
 */
function itChecksCredentialsBeforeInput(spec: AnySpec) {
  const templates = [spec.path, ...Object.values(spec.query ?? {})].join(" ");
  const params = [...templates.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  if (params.length === 0 && !spec.body) return;
  it("checks credentials before input: malformed params and body still get 401 UNAUTHENTICATED", async () => {
    const invalid = Object.fromEntries(params.map((p) => [p, "NOT-A-UUID"]));
    const res = await call(spec.method, target(spec, invalid), spec.body ? { body: { unexpectedField: true } } : {});
    expectProblem(res, 401, "UNAUTHENTICATED");
  });
}

async function worldTenant(): Promise<WorldTenant> {
  const t = await createTenant();
  const fixture = async (): Promise<TenantFixture> => ({
    ...t,
    owner: { ...t.owner, tokens: (await login(t.slug, t.owner.email, t.owner.password)).tokens },
  });
  const accounts = new Map<Role, Promise<{ id: string; email: string; password: string }>>();
  accounts.set("owner", Promise.resolve(t.owner));
  const account = (role: Role) => {
    let a = accounts.get(role);
    if (!a) {
      a = fixture().then((f) => userWithRole(f, role));
      accounts.set(role, a);
    }
    return a;
  };
  return {
    id: t.id,
    slug: t.slug,
    fixture,
    userId: async (role) => (await account(role)).id,
    token: async (role) => {
      const a = await account(role);
      return (await login(t.slug, a.email, a.password)).tokens.accessToken;
    },
    apiKey: async (scopes) => (await createApiKey(await fixture(), [...scopes])).key,
  };
}

/** A tenant's owner token and all-scope API key, taken before the platform suspended it. */
async function suspendedTenant(): Promise<{ token: string; apiKey: string }> {
  const t = await createTenant();
  const key = await createApiKey(t, [...SCOPES]);
  const res = await call("POST", `/v1/platform/tenants/${t.id}/suspend`, { token: env.PLATFORM_ADMIN_KEY, body: { reason: "security test" } });
  expect(res.status, res.text).toBe(200);
  return { token: t.owner.tokens.accessToken, apiKey: key.key };
}

/** The most privileged allowed role: the one most likely to slip past a tenant check. */
function strongestRole(roles: readonly Role[]): Role | undefined {
  return ROLES.find((r) => roles.includes(r));
}

export function describeRouteSecurity(spec: RouteSecuritySpec) {
  const op = operation(spec);
  if (covered.has(op)) throw new Error(`duplicate security spec for ${op}`);
  covered.add(op);
  const resourceScoped = spec.resourceScoped ?? /\{\w+\}/.test(spec.path);
  const forbiddenRoles = ROLES.filter((r) => !spec.allowedRoles.includes(r));

  describe(`security: ${op}`, () => {
    let world: SecurityWorld;
    beforeAll(async () => {
      world = { a: await worldTenant(), b: await worldTenant() };
    });
    const params = async (caller?: { role: Role }): Promise<Params> => (spec.setup ? spec.setup(world, caller) : {});

    it("refuses a request without credentials: 401 UNAUTHENTICATED", async () => {
      expectProblem(await send(spec, await params()), 401, "UNAUTHENTICATED");
    });

    itChecksCredentialsBeforeInput(spec);

    it("refuses a non-Bearer Authorization header: 401 UNAUTHENTICATED", async () => {
      const basic = `Basic ${btoa("owner@example.test:password")}`;
      expectProblem(await send(spec, await params(), { authorization: basic }), 401, "UNAUTHENTICATED");
    });

    it("refuses a garbage bearer token: 401 TOKEN_INVALID", async () => {
      expectProblem(await send(spec, await params(), { token: "not.a.jwt" }), 401, "TOKEN_INVALID");
    });

    it("refuses a well-formed API key that was never issued: 401 TOKEN_INVALID", async () => {
      expectProblem(await send(spec, await params(), { token: UNKNOWN_API_KEY }), 401, "TOKEN_INVALID");
    });

    it("refuses the platform admin key (not a tenant credential): 401 TOKEN_INVALID", async () => {
      expectProblem(await send(spec, await params(), { token: env.PLATFORM_ADMIN_KEY }), 401, "TOKEN_INVALID");
    });

    it("refuses a revoked API key: 401 TOKEN_INVALID", async () => {
      const f = await world.a.fixture();
      const key = await createApiKey(f, [...SCOPES]);
      const revoke = await call("DELETE", `/v1/api-keys/${key.id}`, { token: f.owner.tokens.accessToken });
      expect(revoke.status, revoke.text).toBe(204);
      expectProblem(await send(spec, await params(), { token: key.key }), 401, "TOKEN_INVALID");
    });

    it("refuses a suspended tenant's access token and API key: 401 TOKEN_INVALID", async () => {
      const suspended = await suspendedTenant();
      const p = await params();
      expectProblem(await send(spec, p, { token: suspended.token }), 401, "TOKEN_INVALID");
      expectProblem(await send(spec, p, { token: suspended.apiKey }), 401, "TOKEN_INVALID");
    });

    for (const role of forbiddenRoles) {
      it(`forbids the ${role} role: 403 FORBIDDEN`, async () => {
        const p = await params({ role });
        expectProblem(await send(spec, p, { token: await world.a.token(role) }), 403, "FORBIDDEN");
      });
    }

    for (const role of spec.allowedRoles) {
      it(`allows the ${role} role: ${spec.success}`, async () => {
        const p = await params({ role });
        expectSuccess(await send(spec, p, { token: await world.a.token(role) }), spec.success);
      });
    }

    const scopes = spec.apiKeyScopes;
    if (scopes === undefined) {
      it("refuses API keys, even one with every scope: 403 FORBIDDEN", async () => {
        const p = await params();
        expectProblem(await send(spec, p, { token: await world.a.apiKey(SCOPES) }), 403, "FORBIDDEN");
      });
    } else {
      const others = SCOPES.filter((s) => !scopes.includes(s));
      if (others.length > 0) {
        it(`refuses an API key without ${scopes.join(", ")}: 403 INSUFFICIENT_SCOPE`, async () => {
          const p = await params();
          expectProblem(await send(spec, p, { token: await world.a.apiKey(others) }), 403, "INSUFFICIENT_SCOPE");
        });
      }
      it(`allows an API key with exactly ${scopes.join(", ")}: ${spec.success}`, async () => {
        const p = await params();
        expectSuccess(await send(spec, p, { token: await world.a.apiKey(scopes) }), spec.success);
      });
    }

    const crossRole = strongestRole(spec.allowedRoles);
    if (resourceScoped) {
      const foreignCallers: [string, () => Promise<string>][] = [];
      if (crossRole) foreignCallers.push([`tenant B's ${crossRole}`, () => world.b.token(crossRole)]);
      if (scopes) foreignCallers.push(["tenant B's API key", () => world.b.apiKey(scopes)]);
      for (const [who, credential] of foreignCallers) {
        it(`hides tenant A's resource from ${who}: the same 404 NOT_FOUND as a missing id`, async () => {
          const p = await params();
          const token = await credential();
          const foreign = await send(spec, p, { token });
          const missing = await send(spec, randomIds(p), { token });
          expectProblem(foreign, 404, "NOT_FOUND");
          expectProblem(missing, 404, "NOT_FOUND");
          expect(comparable(foreign.body)).toEqual(comparable(missing.body));
        });
      }
    }

    const listed = spec.listsParam;
    if (listed && crossRole) {
      it(`lists tenant A's ${listed} to tenant A only, never to tenant B's ${crossRole}`, async () => {
        const p = await params();
        const id = p[listed];
        if (!id) throw new Error(`setup() returned no ${listed}`);
        const own = await send(spec, p, { token: await world.a.token(crossRole) });
        expectSuccess(own, spec.success);
        expect(own.text).toContain(id);
        const foreign = await send(spec, p, { token: await world.b.token(crossRole) });
        expectSuccess(foreign, spec.success);
        expect(foreign.text).not.toContain(id);
        expect(foreign.text).not.toContain(world.a.id);
      });
    }
  });
}

/** Platform routes: only the platform admin key, never a tenant credential. */
export function describePlatformRouteSecurity(spec: PlatformRouteSpec) {
  const op = operation(spec);
  if (covered.has(op)) throw new Error(`duplicate security spec for ${op}`);
  covered.add(op);

  describe(`security: ${op} (platform)`, () => {
    let tenant: TenantFixture;
    beforeAll(async () => {
      tenant = await createTenant();
    });
    const params = async (): Promise<Params> => (spec.setup ? spec.setup() : {});

    it("refuses a request without the platform key: 401 UNAUTHENTICATED", async () => {
      expectProblem(await send(spec, await params()), 401, "UNAUTHENTICATED");
    });

    itChecksCredentialsBeforeInput(spec);

    it("refuses the platform key sent with a non-Bearer scheme: 401 UNAUTHENTICATED", async () => {
      expectProblem(await send(spec, await params(), { authorization: `Basic ${env.PLATFORM_ADMIN_KEY}` }), 401, "UNAUTHENTICATED");
    });

    it("refuses a wrong key: 401 TOKEN_INVALID", async () => {
      const key = env.PLATFORM_ADMIN_KEY;
      const p = await params();
      const lastFlipped = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
      for (const wrong of [lastFlipped, key.slice(0, -1), `${key}A`]) {
        expectProblem(await send(spec, p, { token: wrong }), 401, "TOKEN_INVALID");
      }
    });

    it("refuses a tenant owner's access token: 401 TOKEN_INVALID", async () => {
      const token = (await login(tenant.slug, tenant.owner.email, tenant.owner.password)).tokens.accessToken;
      expectProblem(await send(spec, await params(), { token }), 401, "TOKEN_INVALID");
    });

    it("refuses a tenant API key with every scope: 401 TOKEN_INVALID", async () => {
      const f = { ...tenant, owner: { ...tenant.owner, tokens: (await login(tenant.slug, tenant.owner.email, tenant.owner.password)).tokens } };
      const key = await createApiKey(f, [...SCOPES]);
      expectProblem(await send(spec, await params(), { token: key.key }), 401, "TOKEN_INVALID");
    });

    it(`allows the platform key: ${spec.success}`, async () => {
      expectSuccess(await send(spec, await params(), { token: env.PLATFORM_ADMIN_KEY }), spec.success);
    });
  });
}
