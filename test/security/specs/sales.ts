/**
 * Security specs of the sale routes: ticket tiers, quotes, holds (import this module from
 * routes.security.test.ts). The role lists are the intended policy spelled out, not
 * imported from the product. The public availability route is listed in PUBLIC_OPERATIONS.
 */
import { expect } from "vitest";
import type { Role } from "../../../src/db/schema";
import { eventBody } from "../../helpers/event-fixtures";
import { call } from "../../helpers/http";
import { describeRouteSecurity, type SecurityWorld } from "../../helpers/route-security";
import { venueInA } from "./fixtures";

const ALL_ROLES = ["owner", "admin", "organizer", "scanner", "customer"] as const;
const STAFF = ["owner", "admin", "organizer", "scanner"] as const;
const EDITORS = ["owner", "admin", "organizer"] as const;

const tierBody = () => ({ name: "General", capacity: 100, currency: "EUR", priceMinor: 5000, maxPerBuyer: 10 });
const freshKey = () => ({ "idempotency-key": crypto.randomUUID() });

/**
 * A fresh DRAFT event in tenant A, created by A's organizer at a venue the organizer may
 * use, so every editor role may manage its tiers.
 */
async function eventInA(w: SecurityWorld) {
  const { venueId } = await venueInA(w);
  const res = await call("POST", "/v1/events", { token: await w.a.token("organizer"), body: eventBody(venueId) });
  expect(res.status, res.text).toBe(201);
  return { eventId: res.body.id as string };
}

export async function tierIn(w: SecurityWorld, eventId: string) {
  const res = await call("POST", `/v1/events/${eventId}/tiers`, { token: await w.a.token("owner"), body: tierBody() });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

export async function moveTo(w: SecurityWorld, eventId: string, ...statuses: string[]) {
  const token = await w.a.token("owner");
  for (const to of statuses) {
    const current = await call("GET", `/v1/events/${eventId}`, { token });
    const res = await call("POST", `/v1/events/${eventId}/status`, { token, body: { to, reason: "security test", version: current.body.version } });
    expect(res.status, res.text).toBe(200);
  }
}

async function tierInA(w: SecurityWorld) {
  const { eventId } = await eventInA(w);
  return { eventId, tierId: await tierIn(w, eventId) };
}

/** A published (so customers may see it) event of tenant A with one tier. */
async function publishedTierInA(w: SecurityWorld) {
  const p = await tierInA(w);
  await moveTo(w, p.eventId, "PUBLISHED");
  return p;
}

/** An on-sale event of tenant A with one tier. */
export async function onSaleTierInA(w: SecurityWorld) {
  const p = await tierInA(w);
  await moveTo(w, p.eventId, "PUBLISHED", "ON_SALE");
  return p;
}

/** A hold on an on-sale event of tenant A, made by the role about to call (a customer otherwise): holds are their buyer's. */
export async function holdInA(w: SecurityWorld, caller?: { role: Role }) {
  const { eventId, tierId } = await onSaleTierInA(w);
  const res = await call("POST", `/v1/events/${eventId}/holds`, {
    token: await w.a.token(caller?.role ?? "customer"),
    headers: freshKey(),
    body: { items: [{ tierId, quantity: 1 }] },
  });
  expect(res.status, res.text).toBe(201);
  return { eventId, holdId: res.body.id as string };
}

// --- Ticket tiers ---------------------------------------------------------------

describeRouteSecurity({
  method: "POST",
  path: "/v1/events/{eventId}/tiers",
  setup: eventInA,
  body: tierBody,
  allowedRoles: EDITORS,
  apiKeyScopes: ["events:write"],
  success: 201,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/tiers",
  setup: tierInA,
  allowedRoles: STAFF,
  apiKeyScopes: ["events:read"],
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/tiers/{tierId}",
  setup: tierInA,
  allowedRoles: STAFF,
  apiKeyScopes: ["events:read"],
  success: 200,
});

describeRouteSecurity({
  method: "PATCH",
  path: "/v1/events/{eventId}/tiers/{tierId}",
  setup: tierInA,
  body: () => ({ capacity: 150, version: 1 }),
  allowedRoles: EDITORS,
  apiKeyScopes: ["events:write"],
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/events/{eventId}/tiers/sync",
  setup: tierInA,
  allowedRoles: EDITORS,
  apiKeyScopes: ["events:write"],
  success: 200,
});

// Buyers price tickets too: every role, and keys that may read events.
describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/tiers/{tierId}/quote",
  query: { quantity: "2" },
  setup: publishedTierInA,
  allowedRoles: ALL_ROLES,
  apiKeyScopes: ["events:read"],
  success: 200,
});

// --- Holds: people buy, API keys do not ------------------------------------------------

describeRouteSecurity({
  method: "POST",
  path: "/v1/events/{eventId}/holds",
  setup: onSaleTierInA,
  headers: freshKey,
  body: (p) => ({ items: [{ tierId: p.tierId!, quantity: 1 }] }),
  allowedRoles: ALL_ROLES,
  success: 201,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/holds/{holdId}",
  setup: holdInA,
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "DELETE",
  path: "/v1/events/{eventId}/holds/{holdId}",
  setup: holdInA,
  headers: freshKey,
  allowedRoles: ALL_ROLES,
  success: 200,
});
