import { z } from "@hono/zod-openapi";
import { EVENT_STATUSES } from "../db/schema";
import type { CurrencyTotals, EventReconciliation, TicketCounts, TierSales } from "../reports/compute";
import type { VenueReport as VenueReportData } from "../reports/load";
import type { ReportEvent } from "../db/repositories/reports";
import { iso } from "./common";

/** Sales reports (src/reports/compute.ts has the definitions). Money: integer minor units. */

const Minor = (description: string) => z.number().int().openapi({ description });
const Count = (description: string) => z.number().int().min(0).openapi({ description });

export const ReportCurrencyTotals = z
  .object({
    currency: z.string().openapi({ example: "EUR" }),
    orders: Count("Paid orders (paid, refunded, partially_refunded, or cancelled after payment)"),
    refundedOrders: Count("Paid orders with anything refunded"),
    tickets: Count("Tickets those orders bought"),
    gross: Minor("Sum of paid orders' totals (= faceValue + fees + taxes)"),
    faceValue: Minor("Sum of lines' subtotal − group discount"),
    groupDiscounts: Minor("Sum of lines' group discounts (already taken off faceValue)"),
    serviceFees: Minor("Sum of lines' service fees"),
    facilityFees: Minor("Sum of lines' facility fees"),
    fees: Minor("serviceFees + facilityFees"),
    taxes: Minor("Sum of lines' tax"),
    refunds: Minor("Sum of paid orders' refunded amounts"),
    net: Minor("gross − refunds"),
  })
  .openapi("ReportCurrencyTotals");

const ticketCountShape = {
  issued: Count("Tickets issued (any status)"),
  refunded: Count("Tickets refunded"),
  cancelled: Count("Tickets cancelled"),
  sold: Count("issued − refunded − cancelled"),
  checkedIn: Count("Tickets with a check-in time"),
};
export const ReportTicketCounts = z.object(ticketCountShape).openapi("ReportTicketCounts");

export const ReportTierAmount = z
  .object({
    currency: z.string(),
    tickets: Count("Tickets on paid orders' lines of this tier"),
    gross: Minor("Sum of the lines' totals"),
    faceValue: Minor("Sum of the lines' subtotal − group discount"),
    groupDiscounts: Minor("Sum of the lines' group discounts"),
    fees: Minor("Sum of the lines' service + facility fees"),
    taxes: Minor("Sum of the lines' tax"),
  })
  .openapi("ReportTierAmount");

const tierShape = {
  tierId: z.string(),
  name: z.string().nullable(),
  ...ticketCountShape,
  amounts: z.array(ReportTierAmount).openapi({ description: "Money per currency (one entry: an event sells in one currency)" }),
};
export const ReportTier = z.object(tierShape).openapi("ReportTier");

export const EventReportTier = z
  .object({
    ...tierShape,
    inventorySold: z.number().int().nullable().openapi({ description: "The inventory's sold counter; null when it could not be read" }),
    consistent: z.boolean().nullable().openapi({ description: "sold equals inventorySold; null when the inventory could not be read" }),
  })
  .openapi("EventReportTier");

const ReportEventSummary = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(EVENT_STATUSES),
  startsAt: z.string(),
});

export const EventReport = z
  .object({
    event: ReportEventSummary.extend({ venueId: z.string() }),
    asOf: z.string().openapi({ description: "When the report was computed" }),
    totals: z.array(ReportCurrencyTotals).openapi({ description: "Per currency, never added across currencies" }),
    tickets: ReportTicketCounts,
    tiers: z.array(EventReportTier),
    inventory: z
      .object({
        consistent: z.boolean().openapi({ description: "Every tier's sold equals the inventory's" }),
        tiers: z.array(z.object({ tierId: z.string(), capacity: z.number().int(), held: z.number().int(), sold: z.number().int() })),
      })
      .nullable()
      .openapi({ description: "The event inventory's live counters; null when it could not be reached" }),
  })
  .openapi("EventReport");

export const VenueReport = z
  .object({
    venue: z.object({ id: z.string(), name: z.string() }),
    from: z.string().nullable(),
    to: z.string().nullable(),
    asOf: z.string(),
    totals: z.array(ReportCurrencyTotals).openapi({ description: "Per currency: the sums of the events' totals" }),
    tickets: ReportTicketCounts,
    events: z.array(
      z.object({
        event: ReportEventSummary,
        totals: z.array(ReportCurrencyTotals),
        tickets: ReportTicketCounts,
        tiers: z.array(ReportTier),
      }),
    ),
  })
  .openapi("VenueReport");

/** An instant (`2027-03-01T19:30:00Z`) or a UTC date (`2027-03-01`). */
const RangeBound = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .openapi({ example: "2027-03-01", description: "An ISO 8601 instant, or a date (UTC)" });

const DAY_MS = 86_400_000;
const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
/** `from`: the instant, or the date's first millisecond (UTC). */
export const rangeStart = (s: string) => (isDate(s) ? Date.parse(`${s}T00:00:00Z`) : Date.parse(s));
/** `to`: the instant, or the date's last millisecond (UTC), so the whole day is included. */
export const rangeEnd = (s: string) => (isDate(s) ? Date.parse(`${s}T00:00:00Z`) + DAY_MS - 1 : Date.parse(s));

export const VenueReportQuery = z
  .strictObject({
    from: RangeBound.optional().openapi({ description: "Events starting at or after (a date: from its start, UTC)" }),
    to: RangeBound.optional().openapi({ description: "Events starting at or before (a date: to its end, UTC)" }),
  })
  .refine((q) => q.from === undefined || q.to === undefined || rangeStart(q.from) <= rangeEnd(q.to), {
    message: "must not be before from",
    path: ["to"],
  });

const counts = (t: TicketCounts): z.infer<typeof ReportTicketCounts> => ({
  issued: t.issued,
  refunded: t.refunded,
  cancelled: t.cancelled,
  sold: t.sold,
  checkedIn: t.checkedIn,
});
const totals = (list: CurrencyTotals[]) => list.map((t) => ({ ...t }));
const tierOut = (t: TierSales): z.infer<typeof ReportTier> => ({ tierId: t.tierId, name: t.name, ...counts(t), amounts: t.amounts.map((a) => ({ ...a })) });
const eventOut = (e: ReportEvent) => ({ id: e.id, name: e.name, status: e.status, startsAt: iso(e.startsAt)! });

export function toEventReport(event: ReportEvent & { venueId: string }, r: EventReconciliation, asOf: number): z.infer<typeof EventReport> {
  return {
    event: { ...eventOut(event), venueId: event.venueId },
    asOf: iso(asOf)!,
    totals: totals(r.totals),
    tickets: counts(r.tickets),
    tiers: r.tiers.map((t) => ({ ...tierOut(t), inventorySold: t.inventorySold, consistent: t.consistent })),
    inventory: r.inventory,
  };
}

export function toVenueReport(
  venue: { id: string; name: string },
  range: { from?: number; to?: number },
  r: VenueReportData,
  asOf: number,
): z.infer<typeof VenueReport> {
  return {
    venue: { id: venue.id, name: venue.name },
    from: range.from === undefined ? null : iso(range.from),
    to: range.to === undefined ? null : iso(range.to),
    asOf: iso(asOf)!,
    totals: totals(r.totals),
    tickets: counts(r.tickets),
    events: r.events.map((e) => ({ event: eventOut(e.event), totals: totals(e.totals), tickets: counts(e.tickets), tiers: e.tiers.map(tierOut) })),
  };
}
