import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../src/config/env";

export interface LimitState {
  blocked: boolean;
  count: number;
  /** Milliseconds until the oldest counted hit leaves the window (0 when not blocked). */
  retryAfterMs: number;
}

/** The longest window a named bucket may use: older hits are swept regardless of bucket. */
export const MAX_BUCKET_WINDOW_MS = 24 * 3600_000;
const SWEEP_EVERY_MS = 60_000;

/**
 * Sliding-window counters. Either one instance per key (login throttling: one account's or
 * one address's failed logins, the `hits` table), or one instance holding many named
 * buckets (`bucket_hits`), which hold velocity uses: a tenant's buckets are spread over a
 * fixed set of shard instances (src/fraud/velocity.ts), so a buyer's first hold does not
 * have to create fresh objects. Single-threaded per instance, so counting is exact without
 * locks; SQLite storage keeps counts across evictions and deploys.
 */
export class RateLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private lastSweep = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    loadConfig(env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS hits (ts INTEGER NOT NULL)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS hits_ts ON hits (ts)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS bucket_hits (bucket TEXT NOT NULL, ts INTEGER NOT NULL)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS bucket_hits_bucket_ts ON bucket_hits (bucket, ts)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS bucket_hits_ts ON bucket_hits (ts)");
  }

  private state(limit: number, windowMs: number, now: number, bucket: string | undefined): LimitState {
    let row: { n: number; oldest: number | null };
    if (bucket === undefined) {
      this.sql.exec("DELETE FROM hits WHERE ts <= ?", now - windowMs);
      row = this.sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(ts) AS oldest FROM hits").one();
    } else {
      // Callers keep windows within MAX_BUCKET_WINDOW_MS (src/fraud/velocity.ts limiter): the sweep assumes it.
      this.sweep(now);
      this.sql.exec("DELETE FROM bucket_hits WHERE bucket = ? AND ts <= ?", bucket, now - windowMs);
      row = this.sql.exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(ts) AS oldest FROM bucket_hits WHERE bucket = ?", bucket).one();
    }
    const blocked = row.n >= limit;
    return {
      blocked,
      count: row.n,
      retryAfterMs: blocked && row.oldest !== null ? Math.max(0, row.oldest + windowMs - now) : 0,
    };
  }

  /** Buckets nobody asks about any more lose their hits too, at most once a minute. */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    this.sql.exec("DELETE FROM bucket_hits WHERE ts <= ?", now - MAX_BUCKET_WINDOW_MS);
  }

  private insert(now: number, bucket: string | undefined): void {
    if (bucket === undefined) this.sql.exec("INSERT INTO hits (ts) VALUES (?)", now);
    else this.sql.exec("INSERT INTO bucket_hits (bucket, ts) VALUES (?, ?)", bucket, now);
  }

  /** The window's state; `bucket` names a bucket of a shared instance (omit: the instance's own). */
  async peek(limit: number, windowMs: number, now: number, bucket?: string): Promise<LimitState> {
    return this.state(limit, windowMs, now, bucket);
  }

  async hit(limit: number, windowMs: number, now: number, bucket?: string): Promise<LimitState> {
    this.insert(now, bucket);
    return this.state(limit, windowMs, now, bucket);
  }

  /**
   * Counts a hit only if the window has room: one round trip that both checks and
   * admits, so a caller refused at the limit does not push its own window forward.
   */
  async tryHit(limit: number, windowMs: number, now: number, bucket?: string): Promise<LimitState> {
    const before = this.state(limit, windowMs, now, bucket);
    if (before.blocked) return before;
    this.insert(now, bucket);
    return { blocked: false, count: before.count + 1, retryAfterMs: 0 };
  }

  async reset(): Promise<void> {
    this.sql.exec("DELETE FROM hits");
    this.sql.exec("DELETE FROM bucket_hits");
  }

  /** Readiness probe round trip. */
  async ping(): Promise<"pong"> {
    return "pong";
  }
}
