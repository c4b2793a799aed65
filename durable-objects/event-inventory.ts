import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../src/config/env";
import type {
  GateState,
  HoldDto,
  HoldRequest,
  IdempotentOutcome,
  InventoryResult,
  ReleaseRequest,
  TierAvailability,
  TierConfig,
  TierCounts,
} from "../src/inventory/contract";
import { uuidv7 } from "../src/lib/ids";
import { errorFields, log } from "../src/observability/logger";
import { gateSelling, isOpen, readGate, writeGate } from "./inventory/gate";
import { expireDueHolds, findHold, placeHold, releaseHold } from "./inventory/holds";
import { purgeExpired, runIdempotent } from "./inventory/idempotency";
import { rearm } from "./inventory/schedule";
import { migrate, resolveEventId } from "./inventory/schema";
import { Db } from "./inventory/sql";
import { countsOf, listTiers, upsertTier } from "./inventory/tiers";

/**
 * One per event, named `${tenantId}:${eventId}` (src/inventory/contract.ts): the single
 * writer of the sales gate, tier capacities and price rules, held/sold counters, holds,
 * per-buyer counts and the idempotency records of event-scoped writes.
 *
 * Every mutation runs in one `transactionSync`: checks and writes with no await between
 * them, committed together or not at all. The only awaits come after the commit, to point
 * the alarm at the next scheduled work.
 */
export class EventInventory extends DurableObject<Env> {
  private readonly db: Db;
  private readonly eventId: string;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    loadConfig(env);
    this.db = new Db(ctx.storage.sql);
    this.eventId = ctx.storage.transactionSync(() => {
      migrate(this.db);
      return resolveEventId(this.db, ctx.id.name);
    });
  }

  /** Applies the event's selling state unless a newer version is already stored. */
  async syncGate(gate: GateState): Promise<{ applied: boolean; gate: GateState | null }> {
    const applied = this.ctx.storage.transactionSync(() => writeGate(this.db, gate, Date.now()));
    return { applied, gate: readGate(this.db) };
  }

  /**
   * Creates or reconfigures a tier; capacity may fall only down to held + sold. Holds
   * already over at `now` are expired first, so they do not count as committed.
   */
  async upsertTier(tier: TierConfig, now: number): Promise<InventoryResult<TierCounts>> {
    const result = this.ctx.storage.transactionSync(() => {
      expireDueHolds(this.db, now);
      return upsertTier(this.db, tier, now);
    });
    await rearm(this.db, this.ctx.storage);
    return result;
  }

  async hold(req: HoldRequest): Promise<IdempotentOutcome<HoldDto>> {
    if (!Number.isSafeInteger(req.ttlMs) || req.ttlMs <= 0) throw new RangeError("ttlMs must be a positive integer");
    const outcome = this.ctx.storage.transactionSync(() =>
      runIdempotent(this.db, req, Date.now(), 201, () => {
        expireDueHolds(this.db, req.now);
        return placeHold(this.db, readGate(this.db), req, uuidv7(req.now), this.eventId);
      }),
    );
    await rearm(this.db, this.ctx.storage);
    return outcome;
  }

  async release(req: ReleaseRequest): Promise<IdempotentOutcome<HoldDto>> {
    const outcome = this.ctx.storage.transactionSync(() =>
      runIdempotent(this.db, req, Date.now(), 200, () => releaseHold(this.db, req, this.eventId)),
    );
    await rearm(this.db, this.ctx.storage);
    return outcome;
  }

  /** The buyer's own hold; anyone else's answers HOLD_NOT_FOUND. */
  async getHold(holdId: string, buyerId: string): Promise<InventoryResult<HoldDto>> {
    return findHold(this.db, holdId, buyerId, this.eventId, Date.now());
  }

  async availability(now: number): Promise<TierAvailability[]> {
    const selling = gateSelling(readGate(this.db), now);
    return listTiers(this.db).map((t) => {
      const available = Math.max(0, t.capacity - t.held - t.sold);
      return {
        tierId: t.tierId,
        name: t.name,
        available,
        soldOut: available === 0,
        onSale: selling && isOpen({ opensAt: t.salesStartAt, closesAt: t.salesEndAt }, now),
      };
    });
  }

  async counts(): Promise<TierCounts[]> {
    return listTiers(this.db).map(countsOf);
  }

  /**
   * Expires due holds and purges old idempotency records, then re-arms for the next due
   * work. Works from the real state, not from what was scheduled, so running late, twice
   * or spuriously changes nothing that should not change.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    try {
      const expired = this.ctx.storage.transactionSync(() => {
        const n = expireDueHolds(this.db, now);
        this.db.run`DELETE FROM schedule WHERE kind = 'hold_expiry' AND due_at <= ${now}`;
        purgeExpired(this.db, now);
        return n;
      });
      if (expired > 0) log("info", "inventory: holds expired", { eventId: this.eventId, expired });
    } catch (err) {
      // Rethrown so the runtime retries the alarm with backoff.
      log("error", "inventory: alarm failed", { eventId: this.eventId, ...errorFields(err) });
      throw err;
    }
    await rearm(this.db, this.ctx.storage);
  }
}
