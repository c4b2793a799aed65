import { and, asc, eq, isNull } from "drizzle-orm";
import type { TenantScope } from "../client";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { venueAccess, venues, type VenueRow } from "../schema";

export type NewVenue = Omit<VenueRow, "tenantId" | "version" | "updatedAt" | "deletedAt">;
export type VenueChanges = Partial<Omit<VenueRow, "id" | "tenantId" | "version" | "createdBy" | "createdAt" | "deletedAt">>;

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

  async create(row: NewVenue): Promise<VenueRow> {
    const [created] = await this.s.db
      .insert(venues)
      .values({ ...row, tenantId: this.s.tenantId, version: 1, updatedAt: row.createdAt })
      .returning();
    return created!;
  }

  /** Compare-and-set on version; null when stale or gone. */
  async update(id: string, expectedVersion: number, changes: VenueChanges & { deletedAt?: number }, now: number) {
    const [row] = await this.s.db
      .update(venues)
      .set({ ...changes, updatedAt: now, version: expectedVersion + 1 })
      .where(and(this.mine(), eq(venues.id, id), eq(venues.version, expectedVersion)))
      .returning();
    return row ?? null;
  }

  async softDelete(id: string, expectedVersion: number, now: number) {
    return this.update(id, expectedVersion, { deletedAt: now }, now);
  }

  async hasAccess(venueId: string, userId: string): Promise<boolean> {
    const row = await this.s.db
      .select({ userId: venueAccess.userId })
      .from(venueAccess)
      .where(and(eq(venueAccess.tenantId, this.s.tenantId), eq(venueAccess.venueId, venueId), eq(venueAccess.userId, userId)))
      .get();
    return row !== undefined;
  }

  /** Idempotent; returns true when the grant is new. */
  async grant(venueId: string, userId: string, grantedBy: string, now: number): Promise<boolean> {
    const res = await this.s.db
      .insert(venueAccess)
      .values({ tenantId: this.s.tenantId, venueId, userId, grantedBy, createdAt: now })
      .onConflictDoNothing()
      .run();
    return res.meta.changes === 1;
  }

  async revoke(venueId: string, userId: string): Promise<boolean> {
    const res = await this.s.db
      .delete(venueAccess)
      .where(and(eq(venueAccess.tenantId, this.s.tenantId), eq(venueAccess.venueId, venueId), eq(venueAccess.userId, userId)))
      .run();
    return res.meta.changes === 1;
  }

  async listAccess(venueId: string) {
    return this.s.db
      .select()
      .from(venueAccess)
      .where(and(eq(venueAccess.tenantId, this.s.tenantId), eq(venueAccess.venueId, venueId)))
      .orderBy(asc(venueAccess.createdAt))
      .all();
  }
}
