import { and, asc, eq, isNull, lt, ne, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { PreparedAudit } from "../../audit/audit";
import type { TenantScope } from "../client";
import { insertIf } from "../insert-if";
import { auditLog, outbox, ticketTiers, type TicketTierRow } from "../schema";
import type { OutboxMessage } from "./events";

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
 *
 * Every write is one D1 batch with its audit entry. Tiers have no change-id column, so the
 * entry is inserted *before* the row change, under the very condition the change is made
 * on (`insert ... select ... where exists (<row matching the condition>)`): both statements
 * run in one transaction, so the entry exists exactly when the change was made, and a
 * writer that lost the compare-and-set leaves no entry behind.
 */
export class TiersRepo {
  constructor(private readonly s: TenantScope) {}

  private live(eventId: string) {
    return and(eq(ticketTiers.tenantId, this.s.tenantId), eq(ticketTiers.eventId, eventId), isNull(ticketTiers.deletedAt));
  }

  /** The statement writing `audit` if a tier row matches `condition` when it runs. */
  private auditIf(audit: PreparedAudit, condition: SQL) {
    const row = { ...audit.entry, id: audit.id, tenantId: this.s.tenantId, createdAt: audit.createdAt };
    return insertIf(this.s.db, auditLog, this.s.tenantId, row, sql`exists (select 1 from ${ticketTiers} where ${condition})`);
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

  /** Inserts the tier with its audit entry, or refuses (nothing written) when it breaks a rule spanning the event's tiers. */
  async create(row: NewTier, audit: PreparedAudit): Promise<{ row: TicketTierRow } | { refused: TierWriteRefusal }> {
    const t = ticketTiers;
    const tid = this.s.tenantId;
    const count = sql`(select count(*) from ${t} where ${t.tenantId} = ${tid} and ${t.eventId} = ${row.eventId} and ${t.deletedAt} is null)`;
    const allowed = sql`not ${this.otherCurrency(row.eventId, row.currency)} and ${count} < ${MAX_TIERS_PER_EVENT}`;
    await this.s.db.batch([
      insertIf(this.s.db, t, tid, { ...row, tenantId: tid, version: 1, appliedVersion: 0, updatedBy: null, updatedAt: row.createdAt, deletedAt: null }, allowed),
      // The id is fresh: the row exists exactly when the insert above was allowed.
      this.auditIf(audit, and(eq(t.tenantId, tid), eq(t.id, row.id))!),
    ]);
    const created = await this.findById(row.eventId, row.id);
    if (created) return { row: created };
    const others = await this.listForEvent(row.eventId);
    return { refused: others.some((o) => o.currency !== row.currency) ? "currency_mismatch" : "too_many_tiers" };
  }

  /**
   * Compare-and-set on version, with its audit entry. Returns the new row; `null` when the
   * version is stale or the tier is gone; "currency_mismatch" when the new currency differs
   * from another tier's. `extra` audit entries and outbox messages (a sold-ticket protection
   * override) are written under the same condition as the entry: exactly when the change is.
   */
  async update(
    eventId: string,
    id: string,
    expectedVersion: number,
    changes: TierChanges,
    audit: PreparedAudit,
    extra: { audits?: PreparedAudit[]; messages?: OutboxMessage[] } = {},
  ): Promise<TicketTierRow | null | "currency_mismatch"> {
    const currency = changes.currency;
    const cas = and(
      this.live(eventId),
      eq(ticketTiers.id, id),
      eq(ticketTiers.version, expectedVersion),
      currency === undefined ? undefined : sql`not ${this.otherCurrency(eventId, currency, id)}`,
    )!;
    const tid = this.s.tenantId;
    const statements: BatchItem<"sqlite">[] = [
      ...[audit, ...(extra.audits ?? [])].map((a) => this.auditIf(a, cas)),
      ...(extra.messages ?? []).map((m) =>
        insertIf(this.s.db, outbox, tid, { ...m, tenantId: tid, attempts: 0, createdAt: audit.createdAt }, sql`exists (select 1 from ${ticketTiers} where ${cas})`),
      ),
      this.s.db
        .update(ticketTiers)
        .set({ ...changes, version: expectedVersion + 1 })
        .where(cas)
        .returning(),
    ];
    const results = await this.s.db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    const updated = results[results.length - 1] as unknown as TicketTierRow[];
    if (updated[0]) return updated[0];
    if (currency !== undefined) {
      const current = await this.findById(eventId, id);
      if (current && current.version === expectedVersion) return "currency_mismatch";
    }
    return null;
  }

  /**
   * Records that the DO confirmed `version` (never moves backwards, never past the row's
   * own version). With `audit`, the entry is written when, and only when, this moved it.
   * True when it did.
   */
  async markApplied(eventId: string, id: string, version: number, audit?: PreparedAudit): Promise<boolean> {
    const moves = and(this.live(eventId), eq(ticketTiers.id, id), lt(ticketTiers.appliedVersion, version), sql`${ticketTiers.version} >= ${version}`)!;
    const mark = this.s.db.update(ticketTiers).set({ appliedVersion: version }).where(moves).returning({ id: ticketTiers.id });
    if (!audit) return (await mark).length === 1;
    const [, marked] = await this.s.db.batch([this.auditIf(audit, moves), mark]);
    return marked.length === 1;
  }

  /**
   * Writes `previous`'s configuration over `over` (compare-and-set on over's version) as a
   * new version: an ETag is never reused for other content. `applied_version` is left as
   * it is: only the DO's answer to a push of the new version moves it. Null when another
   * write came first (that one stands).
   */
  async restore(
    previous: TicketTierRow,
    over: TicketTierRow,
    by: { updatedAt: number; updatedBy: string },
    audit: PreparedAudit,
  ): Promise<TicketTierRow | null> {
    const {
      id,
      tenantId: _t,
      eventId,
      version: _v,
      appliedVersion: _a,
      createdBy: _c,
      createdAt: _ca,
      updatedAt: _u,
      updatedBy: _ub,
      deletedAt: _d,
      ...config
    } = previous;
    const cas = and(this.live(eventId), eq(ticketTiers.id, id), eq(ticketTiers.version, over.version))!;
    const [, restored] = await this.s.db.batch([
      this.auditIf(audit, cas),
      this.s.db
        .update(ticketTiers)
        .set({ ...config, ...by, version: over.version + 1 })
        .where(cas)
        .returning(),
    ]);
    return restored[0] ?? null;
  }

  /**
   * Removes a tier the DO refused before it was ever in force (nothing can refer to it
   * yet), with its audit entry. False when it is no longer that tier (someone changed it).
   */
  async discardUnapplied(eventId: string, id: string, audit: PreparedAudit): Promise<boolean> {
    const unapplied = and(this.live(eventId), eq(ticketTiers.id, id), eq(ticketTiers.version, 1), eq(ticketTiers.appliedVersion, 0))!;
    const [, deleted] = await this.s.db.batch([
      this.auditIf(audit, unapplied),
      this.s.db.delete(ticketTiers).where(unapplied).returning({ id: ticketTiers.id }),
    ]);
    return deleted.length === 1;
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
