import type { EmailMessage } from "./messages";

export function renderEmail(m: EmailMessage): { subject: string; body: string } {
  const d = m.data;
  switch (m.template) {
    case "verify_email":
      return {
        subject: "Confirm your email address",
        body: `Hello ${d.name ?? ""},\n\nConfirm your address: ${d.link}\nThe link expires in 24 hours.\n`,
      };
    case "password_reset":
      return {
        subject: "Reset your password",
        body: `Someone asked to reset your password. If it was you: ${d.link}\nThe link expires in 1 hour and works once.\n`,
      };
    case "password_changed":
      return { subject: "Your password was changed", body: "Your password was just changed. If this wasn't you, reset it now.\n" };
    case "order_confirmed":
      return {
        subject: `Your tickets for ${d.eventName ?? "your event"}`,
        body:
          `Hello ${d.name ?? ""},\n\nYour order ${d.orderId} is confirmed: ${d.ticketCount} ticket(s), numbers ${d.ticketNumbers}, ` +
          `total ${d.total}.\nYour tickets and their codes are in your account: ${d.link}\n`,
      };
    case "event_postponed":
      return {
        subject: `Postponed: ${d.eventName ?? "your event"}`,
        body:
          `Hello ${d.name ?? ""},\n\n${d.eventName ?? "Your event"}, planned for ${d.when ?? "its original date"}, is postponed.\n` +
          `Reason: ${d.reason ?? ""}\nYour tickets stay valid; we will tell you the new date as soon as it is set.\nYour tickets: ${d.link}\n`,
      };
    case "event_rescheduled":
      return {
        subject: `New date: ${d.eventName ?? "your event"}`,
        body:
          `Hello ${d.name ?? ""},\n\n${d.eventName ?? "Your event"} has a new date: ${d.when ?? ""}.\n` +
          `Reason: ${d.reason ?? ""}\nYour tickets stay valid for the new date.\nYour tickets: ${d.link}\n`,
      };
    case "event_cancelled":
      return {
        subject: `Cancelled: ${d.eventName ?? "your event"}`,
        body:
          `Hello ${d.name ?? ""},\n\n${d.eventName ?? "Your event"}, planned for ${d.when ?? "its date"}, is cancelled.\n` +
          `Reason: ${d.reason ?? ""}\nWe will be in touch about your refund.\nYour tickets: ${d.link}\n`,
      };
    case "event_changed":
      return {
        subject: `Changes to ${d.eventName ?? "your event"}`,
        body:
          `Hello ${d.name ?? ""},\n\nThe organiser changed ${d.eventName ?? "your event"} after your purchase:\n${d.changes ?? ""}\n` +
          `Reason: ${d.reason ?? ""}\nYour tickets: ${d.link}\n`,
      };
    case "order_refunded":
      return {
        subject: d.cancelled === "true" ? `Your event was cancelled: refund of ${d.amount}` : `Refund of ${d.amount}`,
        body:
          `Hello ${d.name ?? ""},\n\n${d.amount} of your order ${d.orderId} is being refunded` +
          `${d.ticketNumbers ? ` (tickets ${d.ticketNumbers}, which no longer admit anyone)` : ""}.\nReason: ${d.reason}\n` +
          `Your order: ${d.link}\n`,
      };
    case "welcome":
      return { subject: "Welcome to Boxoffice", body: `Hello ${d.name ?? ""}, your account is ready.\n` };
  }
}

/** Minor units as money, with the currency's own number of decimals (JPY none, EUR two). */
export function formatMoney(minor: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat("en", { style: "currency", currency });
    return format.format(minor / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
  } catch {
    return `${minor} ${currency} (minor units)`;
  }
}

/** An instant as holders read it: in the event's time zone, named. */
export function formatInstant(ms: number, timeZone: string): string {
  try {
    const text = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "short", timeZone }).format(ms);
    return `${text} (${timeZone})`;
  } catch {
    return new Date(ms).toISOString();
  }
}

/** An event's start and end, as holders read them. */
export const formatWhen = (startsAt: number, endsAt: number, timeZone: string) =>
  `${formatInstant(startsAt, timeZone)} until ${formatInstant(endsAt, timeZone)}`;

export interface ChangeContext {
  timeZone: string;
  /** The tier's currency, for price fields (a currency change itself is among the changes). */
  currency?: string;
  /** Venue names by id, for a venue change. */
  venueNames?: ReadonlyMap<string, string>;
}

const LABELS: Record<string, string> = {
  venueId: "Venue",
  startsAt: "Start",
  endsAt: "End",
  doorsOpenAt: "Doors open",
  timezone: "Time zone",
  currency: "Currency",
  priceMinor: "Price",
  serviceFeeMinor: "Service fee",
  facilityFeeMinor: "Facility fee",
  taxBps: "Tax",
  earlyBird: "Early-bird price",
  lastMinute: "Last-minute price",
  groupDiscount: "Group discount",
};

/**
 * One protected field's value for a holder (values arrive as the API shows them: instants
 * as ISO strings, money in minor units, rates in basis points).
 */
function describeValue(field: string, v: unknown, ctx: ChangeContext, currency: string | undefined): string {
  if (v === null || v === undefined) return "none";
  const money = (minor: unknown) => (typeof minor === "number" && currency ? formatMoney(minor, currency) : String(minor));
  const when = (iso: unknown) => (typeof iso === "string" && !Number.isNaN(Date.parse(iso)) ? formatInstant(Date.parse(iso), ctx.timeZone) : String(iso));
  const o = v as Record<string, unknown>;
  switch (field) {
    case "venueId":
      return ctx.venueNames?.get(String(v)) ?? "another venue";
    case "startsAt":
    case "endsAt":
    case "doorsOpenAt":
      return when(v);
    case "priceMinor":
    case "serviceFeeMinor":
    case "facilityFeeMinor":
      return money(v);
    case "taxBps":
      return typeof v === "number" ? `${v / 100}%` : String(v);
    case "earlyBird":
      return `${money(o.priceMinor)} until ${when(o.until)}`;
    case "lastMinute":
      return `${money(o.priceMinor)} from ${when(o.from)}`;
    case "groupDiscount":
      return typeof o.bps === "number" ? `${o.bps / 100}% off from ${String(o.minQuantity)} tickets` : JSON.stringify(v);
    default:
      return typeof v === "string" ? v : JSON.stringify(v);
  }
}

/** The changes as lines of text ("- Start: <before> → <after>"), at most `max` characters. */
export function describeChanges(changes: Record<string, { from?: unknown; to?: unknown }>, ctx: ChangeContext, max = 2000): string {
  const currencyChange = changes.currency as { from?: unknown; to?: unknown } | undefined;
  const before = typeof currencyChange?.from === "string" ? currencyChange.from : ctx.currency;
  const after = typeof currencyChange?.to === "string" ? currencyChange.to : ctx.currency;
  const lines = Object.entries(changes).map(
    ([field, c]) => `- ${LABELS[field] ?? field}: ${describeValue(field, c.from, ctx, before)} → ${describeValue(field, c.to, ctx, after)}`,
  );
  const text = lines.join("\n");
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
