import { describe, expect, it } from "vitest";
import { createApiKey, createTenant, registerUser, STRONG_PASSWORD, unique } from "../helpers/fixtures";
import { call } from "../helpers/http";
import { coveredOperations, describePlatformRouteSecurity, describeRouteSecurity, type SecurityWorld } from "../helpers/route-security";
// Route groups keep their specs next to each other in ./specs; importing them here puts
// them under the coverage test below.
import "./specs/venues";
import "./specs/events";
import "./specs/event-status";
import "./specs/sales";
import "./specs/orders";
import "./specs/after-sale";
import "./specs/reports";
import "./specs/fraud";

/** Operations anyone may call. Adding one here is a security decision: say why in review. */
const PUBLIC_OPERATIONS = new Set([
  "GET /health/live",
  "GET /health/ready",
  "GET /.well-known/jwks.json",
  "POST /v1/auth/register",
  "POST /v1/auth/login",
  "POST /v1/auth/refresh",
  "POST /v1/auth/logout",
  "POST /v1/auth/password-reset/request",
  "POST /v1/auth/password-reset/confirm",
  "POST /v1/auth/verify-email",
  // The public catalogue: published, public events of a tenant named by its slug.
  "GET /v1/public/{tenantSlug}/events",
  "GET /v1/public/{tenantSlug}/events/{eventId}",
  "GET /v1/public/{tenantSlug}/events/{eventId}/availability",
  // Scanners' offline verification keys, and the payment provider's signed webhook.
  "GET /v1/public/ticket-keys",
  "POST /v1/webhooks/stripe",
]);

// The intended policy, spelled out rather than imported from the product, so widening a
// role list in src/ fails here instead of silently passing.
const ALL_ROLES = ["owner", "admin", "organizer", "scanner", "customer"] as const;
const STAFF_ADMINS = ["owner", "admin"] as const;

/** A fresh customer in tenant A. */
const customerInA = async (w: SecurityWorld) => ({ userId: (await registerUser(await w.a.fixture())).id });

/** A fresh, banned customer in tenant A (so unban has something to lift). */
async function bannedCustomerInA(w: SecurityWorld) {
  const f = await w.a.fixture();
  const u = await registerUser(f);
  const res = await call("POST", `/v1/users/${u.id}/ban`, { token: f.owner.tokens.accessToken, body: { reason: "setup" } });
  expect(res.status, res.text).toBe(200);
  return { userId: u.id };
}

const tenantToManage = async () => ({ tenantId: (await createTenant()).id });

// --- Me: any signed-in user, never an API key -----------------------------------

describeRouteSecurity({ method: "GET", path: "/v1/me", allowedRoles: ALL_ROLES, success: 200 });

describeRouteSecurity({
  method: "POST",
  path: "/v1/me/password",
  // Same password again: it still bumps the token version, and the caller can log in afterwards.
  body: () => ({ currentPassword: STRONG_PASSWORD, newPassword: STRONG_PASSWORD }),
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({ method: "POST", path: "/v1/me/verify-email/resend", allowedRoles: ALL_ROLES, success: 202 });

// --- Users --------------------------------------------------------------------

describeRouteSecurity({
  method: "GET",
  path: "/v1/users",
  query: { limit: "100" },
  setup: customerInA,
  listsParam: "userId",
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["users:read"],
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/users/{userId}",
  setup: customerInA,
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["users:read"],
  success: 200,
});

describeRouteSecurity({
  method: "PATCH",
  path: "/v1/users/{userId}/role",
  setup: customerInA,
  body: () => ({ role: "organizer" }),
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["users:write"],
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/users/{userId}/ban",
  setup: customerInA,
  body: () => ({ reason: "security test" }),
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["users:write"],
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/users/{userId}/unban",
  setup: bannedCustomerInA,
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["users:write"],
  success: 200,
});

// --- API keys: managed by people only ----------------------------------------------

describeRouteSecurity({
  method: "GET",
  path: "/v1/api-keys",
  query: { limit: "100" },
  setup: async (w) => ({ keyId: (await createApiKey(await w.a.fixture(), ["users:read"])).id }),
  listsParam: "keyId",
  allowedRoles: STAFF_ADMINS,
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/api-keys",
  body: () => ({ name: "security test", scopes: ["users:read"] }),
  allowedRoles: STAFF_ADMINS,
  success: 201,
});

describeRouteSecurity({
  method: "DELETE",
  path: "/v1/api-keys/{keyId}",
  setup: async (w) => ({ keyId: (await createApiKey(await w.a.fixture(), ["users:read"])).id }),
  allowedRoles: STAFF_ADMINS,
  success: 204,
});

// --- Audit log --------------------------------------------------------------------

describeRouteSecurity({
  method: "GET",
  path: "/v1/audit-log",
  // Tenant B asks for A's user by id: it must get nothing back.
  query: { targetId: "{userId}", limit: "100" },
  setup: customerInA,
  listsParam: "userId",
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["audit:read"],
  success: 200,
});

// --- Platform: the platform admin key only ---------------------------------------

describePlatformRouteSecurity({
  method: "POST",
  path: "/v1/platform/tenants",
  body: () => {
    const slug = unique("sec");
    return { slug, name: "Security test", owner: { email: `owner@${slug}.test`, name: "Owner", password: STRONG_PASSWORD } };
  },
  success: 201,
});

describePlatformRouteSecurity({ method: "GET", path: "/v1/platform/tenants", success: 200 });

describePlatformRouteSecurity({ method: "GET", path: "/v1/platform/tenants/{tenantId}", setup: tenantToManage, success: 200 });

describePlatformRouteSecurity({
  method: "POST",
  path: "/v1/platform/tenants/{tenantId}/suspend",
  setup: tenantToManage,
  body: () => ({ reason: "security test" }),
  success: 200,
});

describePlatformRouteSecurity({ method: "POST", path: "/v1/platform/tenants/{tenantId}/reactivate", setup: tenantToManage, success: 200 });

// --- Coverage: a route added without a spec above fails here ----------------------

interface OpenApiDoc {
  paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
}

async function documentedOperations() {
  const res = await call<OpenApiDoc>("GET", "/openapi.json");
  expect(res.status, res.text).toBe(200);
  const ops = new Map<string, { security?: Record<string, string[]>[] }>();
  for (const [path, item] of Object.entries(res.body.paths)) {
    for (const [method, op] of Object.entries(item)) ops.set(`${method.toUpperCase()} ${path}`, op);
  }
  return ops;
}

describe("security coverage of the OpenAPI document", () => {
  it("has a security spec in this file for every operation that is not explicitly public", async () => {
    const ops = await documentedOperations();
    const uncovered = [...ops.keys()].filter((op) => !coveredOperations().has(op) && !PUBLIC_OPERATIONS.has(op));
    expect(uncovered, "operations without a security spec").toEqual([]);
  });

  it("documents every covered and every public operation (no stale entries)", async () => {
    const ops = await documentedOperations();
    const stale = [...coveredOperations(), ...PUBLIC_OPERATIONS].filter((op) => !ops.has(op));
    expect(stale).toEqual([]);
  });

  it("declares a security scheme on every covered operation and none on public ones", async () => {
    const ops = await documentedOperations();
    for (const op of coveredOperations()) {
      const scheme = op.includes("/v1/platform/") ? "platformKey" : "bearerAuth";
      expect(ops.get(op)?.security, op).toEqual([{ [scheme]: [] }]);
    }
    for (const op of PUBLIC_OPERATIONS) expect(ops.get(op)?.security, op).toBeUndefined();
  });

  it("really serves the public operations without credentials", async () => {
    for (const op of PUBLIC_OPERATIONS) {
      const [method, template] = op.split(" ") as [string, string];
      // Templated paths get well-formed ids of nothing: they must answer 404, not 401.
      const path = template.replace("{tenantSlug}", "no-such-tenant").replace("{eventId}", crypto.randomUUID());
      const res = await call(method, path, method === "POST" ? { body: {} } : {});
      if (method === "GET" && path !== template) expect([res.status, res.body?.code], op).toEqual([404, "NOT_FOUND"]);
      else if (method === "GET") expect(res.status, `${op}: ${res.text}`).toBe(200);
      // The webhook's gate is its signature, not credentials.
      else if (path === "/v1/webhooks/stripe") expect([res.status, res.body?.code], op).toEqual([400, "WEBHOOK_SIGNATURE_INVALID"]);
      // POSTs reach body validation instead of an auth gate.
      else expect([res.status, res.body?.code], op).toEqual([400, "VALIDATION_FAILED"]);
    }
  });
});
