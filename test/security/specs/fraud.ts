/**
 * Security specs of the fraud review routes (import this module from routes.security.test.ts).
 */
import { expect } from "vitest";
import { registerUser } from "../../helpers/fixtures";
import { call } from "../../helpers/http";
import { describeRouteSecurity, type SecurityWorld } from "../../helpers/route-security";
import { drainInventory, inventoryStub } from "../../orders/support";
import { onSaleTierInA } from "./sales";

const STAFF_ADMINS = ["owner", "admin"] as const;

/**
 * A flagged order of tenant A, recorded in D1. Checked out on the inventory directly with a
 * flag, so the spec does not depend on the risk thresholds. The listing changes nothing,
 * so one order per world serves every case.
 */
const flagged = new Map<string, Promise<Record<string, string>>>();
function flaggedOrderInA(w: SecurityWorld) {
  let p = flagged.get(w.a.id);
  if (!p) {
    p = (async () => {
      const { eventId, tierId } = await onSaleTierInA(w);
      const buyer = await registerUser(await w.a.fixture());
      const hold = await call("POST", `/v1/events/${eventId}/holds`, {
        token: buyer.tokens.accessToken,
        headers: { "idempotency-key": crypto.randomUUID() },
        body: { items: [{ tierId, quantity: 1 }] },
      });
      expect(hold.status, hold.text).toBe(201);
      const step = await inventoryStub(w.a.id, eventId).checkout({
        scopedKey: `${w.a.id}:${buyer.id}:${crypto.randomUUID()}`,
        requestHash: "security-test",
        buyerId: buyer.id,
        holdId: hold.body.id,
        now: Date.now(),
        paymentTtlMs: 15 * 60_000,
        provider: "local",
        flags: ["velocity"],
      });
      const orderId = step.kind === "needs_payment" ? step.order.orderId : step.outcome.kind === "response" && step.outcome.result.ok ? step.outcome.result.value.orderId : null;
      if (!orderId) throw new Error(`checkout failed: ${JSON.stringify(step)}`);
      await drainInventory(w.a.id, eventId);
      return { orderId };
    })();
    flagged.set(w.a.id, p);
  }
  return p;
}

describeRouteSecurity({
  method: "GET",
  path: "/v1/orders/flagged",
  query: { limit: "100" },
  setup: flaggedOrderInA,
  listsParam: "orderId",
  allowedRoles: STAFF_ADMINS,
  apiKeyScopes: ["orders:read"],
  success: 200,
});
