import type { Context } from "hono";
import type { UserPrincipal } from "../auth/principal";
import type { AppEnv } from "../http/context";
import { errorFields, log } from "../observability/logger";
import { assess } from "./assess";
import { holdVelocity, RISK_THRESHOLDS } from "./limits";
import { edgeClientIp, holdBuckets, limiter } from "./velocity";

export { assess, RISK_FLAGS, type RiskFlag, type RiskSignals } from "./assess";
export { HOLD_VELOCITY, RISK_THRESHOLDS } from "./limits";
export { admitHold, edgeClientIp, holdBuckets, ipKey } from "./velocity";

/** A signal's value, or undefined (logged) when it cannot be read: flags never fail a checkout. */
async function soft<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    log("warn", `fraud: signal ${what} unavailable`, errorFields(err));
    return undefined;
  }
}

/**
 * The risk signals of a checkout the API can read (docs/adr/0009-fraud-signals.md): the
 * buyer's hold attempts in the velocity window and the distinct buyers behind the
 * client's address (RateLimiter peeks, which count nothing) become `flags`; the account's
 * creation time (read with the session check, src/auth/authenticate.ts) goes along so the inventory, which knows the hold's quantity, adds the
 * quantity-based flags (`new_account`, `bulk`) with the same `assess`.
 */
export async function checkoutRisk(c: Context<AppEnv>, input: { buyer: UserPrincipal }): Promise<{ flags: string[]; accountCreatedAt?: number }> {
  const { buyer } = input;
  const now = c.var.now();
  const ip = edgeClientIp(c);
  const limits = holdVelocity(c.var.config);
  const [holds, ipBuyers] = await Promise.all([
    soft("velocity", () => limiter(c, buyer.tenantId, holdBuckets.account(buyer.tenantId, buyer.userId)).peek(limits.account.limit, limits.account.windowMs, now)),
    ip
      ? soft("shared_ip", () =>
          limiter(c, buyer.tenantId, holdBuckets.ipBuyers(buyer.tenantId, ip)).peek(RISK_THRESHOLDS.sharedIpBuyers, RISK_THRESHOLDS.sharedIpWindowMs, now),
        )
      : undefined,
  ]);
  const flags = assess({ now, holdAttempts: holds?.count, buyersOnIp: ipBuyers?.count }, RISK_THRESHOLDS, limits.account.limit);
  return { flags, accountCreatedAt: buyer.accountCreatedAt };
}
