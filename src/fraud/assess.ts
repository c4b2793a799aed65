import { HOLD_VELOCITY, RISK_THRESHOLDS, type RiskThresholds } from "./limits";

/**
 * Risk flags of a checkout: a pure function of signals gathered by the caller
 * (src/fraud/index.ts). Each flag is a reason for an admin to look at the order, never a
 * reason to refuse it (docs/adr/0009-fraud-signals.md). A signal the caller could not get
 * is left undefined and raises nothing: flags fail open.
 */
export const RISK_FLAGS = ["new_account", "velocity", "bulk", "shared_ip"] as const;
export type RiskFlag = (typeof RISK_FLAGS)[number];

export interface RiskSignals {
  /** The request's clock. */
  now: number;
  /** When the buyer's account was created. */
  accountCreatedAt?: number;
  /** Tickets in the hold being checked out. */
  holdQuantity?: number;
  /** The buyer's hold attempts in the current HOLD_VELOCITY.account window. */
  holdAttempts?: number;
  /** Distinct buyers who held from the checkout's client address in the window (approximate). */
  buyersOnIp?: number;
}

/** The flags the signals raise, in RISK_FLAGS order, each at most once. */
export function assess(s: RiskSignals, t: RiskThresholds = RISK_THRESHOLDS, holdLimit: number = HOLD_VELOCITY.account.limit): RiskFlag[] {
  const raised = new Set<RiskFlag>();
  const q = s.holdQuantity;
  if (s.accountCreatedAt !== undefined && q !== undefined && s.now - s.accountCreatedAt < t.newAccountAgeMs && q >= t.newAccountMinTickets) {
    raised.add("new_account");
  }
  if (s.holdAttempts !== undefined && s.holdAttempts > holdLimit * t.velocityShare) raised.add("velocity");
  if (q !== undefined && q >= t.bulkTickets) raised.add("bulk");
  if (s.buyersOnIp !== undefined && s.buyersOnIp >= t.sharedIpBuyers) raised.add("shared_ip");
  return RISK_FLAGS.filter((f) => raised.has(f));
}
