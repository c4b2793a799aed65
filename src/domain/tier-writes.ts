import type { Context } from "hono";
import { tenantOf } from "../auth/authenticate";
import type { TierChanges } from "../db/repositories/tiers";
import type { EventRow, TicketTierRow } from "../db/schema";
import type { TenantDb } from "../db/tenant-db";
import type { AppEnv } from "../http/context";
import { AppError, type FieldError } from "../http/errors";
import { expectedVersion, staleVersion } from "../http/preconditions";
import { inventoryFor, problemError, rpc, type InventoryStub } from "../inventory/client";
import type { InventoryProblem, InventoryResult, TierConfig, TierCounts } from "../inventory/contract";
import { uuidv7 } from "../lib/ids";
import { errorFields, log } from "../observability/logger";
import type { CreateTierInput, PatchTierInput } from "../schemas/tiers";
import { assertCanManageEvent, principalId } from "./event-access";
import { isTerminal } from "./event-status";
import { findEvent } from "./event-writes";
import type { PriceRules } from "./pricing";

/**
 * Tier writes. D1 is the descriptive record; the event's EventInventory DO holds what is
 * in force. The order, and why:
 *
 *   1. validate the new configuration, and when capacity falls, ask the DO's counts that it
 *      stays at or above held + sold (refused: 409 CAPACITY_BELOW_COMMITTED, nothing written);
 *   2. write D1 (compare-and-set on version), leaving `applied_version` behind;
 *   3. push to the DO (`upsertTier`); on success mark the version applied.
 *
 * If the DO refuses in step 3 (holds arrived between 1 and 3), the D1 change is undone
 * (a new version with the previous configuration) and the refusal is the answer. If the DO
 * cannot be reached, the D1 write stands with `inForce: false` in every answer, and every
 * later tier write of the event, or POST /v1/events/{eventId}/tiers/sync, pushes it again.
 * D1 never shows a configuration the DO does not enforce without saying so.
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

type Push = { kind: "applied" } | { kind: "refused"; problem: InventoryProblem } | { kind: "unreachable" };

/**
 * Pushes a tier to the DO and records the version as applied. The DO keeps the newest
 * version it has seen and ignores older pushes, so concurrent writers cannot leave an
 * older configuration in force; what it reports back is what is applied.
 */
async function pushTier(db: TenantDb, inventory: InventoryStub, row: TicketTierRow, now: number): Promise<Push> {
  let result: InventoryResult<TierCounts>;
  try {
    result = (await inventory.upsertTier(toTierConfig(row), now)) as InventoryResult<TierCounts>;
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
  await db.tiers.markApplied(row.eventId, row.id, result.value.version);
  return { kind: "applied" };
}

/** Pushes the event's other tiers whose last write never reached the DO (best effort). */
async function repairUnapplied(db: TenantDb, inventory: InventoryStub, eventId: string, exceptId: string, now: number) {
  for (const row of await db.tiers.unapplied(eventId)) {
    if (row.id !== exceptId) await pushTier(db, inventory, row, now);
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
  const { principal, db } = tenantOf(c);
  const event = await editableEvent(c, eventId);
  const values = createdValues(body);
  assertValidTier(values);
  const now = c.var.now();
  const id = uuidv7(now);
  const created = await db.tiers.create({ ...values, id, eventId: event.id, createdBy: principalId(principal), createdAt: now });
  if ("refused" in created) {
    if (created.refused === "currency_mismatch") throw currencyMismatch(values.currency);
    throw new AppError("CONFLICT", "The event has as many tiers as it may have");
  }
  const inventory = inventoryFor(c, principal.tenantId, event.id);
  const pushed = await pushTier(db, inventory, created.row, now);
  if (pushed.kind === "refused") {
    await db.tiers.discardUnapplied(event.id, id);
    throw problemError(pushed.problem);
  }
  if (pushed.kind === "applied") await repairUnapplied(db, inventory, event.id, id, now);
  return reread(db, event.id, id);
}

/**
 * PATCH. Refusal order: precondition missing (428), unknown event or tier (404), not
 * allowed (403), event over (409), stale version, invalid result, capacity below what is
 * held and sold (409). A PATCH that changes nothing writes nothing.
 */
export async function patchTier(c: Ctx, eventId: string, tierId: string, body: PatchTierInput): Promise<TicketTierRow> {
  const { principal, db } = tenantOf(c);
  const expected = expectedVersion(c, body.version);
  const event = await editableEvent(c, eventId);
  const current = await db.tiers.findById(event.id, tierId);
  if (!current) throw tierNotFound();
  if (current.version !== expected) throw staleVersion(c, current.version);

  const { version: _v, ...fields } = body;
  const next: TierValues = { ...valuesOf(current), ...columnsOf(fields) };
  assertValidTier(next);
  const previous = valuesOf(current);
  const changes = Object.fromEntries(
    Object.entries(next).filter(([k, v]) => previous[k as keyof TierValues] !== v),
  ) as TierChanges;
  if (Object.keys(changes).length === 0) return current;

  const inventory = inventoryFor(c, principal.tenantId, event.id);
  if (next.capacity < current.capacity) {
    const counts = (await rpc<TierCounts[]>("counts", inventory.counts())).find((t) => t.tierId === tierId);
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

  const now = c.var.now();
  const updated = await db.tiers.update(event.id, tierId, expected, { ...changes, updatedAt: now, updatedBy: principalId(principal) });
  if (updated === "currency_mismatch") throw currencyMismatch(next.currency);
  if (!updated) {
    const latest = await db.tiers.findById(event.id, tierId);
    if (!latest) throw tierNotFound();
    throw staleVersion(c, latest.version);
  }
  const pushed = await pushTier(db, inventory, updated, now);
  if (pushed.kind === "refused") {
    await db.tiers.restore(current, updated.version, now);
    throw problemError(pushed.problem);
  }
  if (pushed.kind === "applied") await repairUnapplied(db, inventory, event.id, tierId, now);
  return reread(db, event.id, tierId);
}

export interface TierSyncResult {
  tiers: TicketTierRow[];
  refused: { tierId: string; code: string; detail: string }[];
}

/**
 * Pushes every tier of the event to its DO again (repair after a failed push). Idempotent.
 * A tier the DO refuses (its D1 capacity fell below what was held meanwhile) stays
 * `inForce: false` and is listed under `refused`; PATCH it to a capacity the DO accepts.
 */
export async function syncTiers(c: Ctx, eventId: string): Promise<TierSyncResult> {
  const { principal, db } = tenantOf(c);
  const event = await editableEvent(c, eventId);
  const inventory = inventoryFor(c, principal.tenantId, event.id);
  const now = c.var.now();
  const refused: TierSyncResult["refused"] = [];
  for (const row of await db.tiers.listForEvent(event.id)) {
    const pushed = await pushTier(db, inventory, row, now);
    if (pushed.kind === "unreachable") throw new AppError("DEPENDENCY_UNAVAILABLE", "The event's inventory is unavailable; retry shortly");
    if (pushed.kind === "refused") refused.push({ tierId: row.id, code: pushed.problem.code, detail: pushed.problem.detail });
  }
  return { tiers: await db.tiers.listForEvent(event.id), refused };
}
