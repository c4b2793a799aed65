/**
 * Security specs of the event CRUD and history routes (import this module from
 * routes.security.test.ts). The role lists are the intended policy spelled out, not
 * imported from the product.
 */
import { expect } from "vitest";
import { eventBody } from "../../helpers/event-fixtures";
import { call } from "../../helpers/http";
import { describeRouteSecurity, type SecurityWorld } from "../../helpers/route-security";
import { venueInA } from "./fixtures";

const STAFF = ["owner", "admin", "organizer", "scanner"] as const;
/** May create and edit; deleting is further limited to admins and the creator (the organizer below creates every event). */
const EDITORS = ["owner", "admin", "organizer"] as const;


/** A fresh event (version 1) in tenant A, created by A's organizer, so every editor role may change and delete it. */
async function eventInA(w: SecurityWorld) {
  const { venueId } = await venueInA(w);
  const res = await call("POST", "/v1/events", { token: await w.a.token("organizer"), body: eventBody(venueId) });
  expect(res.status, res.text).toBe(201);
  return { eventId: res.body.id as string, venueId };
}

describeRouteSecurity({
  method: "POST",
  path: "/v1/events",
  setup: venueInA,
  body: (p) => eventBody(p.venueId!),
  allowedRoles: EDITORS,
  apiKeyScopes: ["events:write"],
  success: 201,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events",
  query: { limit: "100" },
  setup: eventInA,
  listsParam: "eventId",
  allowedRoles: STAFF,
  apiKeyScopes: ["events:read"],
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}",
  setup: eventInA,
  allowedRoles: STAFF,
  apiKeyScopes: ["events:read"],
  success: 200,
});

describeRouteSecurity({
  method: "PUT",
  path: "/v1/events/{eventId}",
  setup: eventInA,
  body: (p) => ({ ...eventBody(p.venueId!), name: "Replaced by security test", version: 1 }),
  allowedRoles: EDITORS,
  apiKeyScopes: ["events:write"],
  success: 200,
});

describeRouteSecurity({
  method: "PATCH",
  path: "/v1/events/{eventId}",
  setup: eventInA,
  body: () => ({ name: "Patched by security test", version: 1 }),
  allowedRoles: EDITORS,
  apiKeyScopes: ["events:write"],
  success: 200,
});

describeRouteSecurity({
  method: "DELETE",
  path: "/v1/events/{eventId}",
  query: { version: "1" },
  setup: eventInA,
  allowedRoles: EDITORS,
  apiKeyScopes: ["events:write"],
  success: 204,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/history",
  setup: eventInA,
  allowedRoles: STAFF,
  apiKeyScopes: ["events:read"],
  success: 200,
});
