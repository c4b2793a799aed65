import type { Context } from "hono";
import { prepareAudit, type AuditAction, type PreparedAudit } from "../audit/audit";
import { tenantOf } from "../auth/authenticate";
import type { TierChanges } from "../db/repositories/tiers";
import type { EventRow, TicketTierRow } from "../db/schema";
import type { TenantDb } from "../db/tenant-db";
import type { AppEnv } from "../http/context";
import { AppError, type FieldError } from "../http/errors";
import { inBackground } from "../http/background";
import { expectedVersion, staleVersion } from "../http/preconditions";
import { inventoryFor, problemError, rpc, type InventoryStub } from "../inventory/client";
import type { InventoryProblem, InventoryResult, TierConfig, TierCounts } from "../inventory/contract";
import { uuidv7 } from "../lib/ids";
import { errorFields, log } from "../observability/logger";
import { drainOutbox } from "../outbox/drain";
import { assertMayOverride, judgeProtectedChange, overrideRecord, protectedIn, soldByTier, TIER_PROTECTED_FIELDS } from "../protection/sold-tickets";
import { tierFieldShape, toTierDto, type CreateTierInput, type PatchTierInput } from "../schemas/tiers";
import { assertCanManageEvent, principalId } from "./event-access";
import { isTerminal } from "./event-status";
import { findEvent } from "./event-writes";
import type { PriceRules } from "./pricing";

/**
 * Tier writes. D1 is the descriptive record; the event's EventInventory DO holds what is
 * in force. The order, and why:
 *
 *   1. validate the new configuration, and when capacity falls (or D1's capacity is not the
 *      one in force), ask the DO's counts that it stays at or above held + sold (refused:
 *      409 CAPACITY_BELOW_COMMITTED, nothing written);
 *   2. write D1 (compare-and-set on version) with its audit entry, leaving `applied_version`
 *      behind;
 *   3. push to the DO (`upsertTier`); on success record the version the DO reports in force.
 *
 * If the DO refuses in step 3 (holds arrived between 1 and 3), the D1 change is undone:
 * the previous configuration again, as a new version, pushed to the DO in turn, so that D1
 * ends at a version the DO itself reports in force (see `undoRefused` for writers racing),
 * and the refusal is the answer. If the DO cannot be reached, the D1 write stands with
 * `inForce: false` in every answer, and every later tier write of the event, or
 * POST /v1/events/{eventId}/tiers/sync, pushes it again. `applied_version` only ever moves
 * to a version the DO reported, so D1 never shows a configuration the DO does not enforce
 * without saying so.
 *
 * Audit: every D1 change is in the tenant's audit log, written in the change's own batch
 * and only if the change won: tier.created, tier.updated (changed fields, from/to),
 * tier.update_reverted and tier.create_reverted (a change the DO refused, undone, with the
 * refusal), tier.synced (a push that brought a tier's pending version into force, by sync
 * or by another tier write's repair).
 */

type Ctx = Context<AppEnv>;
export type TierValues = Omit<
  TicketTierRow,
  "id" | "tenantId" | "eventId" | "version" | "appliedVersion" | "createdBy" | "updatedBy" | "createdAt" | "updatedAt" | "deletedAt"
>;

const ms = (instant: string | null | undefined) => (instant === null || instant === undefined ? null : Date.parse(instant));

/** The body's price-rule pairs and times as columns. */
function columnsOf(b: Partial<CreateTierInput>): Partial<TierValues> {
  const out: Partial<TierValues> = {};
  for (const k of ["name", "description", "capacity", "currency", "priceMinor", "serviceFeeMinor", "facilityFeeMinor", "taxBps", "minPerOrder", "maxPerOrder", "maxPerBuyer"] as const) {
    if (b[k] !== undefined) (out as Record<string, unknown>)[k] = b[k];
  }
  if (b.earlyBird !== undefined) Object.assign(out, { earlyBirdPriceMinor: b.earlyBird?.priceMinor ?? null, earlyBirdUntil: ms(b.earlyBird?.until) });
  if (b.lastMinute !== undefined) Object.assign(out, { lastMinutePriceMinor: b.lastMinute?.priceMinor ?? null, lastMinuteFrom: ms(b.lastMinute?.from) });
  if (b.groupDiscount !== undefined) Object.assign(out, { groupMinQuantity: b.groupDiscount?.minQuantity ?? null, groupDiscountBps: b.groupDiscount?.bps ?? null });
  if (b.salesStartAt !== undefined) out.salesStartAt = ms(b.salesStartAt);
  if (b.salesEndAt !== undefined) out.salesEndAt = ms(b.salesEndAt);
  return out;
}

export function createdValues(b: CreateTierInput): TierValues {
  const minPerOrder = b.minPerOrder ?? 1;
  const maxPerOrder = b.maxPerOrder ?? Math.max(10, minPerOrder);
  const defaults: TierValues = {
    name: b.name,
    capacity: b.capacity,
    currency: b.currency,
    priceMinor: b.priceMinor,
    description: null,
    serviceFeeMinor: 0,
    facilityFeeMinor: 0,
    taxBps: 0,
    earlyBirdPriceMinor: null,
    earlyBirdUntil: null,
    lastMinutePriceMinor: null,
    lastMinuteFrom: null,
    groupMinQuantity: null,
    groupDiscountBps: null,
    salesStartAt: null,
    salesEndAt: null,
    minPerOrder,
    maxPerOrder,
    maxPerBuyer: b.maxPerBuyer ?? maxPerOrder,
  };
  return { ...defaults, ...columnsOf(b), minPerOrder, maxPerOrder, maxPerBuyer: defaults.maxPerBuyer };
}

const valuesOf = (r: TicketTierRow): TierValues => {
  const { id: _i, tenantId: _t, eventId: _e, version: _v, appliedVersion: _a, createdBy: _c, updatedBy: _u, createdAt: _ca, updatedAt: _ua, deletedAt: _d, ...values } = r;
  return values;
};

/** The rules between fields, judged on the resulting tier (a PATCH may send one side only). */
export function assertValidTier(v: TierValues): void {
  const errors: FieldError[] = [];
  if (v.maxPerOrder < v.minPerOrder) errors.push({ field: "body.maxPerOrder", message: "must be at least minPerOrder" });
  if (v.maxPerBuyer < v.minPerOrder) errors.push({ field: "body.maxPerBuyer", message: "must be at least minPerOrder, or nobody could buy" });
  if (v.salesStartAt !== null && v.salesEndAt !== null && v.salesEndAt <= v.salesStartAt) {
    errors.push({ field: "body.salesEndAt", message: "must be after salesStartAt" });
  }
  if (errors.length) throw new AppError("VALIDATION_FAILED", "The tier's limits or sales window contradict each other", { errors });
}

export const priceRulesOf = (r: TierValues): PriceRules => ({
  currency: r.currency,
  priceMinor: r.priceMinor,
  serviceFeeMinor: r.serviceFeeMinor,
  facilityFeeMinor: r.facilityFeeMinor,
  taxBps: r.taxBps,
  earlyBird: r.earlyBirdPriceMinor !== null && r.earlyBirdUntil !== null ? { priceMinor: r.earlyBirdPriceMinor, until: r.earlyBirdUntil } : null,
  lastMinute: r.lastMinutePriceMinor !== null && r.lastMinuteFrom !== null ? { priceMinor: r.lastMinutePriceMinor, from: r.lastMinuteFrom } : null,
  groupDiscount: r.groupMinQuantity !== null && r.groupDiscountBps !== null ? { minQuantity: r.groupMinQuantity, bps: r.groupDiscountBps } : null,
});

export const toTierConfig = (r: TicketTierRow): TierConfig => ({
  ...priceRulesOf(r),
  tierId: r.id,
  version: r.version,
  name: r.name,
  capacity: r.capacity,
  minPerOrder: r.minPerOrder,
  maxPerOrder: r.maxPerOrder,
  maxPerBuyer: r.maxPerBuyer,
  salesStartAt: r.salesStartAt,
  salesEndAt: r.salesEndAt,
});

const currencyMismatch = (currency: string) =>
  new AppError("VALIDATION_FAILED", `All tiers of an event are sold in one currency; another tier of this event is not in ${currency}`, {
    errors: [{ field: "body.currency", message: "must match the currency of the event's other tiers" }],
  });

export const tierNotFound = () => new AppError("NOT_FOUND", "No such ticket tier");

/** The request's view of one event's tiers: where writes go and who makes them. */
interface Writer {
  c: Ctx;
  db: TenantDb;
  inventory: InventoryStub;
  now: number;
  by: string;
}

function writerFor(c: Ctx, eventId: string): Writer {
  const { principal, db } = tenantOf(c);
  return { c, db, inventory: inventoryFor(c, principal.tenantId, eventId), now: c.var.now(), by: principalId(principal) };
}

/** Tier details are the tenant's own configuration, stored as they are (like an event's diff). */
const auditOf = (w: Writer, action: AuditAction, tierId: string, details: Record<string, unknown>): PreparedAudit =>
  prepareAudit(w.c, { action, targetType: "tier", targetId: tierId, details, verbatim: true }, w.now);

const TIER_FIELDS = Object.keys(tierFieldShape) as (keyof typeof tierFieldShape)[];

/** The tier's configuration as the API shows it (money, rules, limits, window). */
function configOf(r: TicketTierRow): Record<string, unknown> {
  const dto = toTierDto(r) as Record<string, unknown>;
  return Object.fromEntries(TIER_FIELDS.map((f) => [f, dto[f]]));
}

/** The fields that differ, as the API shows them: { field: { from, to } }. */
export function diffTiers(before: TicketTierRow, after: TicketTierRow): Record<string, { from: unknown; to: unknown }> {
  const from = configOf(before);
  const to = configOf(after);
  const diff: Record<string, { from: unknown; to: unknown }> = {};
  for (const f of TIER_FIELDS) {
    if (JSON.stringify(from[f]) !== JSON.stringify(to[f])) diff[f] = { from: from[f], to: to[f] };
  }
  return diff;
}

type Push = { kind: "applied"; version: number } | { kind: "refused"; problem: InventoryProblem } | { kind: "unreachable" };

/**
 * Pushes a tier to the DO and records the version the DO reports in force. The DO keeps
 * the newest version it has seen and ignores older pushes, so concurrent writers cannot
 * leave an older configuration in force; what it reports back is what is applied.
 * `synced`: the push is not part of this tier's own write (sync, repair); when it brings a
 * pending version into force, that is audited as tier.synced.
 */
async function pushTier(w: Writer, row: TicketTierRow, opts: { synced?: boolean } = {}): Promise<Push> {
  let result: InventoryResult<TierCounts>;
  try {
    result = (await w.inventory.upsertTier(toTierConfig(row), w.now)) as InventoryResult<TierCounts>;
  } catch (err) {
    log("error", "inventory: tier push failed; the next tier write or /tiers/sync pushes it again", {
      eventId: row.eventId,
      tierId: row.id,
      version: row.version,
      ...errorFields(err),
    });
    return { kind: "unreachable" };
  }
  if (!result.ok) return { kind: "refused", problem: result };
  const version = result.value.version;
  const audit = opts.synced
    ? auditOf(w, "tier.synced", row.id, { eventId: row.eventId, appliedVersion: { from: row.appliedVersion, to: version } })
    : undefined;
  await w.db.tiers.markApplied(row.eventId, row.id, version, audit);
  return { kind: "applied", version };
}

/** The DO's counts, or null when it cannot be reached. */
async function countsIfReachable(inventory: InventoryStub): Promise<TierCounts[] | null> {
  try {
    return (await inventory.counts()) as TierCounts[];
  } catch (err) {
    log("warn", "inventory: counts unavailable", errorFields(err));
    return null;
  }
}

/** Pushes the event's other tiers whose last write never reached the DO (best effort). */
async function repairUnapplied(w: Writer, eventId: string, exceptId: string) {
  for (const row of await w.db.tiers.unapplied(eventId)) {
    if (row.id !== exceptId) await pushTier(w, row, { synced: true });
  }
}

/** The event a tier write may change: found, manageable by the caller, not over. */
async function editableEvent(c: Ctx, eventId: string): Promise<EventRow> {
  const { principal, db } = tenantOf(c);
  const event = await findEvent(db, eventId);
  await assertCanManageEvent(principal, db, event);
  if (isTerminal(event.status)) throw new AppError("CONFLICT", `A ${event.status} event's tiers can no longer change`);
  return event;
}

async function reread(db: TenantDb, eventId: string, id: string): Promise<TicketTierRow> {
  const row = await db.tiers.findById(eventId, id);
  if (!row) throw tierNotFound();
  return row;
}

export async function createTier(c: Ctx, eventId: string, body: CreateTierInput): Promise<TicketTierRow> {
  const event = await editableEvent(c, eventId);
  const values = createdValues(body);
  assertValidTier(values);
  const w = writerFor(c, event.id);
  const id = uuidv7(w.now);
  const row = { ...values, id, eventId: event.id, createdBy: w.by, createdAt: w.now };
  const draft: TicketTierRow = { ...row, tenantId: "", version: 1, appliedVersion: 0, updatedBy: null, updatedAt: w.now, deletedAt: null };
  const audit = auditOf(w, "tier.created", id, { eventId: event.id, version: 1, ...configOf(draft) });
  const created = await w.db.tiers.create(row, audit);
  if ("refused" in created) {
    if (created.refused === "currency_mismatch") throw currencyMismatch(values.currency);
    throw new AppError("CONFLICT", "The event has as many tiers as it may have");
  }
  const pushed = await pushTier(w, created.row);
  if (pushed.kind === "refused") {
    const { code, detail } = pushed.problem;
    const reverted = auditOf(w, "tier.create_reverted", id, { eventId: event.id, version: 1, refused: { code, detail } });
    if (!(await w.db.tiers.discardUnapplied(event.id, id, reverted))) {
      log("warn", "tier: a new tier the inventory refused was changed before it could be discarded; the change stands, not in force", {
        eventId: event.id,
        tierId: id,
        code,
      });
    }
    throw problemError(pushed.problem);
  }
  if (pushed.kind === "applied") await repairUnapplied(w, event.id, id);
  return reread(w.db, event.id, id);
}

/**
 * PATCH. Refusal order: precondition missing (428), unknown event or tier (404), not
 * allowed (403; an override from anyone but an owner or admin too), event over (409),
 * stale version, invalid result, capacity below what is held and sold (409), sold-ticket
 * protection of the tier's money (409 PROTECTED_FIELD; 503 when the inventory cannot say
 * what is sold). A PATCH that changes nothing writes nothing.
 */
export async function patchTier(c: Ctx, eventId: string, tierId: string, body: PatchTierInput): Promise<TicketTierRow> {
  const expected = expectedVersion(c, body.version);
  const event = await editableEvent(c, eventId);
  const { override } = body;
  assertMayOverride(tenantOf(c).principal, override);
  const w = writerFor(c, event.id);
  const current = await w.db.tiers.findById(event.id, tierId);
  if (!current) throw tierNotFound();
  if (current.version !== expected) throw staleVersion(c, current.version);

  const { version: _v, override: _o, ...fields } = body;
  const next: TierValues = { ...valuesOf(current), ...columnsOf(fields) };
  assertValidTier(next);
  const previous = valuesOf(current);
  const changes = Object.fromEntries(
    Object.entries(next).filter(([k, v]) => previous[k as keyof TierValues] !== v),
  ) as TierChanges;
  if (Object.keys(changes).length === 0) return current;

  // Capacity falling must be checked (503 when it cannot be). When D1's capacity is not the
  // one in force (an earlier push failed), the DO may hold more than D1's capacity even if
  // this PATCH keeps it: checked too, where the DO can be reached, so such a write is
  // refused here rather than written, refused by the push and undone.
  const falling = next.capacity < current.capacity;
  if (falling || current.appliedVersion !== current.version) {
    const all = falling ? await rpc<TierCounts[]>("counts", w.inventory.counts()) : await countsIfReachable(w.inventory);
    const counts = all?.find((t) => t.tierId === tierId);
    const committed = counts ? counts.held + counts.sold : 0;
    if (next.capacity < committed) {
      throw new AppError("CAPACITY_BELOW_COMMITTED", `${committed} tickets of this tier are held or sold; capacity cannot go below that`, {
        tierId,
        committed,
        held: counts!.held,
        sold: counts!.sold,
        requestedCapacity: next.capacity,
      });
    }
  }

  const after: TicketTierRow = { ...current, ...changes, version: expected + 1 };
  const diff = diffTiers(current, after);

  // Sold-ticket protection: the money of a tier with sold tickets (the DO counts them).
  const protectedFields = protectedIn(TIER_PROTECTED_FIELDS, diff);
  const sold = protectedFields.length ? ((await soldByTier(w.inventory, event.status)).get(tierId) ?? 0) : 0;
  const verdict = judgeProtectedChange(protectedFields, sold, override, { what: "tier" });
  const overridden = verdict.overridden
    ? overrideRecord(c, { type: "tier", id: tierId, tenantId: event.tenantId, eventId: event.id, tierId }, verdict, diff, w.now)
    : undefined;

  const audit = auditOf(w, "tier.updated", tierId, { eventId: event.id, version: expected + 1, changes: diff });
  const updated = await w.db.tiers.update(
    event.id,
    tierId,
    expected,
    { ...changes, updatedAt: w.now, updatedBy: w.by },
    audit,
    overridden ? { audits: [overridden.audit], messages: overridden.message ? [overridden.message] : [] } : {},
  );
  if (updated === "currency_mismatch") throw currencyMismatch(next.currency);
  if (!updated) {
    const latest = await w.db.tiers.findById(event.id, tierId);
    if (!latest) throw tierNotFound();
    throw staleVersion(c, latest.version);
  }
  // The holders' notice goes out now rather than at the next cron tick. (Should the DO
  // refuse the push below, which only holds racing a capacity cut can cause, the change is
  // undone but the notice stands: the undo is audited.)
  if (overridden?.message) await inBackground(c, drainOutbox(c.var.db, { notifications: c.var.config.NOTIFICATIONS }, w.now));
  const pushed = await pushTier(w, updated);
  if (pushed.kind === "refused") {
    await undoRefused(w, current, updated, pushed.problem);
    throw problemError(pushed.problem);
  }
  if (pushed.kind === "applied") await repairUnapplied(w, event.id, tierId);
  return reread(w.db, event.id, tierId);
}

/** `previous`'s configuration written over `over` as a new version, audited with the refusal it undoes. */
function restoreOver(w: Writer, previous: TicketTierRow, over: TicketTierRow, refusal: InventoryProblem) {
  const audit = auditOf(w, "tier.update_reverted", previous.id, {
    eventId: previous.eventId,
    version: over.version + 1,
    reverted: { version: over.version, code: refusal.code, detail: refusal.detail },
    changes: diffTiers(over, previous),
  });
  return w.db.tiers.restore(previous, over, { updatedAt: w.now, updatedBy: w.by }, audit);
}

/**
 * Undoes `refused` (this request's write over `previous`, refused by the DO) so that D1
 * ends at what the DO has in force:
 *
 * - The previous configuration is written again as a new version and pushed. The DO then
 *   reports that version in force: if `previous` was in force, it is the same content
 *   under a new number; if `previous` was itself a pending write (its push had failed), it
 *   is now in force, as its push had promised.
 * - If that push is refused as well (`previous` was a pending write the DO cannot accept),
 *   no configuration known to be in force is left to restore: D1 keeps `previous` with
 *   `inForce: false`, and the tier is listed under `refused` by /tiers/sync until a PATCH
 *   the DO accepts. Logged as an error.
 * - If another writer wrote over `refused` first (it read our refused version before we
 *   undid it), its write stands if the DO accepts it (pushed here too). If the DO refuses
 *   it as well and still has `previous` in force, `previous` is written over it, once;
 *   otherwise the newer write is left as it is, not in force. Logged.
 *
 * `applied_version` only ever moves to a version the DO reported in force (pushTier).
 */
async function undoRefused(w: Writer, previous: TicketTierRow, refused: TicketTierRow, refusal: InventoryProblem): Promise<void> {
  const where = { eventId: previous.eventId, tierId: previous.id, refusedVersion: refused.version, code: refusal.code };
  const known = previous.appliedVersion === previous.version ? previous : null;
  let over = refused;
  let reason = refusal;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const restored = await restoreOver(w, previous, over, reason);
    if (restored) {
      const pushed = await pushTier(w, restored);
      if (pushed.kind === "refused") {
        log("error", "tier: the configuration restored after a refusal was refused too; it stays inForce: false until a change the inventory accepts", {
          ...where,
          restoredVersion: restored.version,
          restoredCode: pushed.problem.code,
        });
      }
      return;
    }
    // Lost the race: someone wrote over `over` first.
    const latest = await w.db.tiers.findById(previous.eventId, previous.id);
    if (!latest || latest.appliedVersion === latest.version) {
      log("warn", "tier: undoing a refused change lost a race; the newer write stands and is in force", { ...where, latestVersion: latest?.version ?? null });
      return;
    }
    if (!known || attempt === 2) {
      log("warn", "tier: undoing a refused change lost a race; the newer write stands, not in force, until a tier write or /tiers/sync", {
        ...where,
        latestVersion: latest.version,
      });
      return;
    }
    const pushed = await pushTier(w, latest, { synced: true });
    if (pushed.kind !== "refused") return;
    const inForce = (await countsIfReachable(w.inventory))?.find((t) => t.tierId === previous.id);
    if (inForce?.version !== known.version) {
      log("warn", "tier: undoing a refused change lost a race; the newer write is refused too and stays inForce: false", {
        ...where,
        latestVersion: latest.version,
        inForceVersion: inForce?.version ?? null,
      });
      return;
    }
    log("warn", "tier: undoing a refused change lost a race; the newer write is refused too: restoring the configuration in force over it", {
      ...where,
      latestVersion: latest.version,
    });
    over = latest;
    reason = pushed.problem;
  }
}

export interface TierSyncResult {
  tiers: TicketTierRow[];
  refused: { tierId: string; code: string; detail: string }[];
}

/**
 * Pushes every tier of the event to its DO again (repair after a failed push). Idempotent.
 * A tier the DO refuses (its D1 capacity fell below what was held meanwhile) stays
 * `inForce: false` and is listed under `refused`; PATCH it to a capacity the DO accepts.
 * Each tier brought into force is audited as tier.synced; a sync that changes nothing
 * writes nothing.
 */
export async function syncTiers(c: Ctx, eventId: string): Promise<TierSyncResult> {
  const event = await editableEvent(c, eventId);
  const w = writerFor(c, event.id);
  const refused: TierSyncResult["refused"] = [];
  for (const row of await w.db.tiers.listForEvent(event.id)) {
    const pushed = await pushTier(w, row, { synced: true });
    if (pushed.kind === "unreachable") throw new AppError("DEPENDENCY_UNAVAILABLE", "The event's inventory is unavailable; retry shortly");
    if (pushed.kind === "refused") refused.push({ tierId: row.id, code: pushed.problem.code, detail: pushed.problem.detail });
  }
  return { tiers: await w.db.tiers.listForEvent(event.id), refused };
}

/**
 * A quote must be what a hold locks, and holds are priced by the DO with the configuration
 * in force. When D1's version is not that one (a push pending, failed or refused), D1's
 * rules are not what a hold would use, and the DO's rules for its version are not known
 * here: refused rather than quoted from the wrong rules.
 */
export function assertQuotable(row: TicketTierRow): void {
  if (row.appliedVersion === row.version) return;
  throw new AppError(
    "TIER_NOT_IN_FORCE",
    "The tier's prices are being changed and the new ones are not in force yet, so no quote would match a hold; retry shortly",
    { tierId: row.id, version: row.version },
  );
}
