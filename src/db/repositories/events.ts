import { and, asc, eq, gte, inArray, isNull, lte, sql, type SQL } from "drizzle-orm";
import type { PreparedAudit } from "../../audit/audit";
import type { TenantScope } from "../client";
import { insertIf } from "../insert-if";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { auditLog, events, outbox, tenants, type EventRow, type EventStatus } from "../schema";

export type NewEvent = Omit<
  EventRow,
  | "tenantId"
  | "version"
  | "lastChangeId"
  | "gateVersion"
  | "updatedBy"
  | "updatedAt"
  | "deletedAt"
  | "statusReason"
  | "statusChangedBy"
  | "statusChangedAt"
  | "allowTransfers"
> & { allowTransfers?: boolean };
export type EventChanges = Partial<Omit<EventRow, "id" | "tenantId" | "version" | "lastChangeId" | "gateVersion" | "createdBy" | "createdAt" | "deletedAt">>;

export interface OutboxMessage {
  id: string;
  topic: "notifications";
  body: Record<string, unknown>;
}

export interface EventListFilters {
  status?: EventStatus;
  venueId?: string;
  from?: number;
  to?: number;
  tag?: string;
  q?: string;
  cursor?: Cursor;
  limit: number;
}

export class SlugTakenError extends Error {
  constructor() {
    super("slug taken");
    this.name = "SlugTakenError";
  }
}

/** The venue was soft-deleted between the API's check and this write (trigger in migration 0003). */
export class VenueGoneError extends Error {
  constructor() {
    super("venue is deleted");
    this.name = "VenueGoneError";
  }
}

const isVenueGone = (err: unknown) => /venue is deleted/.test(String((err as Error)?.message ?? err));

const isSlugConflict = (err: unknown) =>
  /UNIQUE constraint failed: events\.tenant_id, events\.venue_id, events\.slug/.test(String((err as Error)?.message ?? err));

/**
 * Events in D1. Every write is one D1 batch (a transaction): the row change, its audit
 * entry, any outbox message and the tenant's catalogue version bump. Writes to an existing
 * event are compare-and-set on `version`; the dependent statements only take effect if
 * *this* write won, checked through `last_change_id` (set to the audit entry's id), so a
 * losing concurrent writer leaves no audit entry, message or bump behind.
 */
export class EventsRepo {
  constructor(private readonly s: TenantScope) {}

  private mine() {
    return and(eq(events.tenantId, this.s.tenantId), isNull(events.deletedAt));
  }

  async findById(id: string): Promise<EventRow | undefined> {
    return this.s.db.select().from(events).where(and(this.mine(), eq(events.id, id))).get();
  }

  /** Names of several events at once (at most 90 ids: D1 binds 100 parameters). */
  async namesOf(ids: readonly string[]): Promise<{ id: string; name: string }[]> {
    if (ids.length === 0) return [];
    if (ids.length > 90) throw new RangeError("namesOf: at most 90 ids per call");
    return this.s.db.select({ id: events.id, name: events.name }).from(events).where(and(this.mine(), inArray(events.id, [...ids]))).all();
  }

  async list(f: EventListFilters) {
    const conditions: (SQL | undefined)[] = [
      this.mine(),
      f.status ? eq(events.status, f.status) : undefined,
      f.venueId ? eq(events.venueId, f.venueId) : undefined,
      f.from !== undefined ? gte(events.startsAt, f.from) : undefined,
      f.to !== undefined ? lte(events.startsAt, f.to) : undefined,
      f.tag ? sql`exists (select 1 from json_each(${events.tags}) where value = ${f.tag})` : undefined,
      f.q ? sql`instr(lower(${events.name}), lower(${f.q})) > 0` : undefined,
      afterCursor(f.cursor, events.startsAt, events.id, "asc"),
    ];
    const rows = await this.s.db
      .select()
      .from(events)
      .where(and(...conditions))
      .orderBy(asc(events.startsAt), asc(events.id))
      .limit(f.limit + 1)
      .all();
    return toPage(rows, f.limit, (r) => r.startsAt);
  }

  async create(row: NewEvent, audit: PreparedAudit): Promise<EventRow> {
    const tid = this.s.tenantId;
    try {
      const [inserted] = await this.s.db.batch([
        this.s.db
          .insert(events)
          .values({ ...row, tenantId: tid, version: 1, lastChangeId: audit.id, updatedAt: row.createdAt })
          .returning(),
        this.s.db.insert(auditLog).values({ ...audit.entry, id: audit.id, tenantId: tid, createdAt: audit.createdAt }),
        this.bumpCatalog(row.id, audit.id),
      ]);
      return inserted[0]!;
    } catch (err) {
      if (isSlugConflict(err)) throw new SlugTakenError();
      if (isVenueGone(err)) throw new VenueGoneError();
      throw err;
    }
  }

  /**
   * Compare-and-set update. Returns the new row, or null when `expectedVersion` is stale
   * or the event is gone (the caller reads the current state to tell which). `audit` is the
   * change's entry (its id marks the win); `extraAudits` are further entries about the same
   * change (a sold-ticket protection override), written only if it won, like the messages.
   */
  async update(
    id: string,
    expectedVersion: number,
    changes: EventChanges & { deletedAt?: number },
    audit: PreparedAudit,
    messages: OutboxMessage[] = [],
    extraAudits: PreparedAudit[] = [],
  ): Promise<EventRow | null> {
    const tid = this.s.tenantId;
    const won = sql`exists (select 1 from ${events} where ${events.tenantId} = ${tid} and ${events.id} = ${id} and ${events.lastChangeId} = ${audit.id})`;
    try {
      const [updated] = await this.s.db.batch([
        this.s.db
          .update(events)
          .set({ ...changes, version: sql`${events.version} + 1`, lastChangeId: audit.id })
          .where(and(this.mine(), eq(events.id, id), eq(events.version, expectedVersion)))
          .returning(),
        ...[audit, ...extraAudits].map((a) =>
          insertIf(this.s.db, auditLog, tid, { ...a.entry, id: a.id, tenantId: tid, createdAt: a.createdAt }, won),
        ),
        this.bumpCatalog(id, audit.id),
        ...messages.map((m) =>
          insertIf(this.s.db, outbox, tid, { ...m, tenantId: tid, attempts: 0, createdAt: audit.createdAt }, won),
        ),
      ]);
      return updated[0] ?? null;
    } catch (err) {
      if (isSlugConflict(err)) throw new SlugTakenError();
      if (isVenueGone(err)) throw new VenueGoneError();
      throw err;
    }
  }

  /** Records the version whose gate the event's DO confirmed; never moves backwards, no version bump. */
  async recordGateVersion(id: string, version: number) {
    await this.s.db
      .update(events)
      .set({ gateVersion: version })
      .where(and(eq(events.tenantId, this.s.tenantId), eq(events.id, id), sql`coalesce(${events.gateVersion}, 0) < ${version}`))
      .run();
  }

  /** Soft delete: the row stays for history and reports; the slug becomes free. */
  async softDelete(id: string, expectedVersion: number, audit: PreparedAudit, messages: OutboxMessage[] = []) {
    return this.update(id, expectedVersion, { deletedAt: audit.createdAt, updatedAt: audit.createdAt }, audit, messages);
  }

  /** Events whose slug collides within a venue (live events only). */
  async slugTaken(venueId: string, slug: string, exceptId?: string): Promise<boolean> {
    const row = await this.s.db
      .select({ id: events.id })
      .from(events)
      .where(and(this.mine(), eq(events.venueId, venueId), eq(events.slug, slug)))
      .get();
    return row !== undefined && row.id !== exceptId;
  }

  private bumpCatalog(eventId: string, changeId: string) {
    const tid = this.s.tenantId;
    return this.s.db
      .update(tenants)
      .set({ catalogVersion: sql`${tenants.catalogVersion} + 1` })
      .where(
        and(
          eq(tenants.id, tid),
          sql`exists (select 1 from ${events} where ${events.tenantId} = ${tid} and ${events.id} = ${eventId} and ${events.lastChangeId} = ${changeId})`,
        ),
      );
  }
}
