import type { TenantPrincipal } from "../auth/principal";
import type { EventRow, VenueRow } from "../db/schema";
import type { TenantDb } from "../db/tenant-db";
import { AppError } from "../http/errors";
import { PUBLICLY_LISTED } from "./event-status";

export const isTenantAdmin = (p: TenantPrincipal) => p.kind === "user" && (p.role === "owner" || p.role === "admin");

/**
 * The venue an event is created at or moved to must exist in the caller's tenant (a
 * foreign or deleted venue reads as missing), and an organizer needs access to it.
 * API keys with events:write act for the tenant and are not limited by venue.
 */
export async function usableVenue(p: TenantPrincipal, db: TenantDb, venueId: string): Promise<VenueRow> {
  const venue = await db.venues.findById(venueId);
  if (!venue) {
    throw new AppError("VALIDATION_FAILED", "No such venue", { errors: [{ field: "body.venueId", message: "No such venue" }] });
  }
  if (p.kind === "user" && !isTenantAdmin(p) && !(await db.venues.hasAccess(venueId, p.userId))) {
    throw new AppError("VENUE_ACCESS_DENIED", "You have no access to this venue");
  }
  return venue;
}

/** Who may change an event: its creator, tenant admins, organizers with access to its venue, scoped keys. */
export async function assertCanManageEvent(p: TenantPrincipal, db: TenantDb, event: EventRow): Promise<void> {
  if (p.kind === "api_key" || isTenantAdmin(p)) return;
  if (p.userId === event.createdBy) return;
  if (p.role === "organizer" && (await db.venues.hasAccess(event.venueId, p.userId))) return;
  throw new AppError("FORBIDDEN", "Only the event's creator, tenant admins or organizers of its venue may change it");
}

/**
 * Who may delete an event: tenant admins, its creator and scoped keys. Unlike editing,
 * venue access is not enough: an organizer cannot delete a colleague's event.
 */
export function assertCanDeleteEvent(p: TenantPrincipal, event: EventRow): void {
  if (p.kind === "api_key" || isTenantAdmin(p)) return;
  if (p.userId === event.createdBy) return;
  throw new AppError("FORBIDDEN", "Only the event's creator or tenant admins may delete it");
}

export const principalId = (p: TenantPrincipal) => (p.kind === "user" ? p.userId : `api_key:${p.keyId}`);

/** Roles that work on the tenant's events and see them in every status. */
const EVENT_STAFF: readonly string[] = ["owner", "admin", "organizer", "scanner"];

/**
 * The event as a sale-path caller may see it: staff and API keys see every event of the
 * tenant; customers only events the public could see (a publicly listed status), so a
 * draft's tiers and prices do not leak to buyers. Anything else is the same 404 as a
 * missing or foreign id.
 */
export async function visibleEvent(p: TenantPrincipal, db: TenantDb, eventId: string): Promise<EventRow> {
  const event = await db.events.findById(eventId);
  // Buyers see what the public catalogue would serve by id: listed states, and PUBLIC or
  // UNLISTED visibility (a PRIVATE event is for staff until it is opened up).
  const visible =
    event && (seesEveryEvent(p) || (PUBLICLY_LISTED.includes(event.status) && event.visibility !== "PRIVATE"));
  if (!visible) throw new AppError("NOT_FOUND", "No such event");
  return event;
}

/** Staff (and API keys) see every event of the tenant; everyone else only what the public could. */
export const seesEveryEvent = (p: TenantPrincipal) => p.kind === "api_key" || EVENT_STAFF.includes(p.role);
