/**
 * Security specs of the sales reports (import this module from routes.security.test.ts).
 * The role lists are the intended policy spelled out, not imported from the product:
 * tenant admins and organizers (of events they may manage, at venues they have access
 * to), and API keys with reports:read.
 */
import { describeRouteSecurity } from "../../helpers/route-security";
import { venueInA } from "./fixtures";
import { onSaleTierInA } from "./sales";

const REPORT_READERS = ["owner", "admin", "organizer"] as const;

// The event is created by A's organizer at a venue they have access to.
describeRouteSecurity({
  method: "GET",
  path: "/v1/events/{eventId}/report",
  setup: onSaleTierInA,
  allowedRoles: REPORT_READERS,
  apiKeyScopes: ["reports:read"],
  success: 200,
});

// A's organizer is granted access to the venue.
describeRouteSecurity({
  method: "GET",
  path: "/v1/venues/{venueId}/report",
  setup: venueInA,
  allowedRoles: REPORT_READERS,
  apiKeyScopes: ["reports:read"],
  success: 200,
});
