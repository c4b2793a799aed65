/**
 * The numbers behind hold velocity limits and checkout risk flags (docs/adr/0009-fraud-signals.md).
 * Constants for now: they are product policy, the same for every tenant, and tests import
 * them instead of repeating them. Candidates for config vars once a tenant needs other values.
 */

/**
 * Hold attempts per sliding window, each counter a RateLimiter Durable Object. Every attempt
 * that reaches the inventory counts, whatever it answers (SOLD_OUT and BUYER_LIMIT_EXCEEDED
 * included); a request refused with 429 does not.
 *   - `account`: one buyer (user id) of one tenant. A person clicking "hold" does not get near
 *     20 a minute; a script cycling holds to keep seats off sale does.
 *   - `ip`: one client address (IPv6 by its /64) within one tenant, across all its accounts. Higher,
 *     because households, offices and mobile carriers share addresses.
 */
export const HOLD_VELOCITY = {
  account: { limit: 20, windowMs: 60_000 },
  ip: { limit: 60, windowMs: 60_000 },
} as const;

/** The limits in force: HOLD_VELOCITY's windows with the configured counts (defaults equal HOLD_VELOCITY). */
export function holdVelocity(config: { HOLD_LIMIT_PER_ACCOUNT_PER_MINUTE: number; HOLD_LIMIT_PER_IP_PER_MINUTE: number }) {
  return {
    account: { limit: config.HOLD_LIMIT_PER_ACCOUNT_PER_MINUTE, windowMs: HOLD_VELOCITY.account.windowMs },
    ip: { limit: config.HOLD_LIMIT_PER_IP_PER_MINUTE, windowMs: HOLD_VELOCITY.ip.windowMs },
  };
}

/** When checkout flags an order for review (src/fraud/assess.ts). Flags never block. */
export const RISK_THRESHOLDS = {
  /** `new_account`: the account is younger than this... */
  newAccountAgeMs: 10 * 60_000,
  /** ...and the order has at least this many tickets. */
  newAccountMinTickets: 4,
  /** `bulk`: an order with at least this many tickets. */
  bulkTickets: 10,
  /** `velocity`: the buyer's hold attempts in the window exceed this share of HOLD_VELOCITY.account.limit. */
  velocityShare: 0.5,
  /** `shared_ip`: at least this many distinct buyers held from the checkout's address within the window below. */
  sharedIpBuyers: 5,
  sharedIpWindowMs: HOLD_VELOCITY.account.windowMs,
} as const;

export type RiskThresholds = { readonly [K in keyof typeof RISK_THRESHOLDS]: number };
