import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { EventInventory, OutboxReport } from "../../durable-objects/event-inventory";
import { inventoryName } from "../../src/inventory/contract";
import { call, type CallResult } from "../helpers/http";
import { placeHold } from "../sales/support";

export const ordersPath = (eventId: string) => `/v1/events/${eventId}/orders`;

/** The event's inventory DO, as the API reaches it. */
export function inventoryStub(tenantId: string, eventId: string): DurableObjectStub<EventInventory> {
  return env.EVENT_INVENTORY.get(env.EVENT_INVENTORY.idFromName(inventoryName(tenantId, eventId)));
}

/** POST a checkout with a fresh Idempotency-Key unless one is given. */
export function checkout(token: string, eventId: string, holdId: string, key: string = crypto.randomUUID()): Promise<CallResult> {
  return call("POST", ordersPath(eventId), { token, headers: { "idempotency-key": key }, body: { holdId } });
}

/** Hold `quantity` of a tier and check it out; returns the checkout's answer. */
export async function buy(token: string, eventId: string, tierId: string, quantity = 1): Promise<CallResult> {
  const hold = await placeHold(token, eventId, [{ tierId, quantity }]);
  expect(hold.status, hold.text).toBe(201);
  return checkout(token, eventId, hold.body.id);
}

/**
 * Applies everything in the event's outbox now, the way the alarm does (whatever the
 * backoff says), until nothing is left or an effect keeps failing.
 */
export async function drainInventory(tenantId: string, eventId: string, now = Date.now() + 3_600_000): Promise<OutboxReport> {
  const stub = inventoryStub(tenantId, eventId);
  await runDurableObjectAlarm(stub);
  return runInDurableObject(stub, (instance: EventInventory) => instance.applyOutbox(now));
}

/** Moves the DO's pending-order deadlines into the past and its alarm due, as time passing would. */
export async function fastForward(stub: DurableObjectStub<EventInventory>) {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE orders SET expires_at = 1 WHERE status = 'pending'");
    state.storage.sql.exec("UPDATE schedule SET due_at = 1 WHERE kind = 'order_expiry'");
  });
  await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now() - 1));
}
