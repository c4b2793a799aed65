/**
 * Security specs of the venue routes (import this module from routes.security.test.ts).
 * The role lists are the intended policy spelled out, not imported from the product.
 */
import { expect } from "vitest";
import { call } from "../../helpers/http";
import { describeRouteSecurity, type SecurityWorld } from "../../helpers/route-security";

const STAFF = ["owner", "admin", "organizer", "scanner"] as const;
const STAFF_ADMINS = ["owner", "admin"] as const;

/** A fresh venue in tenant A (version 1), so destructive cases always have a target. */
async function venueInA(w: SecurityWorld) {
  const res = await call("POST", "/v1/venues", {
    token: await w.a.token("owner"),
    body: { name: "Security Hall", addressLine1: "1 Test Street", city: "Berlin", country: "DE", timezone: "Europe/Berlin", capacity: 100 },
  });
  expect(res.status, res.text).toBe(201);
  return { venueId: res.body.id as string };
}

/** A fresh venue in tenant A and an organizer of A who holds access to it. */
async function grantInA(w: SecurityWorld) {
  const { venueId } = await venueInA(w);
  const userId = await w.a.userId("organizer");
  const res = await call("PUT", `/v1/venues/${venueId}/access/${userId}`, { token: await w.a.token("owner") });
  expect(res.status, res.text).toBe(204);
  return { venueId, userId };
}

describeRouteSecurity({
  method: "POST",
  path: "/v1/venues",
  body: () => ({ name: "New Hall", addressLine1: "2 Test Street", city: "Paris", country: "FR", timezone: "Europe/Paris", capacity: 50 }),
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["venues:write"],
  success: 201,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/venues",
  query: { limit: "100" },
  setup: venueInA,
  listsParam: "venueId",
  allowedRoles: STAFF,
  apiKeyScopes: ["venues:read"],
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/venues/{venueId}",
  setup: venueInA,
  allowedRoles: STAFF,
  apiKeyScopes: ["venues:read"],
  success: 200,
});

describeRouteSecurity({
  method: "PATCH",
  path: "/v1/venues/{venueId}",
  setup: venueInA,
  body: () => ({ version: 1, name: `Renamed ${crypto.randomUUID().slice(0, 8)}` }),
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["venues:write"],
  success: 200,
});

describeRouteSecurity({
  method: "DELETE",
  path: "/v1/venues/{venueId}",
  query: { version: "1" },
  setup: venueInA,
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["venues:write"],
  success: 204,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/venues/{venueId}/access",
  setup: grantInA,
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["venues:read"],
  success: 200,
});

describeRouteSecurity({
  method: "PUT",
  path: "/v1/venues/{venueId}/access/{userId}",
  setup: async (w) => ({ ...(await venueInA(w)), userId: await w.a.userId("organizer") }),
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["venues:write"],
  success: 204,
});

describeRouteSecurity({
  method: "DELETE",
  path: "/v1/venues/{venueId}/access/{userId}",
  setup: grantInA,
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["venues:write"],
  success: 204,
});
