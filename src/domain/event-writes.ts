import type { Context } from "hono";
import { prepareAudit } from "../audit/audit";
import { STAFF_ADMINS, tenantOf } from "../auth/authenticate";
import type { TenantPrincipal } from "../auth/principal";
import type { Cursor } from "../db/pagination";
import { SlugTakenError, VenueGoneError } from "../db/repositories/events";
import type { EventRow } from "../db/schema";
import type { TenantDb } from "../db/tenant-db";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { inBackground } from "../http/background";
import { expectedVersion, staleVersion } from "../http/preconditions";
import { inventoryFor } from "../inventory/client";
import { uuidv7 } from "../lib/ids";
import { drainOutbox } from "../outbox/drain";
import {
  assertMayOverride,
  EVENT_PROTECTED_FIELDS,
  judgeProtectedChange,
  overrideRecord,
  protectedIn,
  soldByTier,
  totalSold,
  type ProtectionOverride,
} from "../protection/sold-tickets";
import { iso } from "../schemas/common";
import { assertCanDeleteEvent, assertCanManageEvent, principalId, usableVenue } from "./event-access";
import {
  type CreateEventInput,
  defaultValues,
  diffEvents,
  type EditableValues,
  type PatchEventInput,
  patched,
  replaced,
  scheduleOf,
  toRowValues,
} from "./event-edit";
import { assertValidSchedule } from "./event-schedule";
import { pushGate, recordGateIn, retryGatePush } from "../events/status-change";
import { DELETABLE, isTerminal, SCHEDULE_EDITABLE, SCHEDULE_FIELDS } from "./event-status";
import { slugCandidates, slugify } from "./slug";

/**
 * The event CRUD handlers' work: authorize against the stored event, validate the
 * result, write through EventsRepo (one D1 batch with the audit entry), and turn a lost
 * compare-and-set into 404 or a stale-version answer. The routes only shape HTTP.
 */

type Ctx = Context<AppEnv>;

const notFound = () => new AppError("NOT_FOUND", "No such event");
const slugTaken = (slug: string) => new AppError("SLUG_TAKEN", `The slug "${slug}" is already used by another event at this venue`);

export async function findEvent(db: TenantDb, id: string): Promise<EventRow> {
  const row = await db.events.findById(id);
  if (!row) throw notFound();
  return row;
}

/** name, name-2, ... name-20, then name-<random>: a busy name still gets an event created. */
function generatedSlugs(name: string): string[] {
  const base = slugify(name);
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");
  return [...slugCandidates(base), `${base.slice(0, 111).replace(/-+$/, "")}-${suffix}`];
}

export async function createEvent(c: Ctx, body: CreateEventInput): Promise<EventRow> {
  const { principal, db } = tenantOf(c);
  const venue = await usableVenue(principal, db, body.venueId);
  const values = { ...defaultValues(venue), ...toRowValues(body) } as Omit<EditableValues, "slug">;
  assertValidSchedule(values);
  const now = c.var.now();
  const id = uuidv7(now);
  for (const slug of body.slug ? [body.slug] : generatedSlugs(body.name)) {
    if (await db.events.slugTaken(venue.id, slug)) continue;
    const details = { name: values.name, slug, venueId: venue.id, status: "DRAFT", startsAt: iso(values.startsAt), endsAt: iso(values.endsAt) };
    const audit = prepareAudit(c, { action: "event.created", targetType: "event", targetId: id, details }, now);
    try {
      return await db.events.create({ ...values, id, slug, status: "DRAFT", createdBy: principalId(principal), createdAt: now }, audit);
    } catch (err) {
      // Another request took the slug between the check and the insert: try the next one.
      if (err instanceof VenueGoneError) throw venueGone();
      if (!(err instanceof SlugTakenError)) throw err;
    }
  }
  throw body.slug ? slugTaken(body.slug) : new AppError("SLUG_TAKEN", "Could not find a free slug for this name; send one");
}

export type EventEdit =
  | { kind: "replace"; body: CreateEventInput & { version?: number; override?: ProtectionOverride } }
  | { kind: "patch"; body: PatchEventInput };

/**
 * PUT and PATCH. Order of refusals: precondition missing (428), unknown event (404),
 * not allowed (403; an override from anyone but an owner or admin too), terminal state
 * (409 CONFLICT), stale version, then the new values (venue, schedule, SCHEDULE_LOCKED,
 * slug), then sold-ticket protection (PROTECTED_FIELD, or 503 when the inventory cannot
 * say what is sold). A request that changes nothing writes nothing: same version, no
 * history entry.
 */
export async function editEvent(c: Ctx, id: string, edit: EventEdit): Promise<EventRow> {
  const { principal, db } = tenantOf(c);
  const expected = expectedVersion(c, edit.body.version);
  const current = await findEvent(db, id);
  await assertCanManageEvent(principal, db, current);
  const override = edit.body.override;
  assertMayOverride(principal, override);
  if (isTerminal(current.status)) throw new AppError("CONFLICT", `A ${current.status} event can no longer be edited`);
  if (current.version !== expected) throw staleVersion(c, current.version);

  const venueId = edit.body.venueId ?? current.venueId;
  const newVenue = venueId === current.venueId ? undefined : await usableVenue(principal, db, venueId);
  let next: EventRow;
  if (edit.kind === "replace") {
    // The current venue cannot be deleted while this (non-terminal) event is live; the
    // fallback only guards against a row that predates that rule.
    const venue = newVenue ?? (await db.venues.findById(current.venueId)) ?? { timezone: current.timezone };
    next = replaced(current, edit.body, venue);
    assertValidSchedule(scheduleOf(next));
  } else {
    next = patched(current, edit.body);
    assertValidSchedule(scheduleOf(next), { sent: Object.keys(edit.body) });
  }

  const { changes, diff } = diffEvents(current, next);
  if (Object.keys(diff).length === 0) return current;
  const locked = SCHEDULE_FIELDS.filter((f) => f in diff);
  if (locked.length && !SCHEDULE_EDITABLE.includes(current.status)) {
    throw new AppError("SCHEDULE_LOCKED", `A ${current.status} event changes ${locked.join(", ")} through POST /v1/events/${id}/status with to=RESCHEDULED (or after postponing it)`, {
      errors: locked.map((f) => ({ field: `body.${f}`, message: "locked while the event is published" })),
    });
  }
  if ((diff.slug || diff.venueId) && (await db.events.slugTaken(next.venueId, next.slug, id))) throw slugTaken(next.slug);

  // Sold-ticket protection: where and when, once tickets are sold (the DO counts them).
  const protectedFields = protectedIn(EVENT_PROTECTED_FIELDS, diff);
  const sold = protectedFields.length ? totalSold(await soldByTier(inventoryFor(c, principal.tenantId, id), current.status)) : 0;
  const verdict = judgeProtectedChange(protectedFields, sold, override, { what: "event" });

  const audit = prepareAudit(c, { action: "event.updated", targetType: "event", targetId: id, details: { changes: diff }, verbatim: true });
  const overridden = verdict.overridden
    ? overrideRecord(c, { type: "event", id, tenantId: principal.tenantId, eventId: id }, verdict, diff, audit.createdAt)
    : undefined;
  let updated: EventRow | null;
  try {
    updated = await db.events.update(
      id,
      expected,
      { ...changes, updatedAt: audit.createdAt, updatedBy: principalId(principal) },
      audit,
      overridden?.message ? [overridden.message] : [],
      overridden ? [overridden.audit] : [],
    );
  } catch (err) {
    if (err instanceof SlugTakenError) throw slugTaken(next.slug);
    if (err instanceof VenueGoneError) throw venueGone();
    throw err;
  }
  if (!updated) return lostRace(c, db, id);
  // The holders' notice goes out now rather than at the next cron tick.
  if (overridden?.message) await inBackground(c, drainOutbox(c.var.db, { notifications: c.var.config.NOTIFICATIONS }, c.var.now()));
  // The DO judges sales by the gate (status, sales window, start, and visibility for buyers'
  // calls served without a D1 lookup): push it now rather than
  // at the next cron tick when one of those moved.
  if (GATE_FIELDS.some((f) => f in diff)) {
    const record = recordGateIn(db);
    if (!(await pushGate(c.var.config.EVENT_INVENTORY, updated, record))) await inBackground(c, retryGatePush(c.var.config.EVENT_INVENTORY, updated, record));
  }
  return updated;
}

const GATE_FIELDS = ["salesStartAt", "salesEndAt", "startsAt", "visibility"] as const;

const venueGone = () =>
  new AppError("VALIDATION_FAILED", "No such venue", { errors: [{ field: "body.venueId", message: "No such venue" }] });

/** After a compare-and-set wrote nothing: the event is gone, or someone else's write won. */
async function lostRace(c: Ctx, db: TenantDb, id: string): Promise<never> {
  const now = await db.events.findById(id);
  if (!now) throw notFound();
  throw staleVersion(c, now.version);
}

export async function deleteEvent(c: Ctx, id: string, queryVersion: number | undefined): Promise<void> {
  const { principal, db } = tenantOf(c);
  const expected = expectedVersion(c, queryVersion);
  const current = await findEvent(db, id);
  assertCanDeleteEvent(principal, current);
  if (current.version !== expected) throw staleVersion(c, current.version);
  // A published event may have buyers and is in the catalogue: it is cancelled (which
  // notifies holders, and refunds once sales exist), never silently deleted.
  if (!DELETABLE.includes(current.status)) {
    throw new AppError("EVENT_NOT_DELETABLE", `A ${current.status} event cannot be deleted; cancel it instead`, { currentStatus: current.status });
  }
  // Buyers' sale calls trust the DO's gate (ADR 0006) and the cron does not resync deleted
  // events, so the event goes only once its DO holds the current gate, which no longer sells
  // (ON_SALE is not deletable). A cancellation whose push failed is pushed here, or the
  // delete waits for a retry.
  if (current.gateVersion !== current.version) {
    const pushed = await pushGate(c.var.config.EVENT_INVENTORY, current, recordGateIn(db));
    if (!pushed) {
      throw new AppError("DEPENDENCY_UNAVAILABLE", "The event's inventory could not be updated before deleting it; retry shortly", { headers: { "retry-after": "1" } });
    }
  }
  const audit = prepareAudit(c, {
    action: "event.deleted",
    targetType: "event",
    targetId: id,
    details: { name: current.name, slug: current.slug, venueId: current.venueId, status: current.status },
  });
  if (!(await db.events.softDelete(id, expected, audit))) await lostRace(c, db, id);
}

/** Whoever may read the tenant audit log (GET /v1/audit-log). */
const mayReadAuditLog = (p: TenantPrincipal) => (p.kind === "user" ? STAFF_ADMINS.includes(p.role) : p.scopes.includes("audit:read"));

/**
 * The event's audit entries, newest first. A deleted event reads as 404 everywhere else,
 * but its history is part of the tenant's audit trail ("who deleted it, and what was it?"),
 * so whoever may read the audit log anyway still gets it. That an entry exists in this
 * tenant's log for the id proves the event existed in this tenant: foreign ids stay 404.
 */
export async function eventHistory(tenant: { principal: TenantPrincipal; db: TenantDb }, id: string, cursor: Cursor | undefined, limit: number) {
  const { principal, db } = tenant;
  if (!(await db.events.findById(id))) {
    const existed = mayReadAuditLog(principal) && (await db.audit.listForTarget("event", id, undefined, 1)).items.length > 0;
    if (!existed) throw notFound();
  }
  return db.audit.listForTarget("event", id, cursor, limit);
}
