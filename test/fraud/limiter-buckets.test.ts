import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_BUCKET_WINDOW_MS } from "../../durable-objects/rate-limiter";
import type { Context } from "hono";
import { HOLD_VELOCITY, RISK_THRESHOLDS } from "../../src/fraud/limits";
import { HOLD_SHARDS, holdBuckets, limiter, shardName } from "../../src/fraud/velocity";
import type { AppEnv } from "../../src/http/context";

// Hold velocity buckets share RateLimiter shards (src/fraud/velocity.ts); each named bucket
// must still count on its own, exactly as an object of its own did.
describe("named buckets in one RateLimiter", () => {
  const shard = () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`test-shard-${crypto.randomUUID()}`));

  it("counts each bucket on its own, with its own window and Retry-After", async () => {
    const stub = shard();
    const now = 1_800_000_000_000;
    for (let i = 0; i < 3; i++) expect((await stub.tryHit(3, 60_000, now + i, "a")).blocked).toBe(false);
    const full = await stub.tryHit(3, 60_000, now + 10, "a");
    expect(full).toEqual({ blocked: true, count: 3, retryAfterMs: 60_000 - 10 });
    // Another bucket of the same object is untouched, and so is the object's own counter.
    expect(await stub.tryHit(3, 60_000, now + 10, "b")).toEqual({ blocked: false, count: 1, retryAfterMs: 0 });
    expect(await stub.peek(3, 60_000, now + 10)).toEqual({ blocked: false, count: 0, retryAfterMs: 0 });
    // The window slides per bucket: a's first hit leaves at now + 60 s.
    expect(await stub.tryHit(3, 60_000, now + 60_000, "a")).toEqual({ blocked: false, count: 3, retryAfterMs: 0 });
    expect((await stub.peek(3, 60_000, now + 60_000, "b")).count).toBe(1);
  });

  it("a burst on one bucket admits exactly the limit while a neighbour bucket keeps its own count", async () => {
    const stub = shard();
    const now = 1_800_000_000_000;
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => stub.tryHit(10, 60_000, now, i % 2 ? "odd" : "even")));
    expect(answers.filter((a, i) => i % 2 === 0 && !a.blocked)).toHaveLength(10);
    expect(answers.filter((a, i) => i % 2 === 1 && !a.blocked)).toHaveLength(10);
  });

  it("sweeps hits older than the longest window from buckets nobody asks about; longer windows are refused before the shard", async () => {
    const stub = shard();
    const now = 1_800_000_000_000;
    await stub.hit(5, 60_000, now, "abandoned");
    await stub.hit(5, 60_000, now + MAX_BUCKET_WINDOW_MS + 120_000, "active");
    const left = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ bucket: string }>("SELECT bucket FROM bucket_hits ORDER BY bucket").toArray().map((r) => r.bucket),
    );
    expect(left).toEqual(["active"]);
    const c = { var: { config: { RATE_LIMITER: env.RATE_LIMITER } } } as unknown as Context<AppEnv>;
    const bucket = limiter(c, "tenant-x", "holds:account:tenant-x:u");
    await expect(bucket.peek(5, MAX_BUCKET_WINDOW_MS + 1, now)).rejects.toThrow(RangeError);
    expect((await bucket.peek(5, MAX_BUCKET_WINDOW_MS, now)).count).toBe(0);
  });

  it("every velocity window in use fits the shards' sweep (a longer one would fail open: admitHold admits when the limiter throws)", () => {
    for (const w of [HOLD_VELOCITY.account.windowMs, HOLD_VELOCITY.ip.windowMs, RISK_THRESHOLDS.sharedIpWindowMs]) {
      expect(w).toBeGreaterThan(0);
      expect(w).toBeLessThanOrEqual(MAX_BUCKET_WINDOW_MS);
    }
  });

  it("a tenant's buckets spread over its shards; tenants never share one", () => {
    const tenants = ["tenant-a", "tenant-b"];
    const shards = tenants.map((t) => new Set(Array.from({ length: 2000 }, (_, i) => shardName(t, holdBuckets.account(t, `user-${i}`)))));
    expect(shards[0]!.size).toBe(HOLD_SHARDS);
    for (const s of shards[0]!) expect(shards[1]!.has(s)).toBe(false);
  });
});
