/**
 * Security specs of check-in, transfers, refunds, waitlists and cancellation progress
 * (import this module from routes.security.test.ts). Role lists are the intended policy.
 */
import { expect } from "vitest";
import type { Role } from "../../../src/db/schema";
import { call } from "../../helpers/http";
import { describeRouteSecurity, type SecurityWorld } from "../../helpers/route-security";
import { drainInventory } from "../../orders/support";
import { holdInA, moveTo, onSaleTierInA } from "./sales";

const ALL_ROLES = ["owner", "admin", "organizer", "scanner", "customer"] as const;
const STAFF = ["owner", "admin", "organizer", "scanner"] as const;
const SCANNERS = ["owner", "admin", "scanner"] as const;
const ADMINS = ["owner", "admin"] as const;
const freshKey = () => ({ "idempotency-key": crypto.randomUUID() });

/** A paid order of the role about to call (a customer otherwise), recorded in D1, with its first ticket. */
async function ticketInA(w: SecurityWorld, caller?: { role: Role }) {
  const { eventId, holdId } = await holdInA(w, caller);
  const token = await w.a.token(caller?.role ?? "customer");
  const order = await call("POST", `/v1/events/${eventId}/orders`, { token, headers: freshKey(), body: { holdId } });
  expect(order.status, order.text).toBe(201);
  const paid = await call("POST", "/v1/payments/local/confirm", { token, body: { eventId, orderId: order.body.id } });
  expect(paid.body.outcome).toBe("paid");
  const now = await call("GET", `/v1/events/${eventId}/orders/${order.body.id}`, { token });
  await drainInventory(w.a.id, eventId);
  return { eventId, orderId: order.body.id as string, ticketId: now.body.tickets[0].id as string, code: now.body.tickets[0].code as string };
}

/** An on-sale event whose new tier (capacity 1) is held by A's owner: sold out, so people may queue. */
async function soldOutTierInA(w: SecurityWorld) {
  const { eventId } = await onSaleTierInA(w);
  const owner = await w.a.token("owner");
  const tier = await call("POST", `/v1/events/${eventId}/tiers`, { token: owner, body: { name: "Tiny", capacity: 1, currency: "EUR", priceMinor: 5000, maxPerBuyer: 5 } });
  expect(tier.status, tier.text).toBe(201);
  const hold = await call("POST", `/v1/events/${eventId}/holds`, { token: owner, headers: freshKey(), body: { items: [{ tierId: tier.body.id, quantity: 1 }] } });
  expect(hold.status, hold.text).toBe(201);
  return { eventId, tierId: tier.body.id as string };
}

async function entryInA(w: SecurityWorld, caller?: { role: Role }) {
  const p = await soldOutTierInA(w);
  const res = await call("POST", `/v1/events/${p.eventId}/waitlist`, { token: await w.a.token(caller?.role ?? "customer"), body: { tierId: p.tierId, quantity: 1 } });
  expect(res.status, res.text).toBe(201);
  return { eventId: p.eventId, entryId: res.body.id as string };
}

async function cancelledEventInA(w: SecurityWorld) {
  const p = await onSaleTierInA(w);
  await moveTo(w, p.eventId, "CANCELLED");
  return p;
}

describeRouteSecurity({
  method: "POST",
  path: "/v1/events/{eventId}/check-ins",
  setup: (w) => ticketInA(w),
  body: (p) => ({ code: p.code! }),
  allowedRoles: SCANNERS,
  apiKeyScopes: ["checkin:write"],
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/check-ins",
  setup: onSaleTierInA,
  allowedRoles: STAFF,
  apiKeyScopes: ["events:read"],
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/tickets/{ticketId}/transfer",
  setup: ticketInA,
  body: () => ({ toEmail: `friend-${crypto.randomUUID().slice(0, 8)}@example.test` }),
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/me/tickets/claim",
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/events/{eventId}/orders/{orderId}/refunds",
  setup: (w) => ticketInA(w),
  headers: freshKey,
  body: (p) => ({ ticketIds: [p.ticketId!], reason: "security test" }),
  allowedRoles: ADMINS,
  apiKeyScopes: ["refunds:write"],
  success: 201,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/orders/{orderId}/refunds",
  setup: (w) => ticketInA(w),
  allowedRoles: ADMINS,
  apiKeyScopes: ["orders:read"],
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/events/{eventId}/waitlist",
  setup: soldOutTierInA,
  body: (p) => ({ tierId: p.tierId!, quantity: 1 }),
  allowedRoles: ALL_ROLES,
  success: 201,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/waitlist",
  setup: onSaleTierInA,
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "DELETE",
  path: "/v1/events/{eventId}/waitlist/{entryId}",
  setup: entryInA,
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/cancellation",
  setup: cancelledEventInA,
  allowedRoles: ["owner", "admin", "organizer"],
  apiKeyScopes: ["events:read"],
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/revocations",
  setup: onSaleTierInA,
  allowedRoles: SCANNERS,
  apiKeyScopes: ["checkin:write"],
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/tickets/{ticketId}/transfers",
  setup: (w) => ticketInA(w),
  allowedRoles: ADMINS,
  apiKeyScopes: ["orders:read"],
  success: 200,
});
