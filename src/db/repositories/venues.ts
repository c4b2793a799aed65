import { and, asc, count, eq, isNull, notInArray, sql, type SQL } from "drizzle-orm";
import type { PreparedAudit } from "../../audit/audit";
import { isTerminal } from "../../domain/event-status";
import type { TenantScope } from "../client";
import { insertIf } from "../insert-if";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { auditLog, EVENT_STATUSES, events, tenants, venueAccess, venues, type VenueRow } from "../schema";

export type NewVenue = Omit<VenueRow, "tenantId" | "version" | "updatedAt" | "deletedAt">;
export type VenueChanges = Partial<Omit<VenueRow, "id" | "tenantId" | "version" | "createdBy" | "createdAt" | "deletedAt">>;

/** Statuses after which an event no longer needs its venue (COMPLETED, CANCELLED). */
const TERMINAL_STATUSES = EVENT_STATUSES.filter(isTerminal);

/**
 * Venues and venue access in D1.
 *
 * Audited writes are one D1 batch (a transaction, so nothing interleaves inside it): the
 * audit entry, the catalogue bump and the row change are each guarded by the *same*
 * precondition (the expected version is still current, the grant does (not) exist yet),
 * evaluated before the change. Either all of them happen or none does, so a losing
 * concurrent writer leaves no audit entry behind and a committed change is never unaudited.
 * The `audit` arguments are optional only for fixtures that need a row without history.
 */
export class VenuesRepo {
  constructor(private readonly s: TenantScope) {}

  private mine() {
    return and(eq(venues.tenantId, this.s.tenantId), isNull(venues.deletedAt));
  }

  async findById(id: string): Promise<VenueRow | undefined> {
    return this.s.db.select().from(venues).where(and(this.mine(), eq(venues.id, id))).get();
  }

  async list(opts: { cursor?: Cursor; limit: number }) {
    const rows = await this.s.db
      .select()
      .from(venues)
      .where(and(this.mine(), afterCursor(opts.cursor, venues.createdAt, venues.id, "asc")))
      .orderBy(asc(venues.createdAt), asc(venues.id))
      .limit(opts.limit + 1)
      .all();
    return toPage(rows, opts.limit);
  }

  async create(row: NewVenue, audit?: PreparedAudit): Promise<VenueRow> {
    const insert = this.s.db
      .insert(venues)
      .values({ ...row, tenantId: this.s.tenantId, version: 1, updatedAt: row.createdAt })
      .returning();
    if (!audit) return (await insert)[0]!;
    const [created] = await this.s.db.batch([insert, this.auditIf(audit, sql`1`)]);
    return created[0]!;
  }

  /** Compare-and-set on version; null when stale or gone (the caller re-reads to tell which). */
  async update(id: string, expectedVersion: number, changes: VenueChanges & { deletedAt?: number }, now: number, audit?: PreparedAudit) {
    return this.casUpdate(id, expectedVersion, { ...changes, updatedAt: now }, [], audit);
  }

  /**
   * Soft delete, refused (null) while live events still take place at the venue, when the
   * version is stale or the venue is gone. The live-event check sits in the same statement
   * as the delete, so an event created between a caller's check and this write still blocks it.
   */
  async softDelete(id: string, expectedVersion: number, now: number, audit?: PreparedAudit) {
    return this.casUpdate(id, expectedVersion, { deletedAt: now, updatedAt: now }, [sql`not ${this.hasLiveEvents(id)}`], audit);
  }

  /** Events at the venue that are neither deleted nor over (COMPLETED/CANCELLED). */
  async liveEventCount(venueId: string): Promise<number> {
    const row = await this.s.db
      .select({ n: count() })
      .from(events)
      .where(this.liveEventsAt(venueId))
      .get();
    return row?.n ?? 0;
  }

  async hasAccess(venueId: string, userId: string): Promise<boolean> {
    const row = await this.s.db.select({ userId: venueAccess.userId }).from(venueAccess).where(this.grantKey(venueId, userId)).get();
    return row !== undefined;
  }

  /** Idempotent; returns true when the grant is new (and only then writes the audit entry). */
  async grant(venueId: string, userId: string, grantedBy: string, now: number, audit?: PreparedAudit): Promise<boolean> {
    const insert = this.s.db
      .insert(venueAccess)
      .values({ tenantId: this.s.tenantId, venueId, userId, grantedBy, createdAt: now })
      .onConflictDoNothing()
      .returning({ userId: venueAccess.userId });
    if (!audit) return (await insert).length === 1;
    const [, inserted] = await this.s.db.batch([this.auditIf(audit, sql`not ${this.grantExists(venueId, userId)}`), insert]);
    return inserted.length === 1;
  }

  /** Idempotent; returns true when a grant was removed (and only then writes the audit entry). */
  async revoke(venueId: string, userId: string, audit?: PreparedAudit): Promise<boolean> {
    const del = this.s.db.delete(venueAccess).where(this.grantKey(venueId, userId)).returning({ userId: venueAccess.userId });
    if (!audit) return (await del).length === 1;
    const [, deleted] = await this.s.db.batch([this.auditIf(audit, this.grantExists(venueId, userId)), del]);
    return deleted.length === 1;
  }

  /** Grants of a venue, oldest first, keyset-paginated over (created_at, user_id). */
  async listAccess(venueId: string, opts: { cursor?: Cursor; limit: number } = { limit: 1000 }) {
    const rows = await this.s.db
      .select({ id: venueAccess.userId, venueId: venueAccess.venueId, userId: venueAccess.userId, grantedBy: venueAccess.grantedBy, createdAt: venueAccess.createdAt })
      .from(venueAccess)
      .where(
        and(
          eq(venueAccess.tenantId, this.s.tenantId),
          eq(venueAccess.venueId, venueId),
          afterCursor(opts.cursor, venueAccess.createdAt, venueAccess.userId, "asc"),
        ),
      )
      .orderBy(asc(venueAccess.createdAt), asc(venueAccess.userId))
      .limit(opts.limit + 1)
      .all();
    return toPage(rows, opts.limit);
  }

  private async casUpdate(
    id: string,
    expectedVersion: number,
    set: VenueChanges & { deletedAt?: number; updatedAt: number },
    extraGuards: SQL[],
    audit?: PreparedAudit,
  ): Promise<VenueRow | null> {
    const tid = this.s.tenantId;
    const update = this.s.db
      .update(venues)
      .set({ ...set, version: expectedVersion + 1 })
      .where(and(this.mine(), eq(venues.id, id), eq(venues.version, expectedVersion), ...extraGuards))
      .returning();
    if (!audit) return (await update)[0] ?? null;
    const current = sql`exists (select 1 from ${venues} where ${venues.tenantId} = ${tid} and ${venues.id} = ${id}
      and ${venues.version} = ${expectedVersion} and ${venues.deletedAt} is null)`;
    const guard = sql.join([current, ...extraGuards], sql` and `);
    // A venue's name, address and time zone may appear next to its events in the public
    // catalogue, whose edge-cache key includes catalog_version: bump it with the change.
    const bump = this.s.db
      .update(tenants)
      .set({ catalogVersion: sql`${tenants.catalogVersion} + 1` })
      .where(and(eq(tenants.id, tid), guard));
    const [, , updated] = await this.s.db.batch([this.auditIf(audit, guard), bump, update]);
    return updated[0] ?? null;
  }

  private auditIf(audit: PreparedAudit, condition: SQL) {
    const tid = this.s.tenantId;
    return insertIf(this.s.db, auditLog, tid, { ...audit.entry, id: audit.id, tenantId: tid, createdAt: audit.createdAt }, condition);
  }

  private liveEventsAt(venueId: string) {
    return and(
      eq(events.tenantId, this.s.tenantId),
      eq(events.venueId, venueId),
      isNull(events.deletedAt),
      notInArray(events.status, TERMINAL_STATUSES),
    );
  }

  private hasLiveEvents(venueId: string) {
    return sql`exists (select 1 from ${events} where ${this.liveEventsAt(venueId)})`;
  }

  private grantKey(venueId: string, userId: string) {
    return and(eq(venueAccess.tenantId, this.s.tenantId), eq(venueAccess.venueId, venueId), eq(venueAccess.userId, userId));
  }

  private grantExists(venueId: string, userId: string) {
    return sql`exists (select 1 from ${venueAccess} where ${this.grantKey(venueId, userId)})`;
  }
}
