/**
 * Security specs of orders, buyers' order and ticket lists, and the local payment
 * confirmation (import this module from routes.security.test.ts). The Stripe webhook
 * and the ticket keys are public and listed in PUBLIC_OPERATIONS there.
 */
import { expect } from "vitest";
import type { Role } from "../../../src/db/schema";
import { call } from "../../helpers/http";
import { describeRouteSecurity, type SecurityWorld } from "../../helpers/route-security";
import { drainInventory } from "../../orders/support";
import { holdInA } from "./sales";

const ALL_ROLES = ["owner", "admin", "organizer", "scanner", "customer"] as const;
const ORDER_STAFF = ["owner", "admin", "organizer"] as const;
const freshKey = () => ({ "idempotency-key": crypto.randomUUID() });

/** An order (pending: the tier costs money) of the role about to call, a customer otherwise. */
async function orderInA(w: SecurityWorld, caller?: { role: Role }) {
  const { eventId, holdId } = await holdInA(w, caller);
  const res = await call("POST", `/v1/events/${eventId}/orders`, { token: await w.a.token(caller?.role ?? "customer"), headers: freshKey(), body: { holdId } });
  expect(res.status, res.text).toBe(201);
  return { eventId, orderId: res.body.id as string };
}

/** The same, with the order recorded in D1 (the outbox drained). */
async function recordedOrderInA(w: SecurityWorld, caller?: { role: Role }) {
  const p = await orderInA(w, caller);
  await drainInventory(w.a.id, p.eventId);
  return p;
}

describeRouteSecurity({
  method: "POST",
  path: "/v1/events/{eventId}/orders",
  setup: holdInA,
  headers: freshKey,
  body: (p) => ({ holdId: p.holdId! }),
  allowedRoles: ALL_ROLES,
  success: 201,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/orders/{orderId}",
  setup: orderInA,
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/orders",
  setup: recordedOrderInA,
  allowedRoles: ORDER_STAFF,
  apiKeyScopes: ["orders:read"],
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/me/orders",
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/me/orders/{orderId}",
  setup: recordedOrderInA,
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "GET",
  path: "/v1/me/tickets",
  allowedRoles: ALL_ROLES,
  success: 200,
});

describeRouteSecurity({
  method: "POST",
  path: "/v1/payments/local/confirm",
  setup: orderInA,
  body: (p) => ({ eventId: p.eventId!, orderId: p.orderId! }),
  allowedRoles: ALL_ROLES,
  success: 200,
});
