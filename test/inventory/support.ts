import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { EventInventory } from "../../durable-objects/event-inventory";
import {
  DEFAULT_HOLD_TTL_MS,
  inventoryName,
  type GateState,
  type HoldDto,
  type HoldItem,
  type IdempotentOutcome,
  type InventoryResult,
  type TierConfig,
} from "../../src/inventory/contract";

/** The wall clock at load; tests place every time relative to it. */
export const NOW = Date.now();
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type Inventory = DurableObjectStub<EventInventory>;

/** A fresh event's DO (storage is per test file, so each test takes its own event). */
export function newInventory(): { stub: Inventory; tenantId: string; eventId: string } {
  const tenantId = crypto.randomUUID();
  const eventId = crypto.randomUUID();
  const stub = env.EVENT_INVENTORY.get(env.EVENT_INVENTORY.idFromName(inventoryName(tenantId, eventId)));
  return { stub, tenantId, eventId };
}

export const gate = (over: Partial<GateState> = {}): GateState => ({
  status: "ON_SALE",
  eventVersion: 1,
  salesStartAt: NOW - DAY,
  salesEndAt: null,
  startsAt: NOW + 30 * DAY,
  ...over,
});

// Each configuration built here is newer than the previous one, as successive D1 tier
// versions are; tests of out-of-order pushes pass `version` explicitly.
let tierVersion = 0;

export const tier = (tierId: string, over: Partial<TierConfig> = {}): TierConfig => ({
  tierId,
  version: ++tierVersion,
  name: `Tier ${tierId}`,
  capacity: 100,
  minPerOrder: 1,
  maxPerOrder: 10,
  maxPerBuyer: 10,
  salesStartAt: null,
  salesEndAt: null,
  currency: "EUR",
  priceMinor: 5000,
  serviceFeeMinor: 250,
  facilityFeeMinor: 100,
  taxBps: 1900,
  earlyBird: null,
  lastMinute: null,
  groupDiscount: null,
  ...over,
});

/** An on-sale event with the given tiers. */
export async function onSaleInventory(...tiers: TierConfig[]) {
  const inv = newInventory();
  await inv.stub.syncGate(gate());
  for (const t of tiers) expect((await inv.stub.upsertTier(t, NOW)).ok).toBe(true);
  return inv;
}

let keySeq = 0;
/** A fresh idempotency identity (scoped key + request hash). */
export const idem = (principal = "buyer") => ({
  scopedKey: `tenant:${principal}:key-${keySeq++}`,
  requestHash: crypto.randomUUID(),
});

export const holdReq = (buyerId: string, items: HoldItem[], over: { now?: number; ttlMs?: number } = {}) => ({
  ...idem(buyerId),
  buyerId,
  items,
  now: over.now ?? NOW,
  ttlMs: over.ttlMs ?? DEFAULT_HOLD_TTL_MS,
});

type Outcome = IdempotentOutcome<HoldDto>;

/** The fresh response of an outcome; fails the test on in_flight / key_reused. */
export function response(o: Outcome): { status: number; result: InventoryResult<HoldDto>; replayed: boolean } {
  if (o.kind !== "response") throw new Error(`expected a response, got ${o.kind}`);
  return o;
}

export function held(o: Outcome): HoldDto {
  const r = response(o);
  if (!r.result.ok) throw new Error(`expected a hold, got ${r.result.code}: ${r.result.detail}`);
  expect(r.status).toBe(201);
  return r.result.value;
}

/** Asserts a refusal with the code and its status, and returns it for extras checks. */
export function refused(o: Outcome, code: string, status: number) {
  const r = response(o);
  expect(r.result.ok, JSON.stringify(r.result)).toBe(false);
  if (r.result.ok) throw new Error("unreachable");
  expect(r.result.code).toBe(code);
  expect(r.status).toBe(status);
  return r.result;
}

/** Raw SQL inside the object, for checking invariants the RPC surface does not show. */
export function sql<T extends Record<string, SqlStorageValue>>(stub: Inventory, query: string, ...params: SqlStorageValue[]) {
  return runInDurableObject(stub, (_i, state) => state.storage.sql.exec<T>(query, ...params).toArray());
}

export async function tierCounts(stub: Inventory, tierId: string) {
  const c = (await stub.counts()).find((t) => t.tierId === tierId);
  if (!c) throw new Error(`no tier ${tierId}`);
  return c;
}
