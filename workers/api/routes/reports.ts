import { createRoute, z } from "@hono/zod-openapi";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import { TenantScope } from "../../../src/db/client";
import { ReportsRepo } from "../../../src/db/repositories/reports";
import type { Role } from "../../../src/db/schema";
import { assertCanManageEvent, isTenantAdmin } from "../../../src/domain/event-access";
import { findEvent } from "../../../src/domain/event-writes";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, bearerAuth, createRouter, errorResponses, jsonContent } from "../../../src/http/openapi";
import { eventReport, inventoryCounts, MAX_VENUE_REPORT_EVENTS, venueReport } from "../../../src/reports/load";
import { IdParam } from "../../../src/schemas/common";
import { EventReport, rangeEnd, rangeStart, toEventReport, toVenueReport, VenueReport, VenueReportQuery } from "../../../src/schemas/reports";

const tags = ["Reports"];
/** Tenant admins; organizers for the events they may manage and the venues they have access to; keys with reports:read. */
const REPORT_STAFF: readonly Role[] = ["owner", "admin", "organizer"];
const reader = guard({ roles: REPORT_STAFF, scopes: ["reports:read"] });

const DEFINITIONS =
  "All money is in integer minor units, per currency (never added across currencies). Paid orders are orders that were paid: " +
  "status `paid`, `refunded`, `partially_refunded`, or `cancelled` after payment (an event's cancellation refunds them in full); " +
  "pending, expired and unpaid cancelled orders took no money and are left out. " +
  "`gross` = sum of paid orders' totals; `faceValue` = sum of their lines' subtotal − group discount; " +
  "`fees` = sum of their lines' service + facility fees; `taxes` = sum of their lines' tax (so gross = faceValue + fees + taxes); " +
  "`refunds` = sum of paid orders' refunded amounts; `net` = gross − refunds. Per tier: `issued` = tickets issued, " +
  "`sold` = issued − refunded − cancelled, `checkedIn` = tickets with a check-in time. Computed from the committed records " +
  "(orders and tickets), which follow the event's inventory within moments of each sale.";

export const eventReportRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/report",
  tags,
  security: bearerAuth,
  summary: "The event's sales report: sold per tier, gross, fees, taxes, refunds, net, check-ins",
  description:
    `${DEFINITIONS} The report also reads the event inventory's live counters: per tier \`inventorySold\` and ` +
    "`consistent` (sold equals the inventory's sold). The records follow the inventory through its outbox, so `consistent` " +
    "may be false for a moment after a sale; lasting disagreement means the outbox is behind. When the inventory cannot be " +
    "reached the report is still answered, with `inventory: null` (and null per tier). Tenant admins, organizers who may " +
    "manage the event, and API keys with `reports:read`.",
  middleware: reader,
  request: { params: z.strictObject({ eventId: IdParam("eventId") }) },
  responses: { 200: jsonContent(EventReport, "The report"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const venueReportRoute = createRoute({
  method: "get",
  path: "/v1/venues/{venueId}/report",
  tags,
  security: bearerAuth,
  summary: "The venue's sales report: its events' reports and their totals per currency",
  description:
    `${DEFINITIONS} Covers the venue's events starting in [from, to] (both optional; a date means the whole day, UTC), ` +
    `at most ${MAX_VENUE_REPORT_EVENTS} (more: 400, narrow the range). The venue's totals are the sums of the events' rows. ` +
    "Tenant admins, organizers with access to the venue, and API keys with `reports:read`.",
  middleware: reader,
  request: { params: z.strictObject({ venueId: IdParam("venueId") }), query: VenueReportQuery },
  responses: { 200: jsonContent(VenueReport, "The report"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "VALIDATION_FAILED") },
});

export const reportRoutes = createRouter()
  .openapi(eventReportRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const event = await findEvent(db, c.req.valid("param").eventId);
    await assertCanManageEvent(principal, db, event);
    const repo = new ReportsRepo(new TenantScope(c.var.db, principal.tenantId));
    const report = await eventReport(repo, event.id, inventoryCounts(c.var.config.EVENT_INVENTORY, principal.tenantId, event.id));
    return c.json(toEventReport(event, report, c.var.now()), 200);
  })
  .openapi(venueReportRoute, async (c) => {
    const { principal, db } = tenantOf(c);
    const venue = await db.venues.findById(c.req.valid("param").venueId);
    if (!venue) throw new AppError("NOT_FOUND", "No such venue");
    if (principal.kind === "user" && !isTenantAdmin(principal) && !(await db.venues.hasAccess(venue.id, principal.userId))) {
      throw new AppError("FORBIDDEN", "Only tenant admins and organizers with access to the venue may see its report");
    }
    const q = c.req.valid("query");
    const range = {
      ...(q.from !== undefined ? { from: rangeStart(q.from) } : {}),
      ...(q.to !== undefined ? { to: rangeEnd(q.to) } : {}),
    };
    const repo = new ReportsRepo(new TenantScope(c.var.db, principal.tenantId));
    const report = await venueReport(repo, venue.id, range);
    return c.json(toVenueReport(venue, range, report, c.var.now()), 200);
  });
