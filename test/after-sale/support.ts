import { runDurableObjectAlarm } from "cloudflare:test";
import { expect } from "vitest";
import { createTenant, registerUser, userWithRole, type TenantFixture, type UserFixture } from "../helpers/fixtures";
import { call, type CallResult } from "../helpers/http";
import { buy, drainInventory, inventoryStub } from "../orders/support";
import { onSaleEvent } from "../sales/support";

export { buy, drainInventory, inventoryStub };

export interface SoldWorld {
  tenant: TenantFixture;
  event: { id: string };
  tier: { id: string };
  buyer: UserFixture;
  order: { id: string; tickets: { id: string; number: number; code: string }[] };
}

/** An on-sale event with a free tier (paid at checkout) and one buyer's order of `quantity` tickets. */
export async function soldWorld(quantity = 2, tier: Record<string, unknown> = {}): Promise<SoldWorld> {
  const tenant = await createTenant();
  const { event, tier: t } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 10, ...tier });
  const buyer = await registerUser(tenant);
  const res = await buy(buyer.tokens.accessToken, event.id, t.id, quantity);
  expect(res.status, res.text).toBe(201);
  return { tenant, event, tier: t, buyer, order: res.body };
}

export async function scannerOf(tenant: TenantFixture): Promise<string> {
  return (await userWithRole(tenant, "scanner")).tokens.accessToken;
}

export function scan(token: string, eventId: string, code: string, gate?: string): Promise<CallResult> {
  return call("POST", `/v1/events/${eventId}/check-ins`, { token, body: gate ? { code, gate } : { code } });
}

export function refund(token: string, eventId: string, orderId: string, body: Record<string, unknown>, key = crypto.randomUUID()): Promise<CallResult> {
  return call("POST", `/v1/events/${eventId}/orders/${orderId}/refunds`, { token, headers: { "idempotency-key": key }, body: { reason: "customer asked", ...body } });
}

export async function payLocally(token: string, eventId: string, orderId: string) {
  const res = await call("POST", "/v1/payments/local/confirm", { token, body: { eventId, orderId } });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Runs the DO's alarm until it has nothing due now (saga steps, offers, outbox). */
export async function settleAlarms(tenantId: string, eventId: string, rounds = 20) {
  const stub = inventoryStub(tenantId, eventId);
  for (let i = 0; i < rounds; i++) if (!(await runDurableObjectAlarm(stub))) break;
}

export { createTenant, registerUser };
