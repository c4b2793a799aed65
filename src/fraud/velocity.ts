import type { Context } from "hono";
import { MAX_BUCKET_WINDOW_MS, type LimitState } from "../../durable-objects/rate-limiter";
import type { UserPrincipal } from "../auth/principal";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { errorFields, log } from "../observability/logger";
import { holdVelocity, RISK_THRESHOLDS } from "./limits";

/**
 * Hold velocity limits: sliding-window counters in RateLimiter Durable Objects. Buckets are
 * per tenant, so one tenant's rush never throttles another tenant's buyers behind the same
 * address, and each tenant's buckets live in HOLD_SHARDS objects (the bucket name hashed),
 * not one object per bucket: an on-sale's first wave of buyers would otherwise create two
 * or three fresh objects per buyer, which measurably dominated the first holds' latency
 * (docs/benchmarks.md). A shard serialises its buckets' hits, so counting stays exact.
 */
export const holdBuckets = {
  account: (tenantId: string, userId: string) => `holds:account:${tenantId}:${userId}`,
  ip: (tenantId: string, ip: string) => `holds:ip:${tenantId}:${ipKey(ip)}`,
  /** One hit per buyer's first hold of a window from the address: about the distinct buyers there. */
  ipBuyers: (tenantId: string, ip: string) => `holds:ip-buyers:${tenantId}:${ipKey(ip)}`,
};

/**
 * The client's address as Cloudflare's edge reports it (`cf-connecting-ip`, set on every
 * request from the internet and not forgeable through the edge). Absent locally, in tests
 * and over service bindings: then per-address limits and signals are skipped rather than
 * pooled, since one shared "unknown" bucket would throttle all such callers together.
 * `x-real-ip` is deliberately not used: a client could set it to anything.
 */
export function edgeClientIp(c: Context<AppEnv>): string | null {
  const ip = c.req.header("cf-connecting-ip")?.trim();
  return ip ? ip : null;
}

/**
 * What an address counts as: IPv4 as is; IPv6 by its /64, the prefix one subscriber gets
 * (otherwise one host could rotate through 2^64 addresses); IPv4-mapped IPv6 as its IPv4.
 * Anything unparseable counts as the literal string.
 */
export function ipKey(raw: string): string {
  const ip = raw.trim().toLowerCase();
  if (!ip.includes(":")) return ip;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  if (mapped) return mapped[1]!;
  // An embedded dotted IPv4 suffix fills the last two groups; only the first four matter.
  const halves = ip.replace(/\d{1,3}(?:\.\d{1,3}){3}$/, "0:0").split("::");
  if (halves.length > 2) return ip;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill("0"), ...tail] : head;
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return ip;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** Velocity shards per tenant: a tenant's hold attempts spread over this many objects. */
export const HOLD_SHARDS = 64;

/** One named bucket in its tenant's shard. */
export interface BucketRef {
  tryHit(limit: number, windowMs: number, now: number): Promise<LimitState>;
  hit(limit: number, windowMs: number, now: number): Promise<LimitState>;
  peek(limit: number, windowMs: number, now: number): Promise<LimitState>;
}

/** FNV-1a (32 bit): a stable, well-spread hash of the bucket name for its shard. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const shardName = (tenantId: string, bucket: string) => `holds:${tenantId}:shard:${fnv1a(bucket) % HOLD_SHARDS}`;

export function limiter(c: Context<AppEnv>, tenantId: string, bucket: string): BucketRef {
  const ns = c.var.config.RATE_LIMITER;
  const stub = ns.get(ns.idFromName(shardName(tenantId, bucket)));
  // The shard sweeps hits older than MAX_BUCKET_WINDOW_MS whatever their bucket.
  const window = (ms: number) => {
    if (!(ms > 0 && ms <= MAX_BUCKET_WINDOW_MS)) throw new RangeError(`a velocity window is 1 ms to ${MAX_BUCKET_WINDOW_MS} ms`);
    return ms;
  };
  return {
    tryHit: async (limit, windowMs, now) => stub.tryHit(limit, window(windowMs), now, bucket),
    hit: async (limit, windowMs, now) => stub.hit(limit, window(windowMs), now, bucket),
    peek: async (limit, windowMs, now) => stub.peek(limit, window(windowMs), now, bucket),
  };
}

interface Bucket {
  scope: "account" | "ip";
  stub: BucketRef;
  limit: number;
  windowMs: number;
}

function refuse(bucket: Bucket, state: LimitState): never {
  const retryAfter = Math.max(1, Math.ceil(state.retryAfterMs / 1000));
  const who = bucket.scope === "account" ? "this account" : "this network address";
  throw new AppError("HOLD_RATE_LIMITED", `At most ${bucket.limit} holds per ${bucket.windowMs / 1000} seconds from ${who}; retry later`, {
    headers: { "retry-after": String(retryAfter) },
    limitedBy: bucket.scope,
    retryAfterSeconds: retryAfter,
  });
}

/**
 * Admits one hold attempt or throws 429 HOLD_RATE_LIMITED with Retry-After. Called before
 * the inventory is asked, so attempts the inventory refuses count too.
 *
 * One `tryHit` per bucket: the limiter counts the attempt only if its window has room, so
 * a buyer already at a limit is refused without being counted and Retry-After is exactly
 * when a slot frees; hits are serialised per bucket, so of a concurrent burst exactly
 * `limit` get in. When the account admits but the address refuses, the account's slot is
 * spent (one slot, documented).
 *
 * A retry with the same Idempotency-Key counts again: whether it is a replay is known
 * only once the inventory answered, and counting after that answer would let a burst
 * through. The cost is one slot per retry.
 *
 * The limiter failing lets the hold through (logged): the inventory's per-buyer and
 * capacity rules still apply, and sales should not stop because a guard is down.
 */
export async function admitHold(c: Context<AppEnv>, buyer: UserPrincipal): Promise<void> {
  const now = c.var.now();
  const ip = edgeClientIp(c);
  try {
    const limits = holdVelocity(c.var.config);
    const t = buyer.tenantId;
    const buckets: Bucket[] = [{ scope: "account", stub: limiter(c, t, holdBuckets.account(t, buyer.userId)), ...limits.account }];
    if (ip) buckets.push({ scope: "ip", stub: limiter(c, t, holdBuckets.ip(t, ip)), ...limits.ip });
    const states = await Promise.all(buckets.map((b) => b.stub.tryHit(b.limit, b.windowMs, now)));
    const full = slowest(buckets, states, (s) => s.blocked);
    if (full) refuse(...full);
    // The buyer's first hold of the window from this address counts them among its buyers.
    if (ip !== null && states[0]!.count === 1) {
      await limiter(c, t, holdBuckets.ipBuyers(t, ip)).hit(RISK_THRESHOLDS.sharedIpBuyers, RISK_THRESHOLDS.sharedIpWindowMs, now);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    log("error", "fraud: hold velocity check failed; admitting the hold", { tenantId: buyer.tenantId, ...errorFields(err) });
  }
}

/** Of the buckets whose state matches, the one that frees last (the Retry-After to give). */
function slowest(buckets: Bucket[], states: LimitState[], matches: (s: LimitState, b: Bucket) => boolean): [Bucket, LimitState] | undefined {
  let found: [Bucket, LimitState] | undefined;
  buckets.forEach((b, i) => {
    const s = states[i]!;
    if (matches(s, b) && (!found || s.retryAfterMs > found[1].retryAfterMs)) found = [b, s];
  });
  return found;
}
