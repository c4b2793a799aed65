import type { ReportEvent, ReportScope, ReportsRepo } from "../db/repositories/reports";
import { AppError } from "../http/errors";
import { inventoryOf, type InventoryNamespace } from "../inventory/client";
import type { TierCounts } from "../inventory/contract";
import { withTimeout } from "../lib/timeout";
import { errorFields, log } from "../observability/logger";
import { addCounts, addTotals, eventSales, reconcile, recordsByEvent, type EventReconciliation, type EventSales, type SalesRecords } from "./compute";

/** How long a report waits for the inventory's counters before reporting without them. */
export const INVENTORY_READ_TIMEOUT_MS = 2_000;
/** A venue report covers at most this many events; narrow `from`/`to` for more. */
export const MAX_VENUE_REPORT_EVENTS = 500;

/** The event's inventory counters, or null when the DO cannot be reached in time. */
export async function inventoryCounts(ns: InventoryNamespace, tenantId: string, eventId: string): Promise<TierCounts[] | null> {
  try {
    return await withTimeout(inventoryOf(ns, tenantId, eventId).counts(), INVENTORY_READ_TIMEOUT_MS);
  } catch (err) {
    log("warn", "report: inventory counters unavailable", { eventId, ...errorFields(err) });
    return null;
  }
}

async function records(repo: ReportsRepo, scope: ReportScope): Promise<SalesRecords> {
  const [orders, lines, tickets, tiers] = await Promise.all([repo.orderTotals(scope), repo.lineTotals(scope), repo.ticketCounts(scope), repo.tiers(scope)]);
  return { orders, lines, tickets, tiers };
}

/** One event's report; the counters are read alongside the records. */
export async function eventReport(repo: ReportsRepo, eventId: string, counts: Promise<TierCounts[] | null>): Promise<EventReconciliation> {
  const [r, c] = await Promise.all([records(repo, { eventId }), counts]);
  return reconcile(r, c);
}

export interface VenueReport extends Omit<EventSales, "tiers"> {
  events: (EventSales & { event: ReportEvent })[];
}

/**
 * A venue's report: each live event starting in [from, to] with its sales, and the venue's
 * totals as the sum of those rows (per currency), so the two always agree.
 */
export async function venueReport(repo: ReportsRepo, venueId: string, range: { from?: number; to?: number }): Promise<VenueReport> {
  const list = await repo.venueEvents(venueId, { ...range, limit: MAX_VENUE_REPORT_EVENTS + 1 });
  if (list.length > MAX_VENUE_REPORT_EVENTS) {
    throw new AppError("VALIDATION_FAILED", `The report covers more than ${MAX_VENUE_REPORT_EVENTS} events; narrow from/to`, {
      errors: [{ field: "query.from", message: `narrow the range to at most ${MAX_VENUE_REPORT_EVENTS} events` }],
    });
  }
  const perEvent = recordsByEvent(await records(repo, { venueId, ...range }));
  const empty: SalesRecords = { orders: [], lines: [], tickets: [], tiers: [] };
  // Rows only for the listed events: one created between the two reads is left out of both.
  const events = list.map((event) => ({ event, ...eventSales(perEvent.get(event.id) ?? empty) }));
  return {
    totals: addTotals(events.map((e) => e.totals)),
    tickets: addCounts(events.map((e) => e.tickets)),
    events,
  };
}
