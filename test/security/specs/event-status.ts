/**
 * Security spec of the event status route (import this module from routes.security.test.ts).
 * The role list is the intended policy spelled out, not imported from the product.
 */
import { seedEvent } from "../../events-status/seed";
import { describeRouteSecurity, type SecurityWorld } from "../../helpers/route-security";

/**
 * A fresh DRAFT event (version 1) in tenant A, created by A's organizer: the organizer
 * may change it as its creator, owners and admins as tenant admins, keys by scope.
 */
async function draftEventInA(w: SecurityWorld) {
  const organizer = await w.a.userId("organizer");
  const event = await seedEvent(w.a.id, organizer);
  return { eventId: event.id };
}

describeRouteSecurity({
  method: "POST",
  path: "/v1/events/{eventId}/status",
  setup: draftEventInA,
  // DRAFT → REVIEW: legal for every allowed principal (not an admin-only review decision).
  body: () => ({ to: "REVIEW", reason: "security test", version: 1 }),
  allowedRoles: ["owner", "admin", "organizer"],
  apiKeyScopes: ["events:write"],
  success: 200,
});
