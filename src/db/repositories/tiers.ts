import { and, asc, eq, isNull, lt, ne, sql } from "drizzle-orm";
import type { TenantScope } from "../client";
import { insertIf } from "../insert-if";
import { ticketTiers, type TicketTierRow } from "../schema";

export type NewTier = Omit<TicketTierRow, "tenantId" | "version" | "appliedVersion" | "updatedBy" | "updatedAt" | "deletedAt">;
export type TierChanges = Partial<
  Omit<TicketTierRow, "id" | "tenantId" | "eventId" | "version" | "appliedVersion" | "createdBy" | "createdAt" | "deletedAt">
>;

/** An event sells at most this many tiers (the whole list is read, pushed and shown at once). */
export const MAX_TIERS_PER_EVENT = 50;

export type TierWriteRefusal = "currency_mismatch" | "too_many_tiers";

/**
 * Ticket tiers in D1 (the descriptive record; the EventInventory DO enforces them).
 * The rules that span rows (one currency per event, at most MAX_TIERS_PER_EVENT) are part
 * of the writing statement itself, so two concurrent writes cannot both slip past a check
 * made before them.
 */
export class TiersRepo {
  constructor(private readonly s: TenantScope) {}

  private live(eventId: string) {
    return and(eq(ticketTiers.tenantId, this.s.tenantId), eq(ticketTiers.eventId, eventId), isNull(ticketTiers.deletedAt));
  }

  async listForEvent(eventId: string): Promise<TicketTierRow[]> {
    return this.s.db
      .select()
      .from(ticketTiers)
      .where(this.live(eventId))
      .orderBy(asc(ticketTiers.createdAt), asc(ticketTiers.id))
      .limit(MAX_TIERS_PER_EVENT)
      .all();
  }

  async findById(eventId: string, id: string): Promise<TicketTierRow | undefined> {
    return this.s.db.select().from(ticketTiers).where(and(this.live(eventId), eq(ticketTiers.id, id))).get();
  }

  /** Live tiers of the event in another currency than `currency`, optionally ignoring one tier. */
  private otherCurrency(eventId: string, currency: string, exceptId?: string) {
    const t = ticketTiers;
    return sql`exists (select 1 from ${t} where ${t.tenantId} = ${this.s.tenantId} and ${t.eventId} = ${eventId}
      and ${t.deletedAt} is null and ${t.currency} <> ${currency}${exceptId ? sql` and ${t.id} <> ${exceptId}` : sql``})`;
  }

  /** Inserts the tier, or refuses (nothing written) when it breaks a rule spanning the event's tiers. */
  async create(row: NewTier): Promise<{ row: TicketTierRow } | { refused: TierWriteRefusal }> {
    const t = ticketTiers;
    const tid = this.s.tenantId;
    const count = sql`(select count(*) from ${t} where ${t.tenantId} = ${tid} and ${t.eventId} = ${row.eventId} and ${t.deletedAt} is null)`;
    const allowed = sql`not ${this.otherCurrency(row.eventId, row.currency)} and ${count} < ${MAX_TIERS_PER_EVENT}`;
    await insertIf(this.s.db, t, tid, { ...row, tenantId: tid, version: 1, appliedVersion: 0, updatedBy: null, updatedAt: row.createdAt, deletedAt: null }, allowed);
    const created = await this.findById(row.eventId, row.id);
    if (created) return { row: created };
    const others = await this.listForEvent(row.eventId);
    return { refused: others.some((o) => o.currency !== row.currency) ? "currency_mismatch" : "too_many_tiers" };
  }

  /**
   * Compare-and-set on version. Returns the new row; `null` when the version is stale or the
   * tier is gone; "currency_mismatch" when the new currency differs from another tier's.
   */
  async update(eventId: string, id: string, expectedVersion: number, changes: TierChanges): Promise<TicketTierRow | null | "currency_mismatch"> {
    const currency = changes.currency;
    const [updated] = await this.s.db
      .update(ticketTiers)
      .set({ ...changes, version: expectedVersion + 1 })
      .where(
        and(
          this.live(eventId),
          eq(ticketTiers.id, id),
          eq(ticketTiers.version, expectedVersion),
          currency === undefined ? undefined : sql`not ${this.otherCurrency(eventId, currency, id)}`,
        ),
      )
      .returning();
    if (updated) return updated;
    if (currency !== undefined) {
      const current = await this.findById(eventId, id);
      if (current && current.version === expectedVersion) return "currency_mismatch";
    }
    return null;
  }

  /** Records that the DO confirmed `version` (never moves backwards). */
  async markApplied(eventId: string, id: string, version: number): Promise<void> {
    await this.s.db
      .update(ticketTiers)
      .set({ appliedVersion: version })
      .where(and(this.live(eventId), eq(ticketTiers.id, id), lt(ticketTiers.appliedVersion, version), sql`${ticketTiers.version} >= ${version}`))
      .run();
  }

  /**
   * Undoes a write the DO refused: the previous configuration again, as a new version (an
   * ETag is never reused for other content). It is in force exactly when it was before,
   * because the DO kept it. False when another write came first (that one stands).
   */
  async restore(previous: TicketTierRow, fromVersion: number, now: number): Promise<boolean> {
    const { id, tenantId: _t, eventId, version, appliedVersion, createdBy: _c, createdAt: _a, deletedAt: _d, ...config } = previous;
    const next = fromVersion + 1;
    const restored = await this.s.db
      .update(ticketTiers)
      .set({ ...config, updatedAt: now, version: next, appliedVersion: appliedVersion === version ? next : appliedVersion })
      .where(and(this.live(eventId), eq(ticketTiers.id, id), eq(ticketTiers.version, fromVersion)))
      .returning({ id: ticketTiers.id });
    return restored.length === 1;
  }

  /** Removes a tier the DO refused before it was ever in force (nothing can refer to it yet). */
  async discardUnapplied(eventId: string, id: string): Promise<void> {
    await this.s.db
      .delete(ticketTiers)
      .where(and(this.live(eventId), eq(ticketTiers.id, id), eq(ticketTiers.version, 1), eq(ticketTiers.appliedVersion, 0)))
      .run();
  }

  /** Tiers whose last write the DO has not confirmed. */
  async unapplied(eventId: string): Promise<TicketTierRow[]> {
    return this.s.db
      .select()
      .from(ticketTiers)
      .where(and(this.live(eventId), ne(ticketTiers.version, ticketTiers.appliedVersion)))
      .orderBy(asc(ticketTiers.createdAt), asc(ticketTiers.id))
      .all();
  }
}
