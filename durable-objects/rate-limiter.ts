import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../src/config/env";

export interface LimitState {
  blocked: boolean;
  count: number;
  /** Milliseconds until the oldest counted hit leaves the window (0 when not blocked). */
  retryAfterMs: number;
}

/**
 * A sliding-window counter, one instance per key (e.g. one account's failed logins,
 * one IP's failed logins). Single-threaded per key, so counting is exact without
 * locks; SQLite storage keeps counts across evictions and deploys.
 */
export class RateLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    loadConfig(env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS hits (ts INTEGER NOT NULL)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS hits_ts ON hits (ts)");
  }

  private state(limit: number, windowMs: number, now: number): LimitState {
    this.sql.exec("DELETE FROM hits WHERE ts <= ?", now - windowMs);
    const row = this.sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(ts) AS oldest FROM hits").one();
    const blocked = row.n >= limit;
    return {
      blocked,
      count: row.n,
      retryAfterMs: blocked && row.oldest !== null ? Math.max(0, row.oldest + windowMs - now) : 0,
    };
  }

  async peek(limit: number, windowMs: number, now: number): Promise<LimitState> {
    return this.state(limit, windowMs, now);
  }

  async hit(limit: number, windowMs: number, now: number): Promise<LimitState> {
    this.sql.exec("INSERT INTO hits (ts) VALUES (?)", now);
    return this.state(limit, windowMs, now);
  }

  /**
   * Counts a hit only if the window has room: one round trip that both checks and
   * admits, so a caller refused at the limit does not push its own window forward.
   */
  async tryHit(limit: number, windowMs: number, now: number): Promise<LimitState> {
    const before = this.state(limit, windowMs, now);
    if (before.blocked) return before;
    this.sql.exec("INSERT INTO hits (ts) VALUES (?)", now);
    return { blocked: false, count: before.count + 1, retryAfterMs: 0 };
  }

  async reset(): Promise<void> {
    this.sql.exec("DELETE FROM hits");
  }

  /** Readiness probe round trip. */
  async ping(): Promise<"pong"> {
    return "pong";
  }
}
