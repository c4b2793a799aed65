import type { RateLimiter } from "../../durable-objects/rate-limiter";
import type { ApiConfig } from "../config/env";
import { AppError } from "../http/errors";
import { sha256Hex } from "../lib/crypto";

/**
 * Failed-login throttling, per account and per client IP, each a RateLimiter DO.
 * Account: 5 failures in 15 minutes locks that account's password login until the
 * oldest failure ages out (a correct password does not bypass it). IP: 30 failures
 * in 15 minutes across any accounts, which stops spraying from one address while
 * tolerating a shared NAT. A successful login clears the account counter.
 */
export const LOGIN_POLICY = {
  account: { limit: 5, windowMs: 15 * 60_000 },
  ip: { limit: 30, windowMs: 15 * 60_000 },
} as const;

type Stub = DurableObjectStub<RateLimiter>;

export class LoginThrottle {
  private constructor(
    private readonly account: Stub,
    private readonly ip: Stub | null,
  ) {}

  static async for(config: ApiConfig, tenantId: string, email: string, ip: string | null): Promise<LoginThrottle> {
    const ns = config.RATE_LIMITER;
    const accountKey = `login:account:${tenantId}:${await sha256Hex(email.toLowerCase())}`;
    return new LoginThrottle(ns.get(ns.idFromName(accountKey)), ip ? ns.get(ns.idFromName(`login:ip:${ip}`)) : null);
  }

  /** Throws LOGIN_THROTTLED (429 + Retry-After) when either counter is full. */
  async assertAllowed(now: number): Promise<void> {
    const [a, i] = await Promise.all([
      this.account.peek(LOGIN_POLICY.account.limit, LOGIN_POLICY.account.windowMs, now),
      this.ip?.peek(LOGIN_POLICY.ip.limit, LOGIN_POLICY.ip.windowMs, now),
    ]);
    const blocked = [a, i].filter((s) => s?.blocked);
    if (blocked.length) {
      const retryAfter = Math.ceil(Math.max(...blocked.map((s) => s!.retryAfterMs)) / 1000);
      throw new AppError("LOGIN_THROTTLED", "Too many failed attempts; try again later", {
        headers: { "retry-after": String(Math.max(1, retryAfter)) },
        retryAfterSeconds: Math.max(1, retryAfter),
      });
    }
  }

  async recordFailure(now: number): Promise<void> {
    await Promise.all([
      this.account.hit(LOGIN_POLICY.account.limit, LOGIN_POLICY.account.windowMs, now),
      this.ip?.hit(LOGIN_POLICY.ip.limit, LOGIN_POLICY.ip.windowMs, now),
    ]);
  }

  async recordSuccess(): Promise<void> {
    await this.account.reset();
  }
}
