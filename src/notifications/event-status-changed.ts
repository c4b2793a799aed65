import { and, asc, countDistinct, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { EVENT_NOTIFICATION_KINDS, eventNotifications, events, sentEmails, tickets, ticketTiers, users, venues, type EventRow } from "../db/schema";
import { log } from "../observability/logger";
import { NotificationMessageSchema, type EmailMessage, type HolderNoticeMessage } from "./messages";
import { describeChanges, formatWhen, renderEmail } from "./templates";

/**
 * Telling an event's ticket holders: that it was postponed, rescheduled or cancelled
 * (`event.status_changed`), or that an admin overrode sold-ticket protection and changed
 * what they bought (`event.changed_for_holders`, src/protection).
 *
 * Every distinct holder of an active ticket (valid or checked in) gets one email: a user
 * at their account's address, a pending transfer (`email:<address>`) at that address.
 * Redelivery never emails twice: each email's id is derived from (outbox id, holder), and
 * the sink ignores an id it already has.
 *
 * The fan-out is bounded per delivery: tickets are read in pages (ordered by their number,
 * an index range scan) and one delivery covers at most `pagesPerDelivery` pages. When
 * tickets remain, the message is sent again with `resume.afterNumber` and this delivery
 * ends; the continuation carries on from there. A delivery that dies midway is retried
 * whole and re-sends only what the sink does not have yet. A holder whose tickets span
 * pages is met twice and emailed once (same id).
 *
 * Completion is recorded in `event_notifications` (one row per outbox id, with the number
 * of holders) by the delivery that reaches the last page; a message whose row exists is not
 * acted on again. That table's CHECK admits `event.status_changed` only (migration 0002),
 * so `event.changed_for_holders` is not recorded there until the kind is added to
 * EVENT_NOTIFICATION_KINDS with a migration: until then its redelivery walks the holders
 * again and, thanks to the email ids, sends nothing new.
 */

/** Tickets read per query. */
export const HOLDER_PAGE_SIZE = 500;
/** Pages one delivery covers before handing the rest to a continuation message. */
export const PAGES_PER_DELIVERY = 8;

const ACTIVE_TICKET = ["valid", "checked_in"] as const;
/**
 * A cancellation's holders: the event's inventory cancels their tickets in the same breath
 * (its refund saga), so by the time this notice is processed they may already read
 * `cancelled`; they are exactly the people to tell.
 */
const CANCELLED_EVENT_TICKET = ["valid", "checked_in", "cancelled"] as const;
type TicketStatuses = readonly (typeof CANCELLED_EVENT_TICKET)[number][];
const PENDING_TRANSFER = "email:";

export interface HolderNoticeDeps {
  /** `sink` stores each email in `sent_emails`; `log` logs a summary per page. */
  delivery: "sink" | "log";
  /** The customer app, for the link to the holder's tickets. */
  appUrl: string;
  /** Sends the continuation of a fan-out that ran out of budget (the notifications queue). */
  continueWith: (message: HolderNoticeMessage) => Promise<void>;
  now: number;
  pageSize?: number;
  pagesPerDelivery?: number;
}

export interface EventNotificationOutcome {
  /** False when this outbox message was processed before (a redelivery or a resend). */
  processed: boolean;
  /** Distinct holders of an active ticket when the fan-out finished (0 while it continues). */
  recipients: number;
  /** The fan-out stopped at its budget and handed the rest on. */
  continued: boolean;
}

type HolderTemplate = Extract<EmailMessage["template"], `event_${string}`>;

function templateOf(m: HolderNoticeMessage): HolderTemplate | null {
  if (m.kind === "event.changed_for_holders") return "event_changed";
  if (m.to === "POSTPONED") return "event_postponed";
  if (m.to === "RESCHEDULED") return "event_rescheduled";
  if (m.to === "CANCELLED") return "event_cancelled";
  return null;
}

const isRecorded = (kind: string): kind is (typeof EVENT_NOTIFICATION_KINDS)[number] => (EVENT_NOTIFICATION_KINDS as readonly string[]).includes(kind);

export async function handleHolderNotice(db: Db, m: HolderNoticeMessage, deps: HolderNoticeDeps): Promise<EventNotificationOutcome> {
  const done = await db
    .select({ recipients: eventNotifications.recipients })
    .from(eventNotifications)
    .where(eq(eventNotifications.outboxId, m.outboxId))
    .get();
  if (done) return { processed: false, recipients: done.recipients, continued: false };

  // Soft-deleted too: a cancelled event may be deleted before its notice goes out.
  const event = await db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, m.tenantId), eq(events.id, m.eventId)))
    .get();
  // A message for an event that does not exist is retried (then dead-lettered), not dropped.
  if (!event) throw new Error("holder notice: no such event");

  const template = templateOf(m);
  const tierId = m.kind === "event.changed_for_holders" ? m.tierId : undefined;
  const statuses: TicketStatuses = m.kind === "event.status_changed" && m.to === "CANCELLED" ? CANCELLED_EVENT_TICKET : ACTIVE_TICKET;
  if (template) {
    const data = await commonData(db, m, event, deps.appUrl);
    const pageSize = deps.pageSize ?? HOLDER_PAGE_SIZE;
    const budget = deps.pagesPerDelivery ?? PAGES_PER_DELIVERY;
    let after = m.resume?.afterNumber ?? 0;
    for (let page = 0; ; page++) {
      if (page === budget) {
        const next = NotificationMessageSchema.parse({ ...m, resume: { afterNumber: after } }) as HolderNoticeMessage;
        await deps.continueWith(next);
        log("info", "holder notice continues in another delivery", { tenantId: m.tenantId, eventId: m.eventId, outboxId: m.outboxId, afterNumber: after });
        return { processed: true, recipients: 0, continued: true };
      }
      const rows = await holderPage(db, m.tenantId, m.eventId, tierId, statuses, after, pageSize);
      await sendPage(db, deps, m, template, data, rows);
      if (rows.length < pageSize) break;
      after = rows[rows.length - 1]!.number;
    }
  }

  const recipients = template ? await countHolders(db, m.tenantId, m.eventId, tierId, statuses) : 0;
  let processed = true;
  if (isRecorded(m.kind)) {
    const inserted = await db
      .insert(eventNotifications)
      .values({
        outboxId: m.outboxId,
        tenantId: m.tenantId,
        eventId: m.eventId,
        kind: m.kind,
        toStatus: m.kind === "event.status_changed" ? m.to : event.status,
        recipients,
        processedAt: deps.now,
      })
      .onConflictDoNothing()
      .run();
    // A concurrent delivery of the same message may have won the insert: it counts once.
    processed = inserted.meta.changes === 1;
  }
  if (processed) {
    log("info", "holder notice processed", {
      tenantId: m.tenantId,
      eventId: m.eventId,
      outboxId: m.outboxId,
      kind: m.kind,
      ...(m.kind === "event.status_changed" ? { from: m.from, to: m.to } : { fields: m.fields }),
      recipients,
    });
  }
  return { processed, recipients, continued: false };
}

interface HolderRow {
  number: number;
  holderId: string;
  email: string | null;
  name: string | null;
}

/** Active tickets after `afterNumber`, in number order, with their holder's account (if any). */
function holderPage(
  db: Db,
  tenantId: string,
  eventId: string,
  tierId: string | undefined,
  statuses: TicketStatuses,
  afterNumber: number,
  limit: number,
): Promise<HolderRow[]> {
  return db
    .select({ number: tickets.number, holderId: tickets.holderId, email: users.email, name: users.name })
    .from(tickets)
    .leftJoin(users, and(eq(users.tenantId, tickets.tenantId), eq(users.id, tickets.holderId)))
    .where(
      and(
        eq(tickets.tenantId, tenantId),
        eq(tickets.eventId, eventId),
        gt(tickets.number, afterNumber),
        inArray(tickets.status, statuses),
        tierId ? eq(tickets.tierId, tierId) : undefined,
      ),
    )
    .orderBy(asc(tickets.number))
    .limit(limit)
    .all();
}

async function countHolders(db: Db, tenantId: string, eventId: string, tierId: string | undefined, statuses: TicketStatuses): Promise<number> {
  const row = await db
    .select({ n: countDistinct(tickets.holderId) })
    .from(tickets)
    .where(
      and(
        eq(tickets.tenantId, tenantId),
        eq(tickets.eventId, eventId),
        inArray(tickets.status, statuses),
        tierId ? eq(tickets.tierId, tierId) : undefined,
      ),
    )
    .get();
  return row?.n ?? 0;
}

/** The email's id: one per (outbox message, holder), whatever the deliveries. */
export const holderEmailId = (outboxId: string, holderId: string) => `holder-notice:${outboxId}:${holderId}`;

function addressOf(r: HolderRow): string | null {
  if (r.holderId.startsWith(PENDING_TRANSFER)) return r.holderId.slice(PENDING_TRANSFER.length).toLowerCase() || null;
  return r.email;
}

/**
 * Emails the page's holders. All of a page goes in one statement (the rows as one JSON
 * parameter, D1 allowing 100 bound parameters per statement), and an id already stored is
 * skipped, which is what makes redelivery and overlapping pages harmless.
 */
async function sendPage(db: Db, deps: HolderNoticeDeps, m: HolderNoticeMessage, template: HolderTemplate, data: Record<string, string>, rows: HolderRow[]) {
  const holders = new Map<string, { to: string; name: string }>();
  let unreachable = 0;
  for (const r of rows) {
    if (holders.has(r.holderId)) continue;
    const to = addressOf(r);
    if (to) holders.set(r.holderId, { to, name: r.name ?? "" });
    else unreachable++;
  }
  if (unreachable) log("warn", "holder notice: holders without an address skipped", { outboxId: m.outboxId, eventId: m.eventId, unreachable });
  if (holders.size === 0) return;
  if (deps.delivery === "log") {
    log("info", "holder notice emails delivered", { tenantId: m.tenantId, outboxId: m.outboxId, template, emails: holders.size, delivery: deps.delivery });
    return;
  }
  const emails = [...holders].map(([holderId, h]) => {
    const { subject, body } = renderEmail({ kind: "email", tenantId: m.tenantId, to: h.to, template, data: { ...data, name: h.name } });
    return { id: holderEmailId(m.outboxId, holderId), tenantId: m.tenantId, recipient: h.to, template, subject, body, createdAt: deps.now };
  });
  await db.run(sql`
    insert into ${sentEmails} (id, tenant_id, recipient, template, subject, body, created_at)
    select json_extract(value, '$.id'), json_extract(value, '$.tenantId'), json_extract(value, '$.recipient'),
           json_extract(value, '$.template'), json_extract(value, '$.subject'), json_extract(value, '$.body'),
           json_extract(value, '$.createdAt')
    from json_each(${JSON.stringify(emails)}) where true
    on conflict (id) do nothing`);
}

/** The template variables every holder of this message shares. */
async function commonData(db: Db, m: HolderNoticeMessage, event: EventRow, appUrl: string): Promise<Record<string, string>> {
  const base = { eventName: event.name.slice(0, 300), reason: m.reason, link: `${appUrl}/tickets` };
  if (m.kind === "event.status_changed") {
    const times = m.to === "RESCHEDULED" && m.schedule ? m.schedule : event;
    return { ...base, when: formatWhen(times.startsAt, times.endsAt, event.timezone) };
  }
  const venueIds = ["from", "to"].map((k) => (m.changes.venueId as Record<string, unknown> | undefined)?.[k]).filter((v): v is string => typeof v === "string");
  const named = venueIds.length
    ? await db
        .select({ id: venues.id, name: venues.name, city: venues.city })
        .from(venues)
        .where(and(eq(venues.tenantId, m.tenantId), inArray(venues.id, venueIds)))
        .all()
    : [];
  const tier = m.tierId
    ? await db
        .select({ currency: ticketTiers.currency })
        .from(ticketTiers)
        .where(and(eq(ticketTiers.tenantId, m.tenantId), eq(ticketTiers.id, m.tierId)))
        .get()
    : undefined;
  const changes = describeChanges(m.changes as Record<string, { from?: unknown; to?: unknown }>, {
    timeZone: event.timezone,
    currency: tier?.currency,
    venueNames: new Map(named.map((v) => [v.id, `${v.name}, ${v.city}`])),
  });
  return { ...base, when: formatWhen(event.startsAt, event.endsAt, event.timezone), changes };
}
