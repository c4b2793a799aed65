import type { Context } from "hono";
import { base64url } from "../lib/crypto";
import { errorFields, log } from "../observability/logger";
import type { AppEnv } from "./context";
import { inBackground } from "./background";

/**
 * Edge caching of public JSON reads with the Workers Cache API, invalidated by versioned
 * keys (docs/adr/0004-public-catalogue-cache.md).
 *
 * The Cache API is per data centre and `cache.delete` reaches only the local one, so
 * entries are never purged: the caller puts a version into the key that every write bumps
 * (tenants.catalog_version), and a write simply makes the old entries unreachable. The
 * invariant callers must keep: read the version BEFORE the data. Read after, and a write
 * landing in between would file pre-write data under the post-write key, where every later
 * reader would find it until the entry expires.
 */

/** How long an entry lives in a data centre. Bounds only time-based drift (e.g. "not yet ended"). */
export const EDGE_TTL_SECONDS = 60;
const STORED_CACHE_CONTROL = `public, max-age=${EDGE_TTL_SECONDS}`;
/**
 * What clients are told: keep a copy but ask again every time. Browsers and proxies cannot
 * see our versioned keys, so letting them reuse a copy for 60 s would undo "an update is
 * visible at once"; revalidation with If-None-Match costs them a 304 without a body.
 */
export const CLIENT_CACHE_CONTROL = "public, no-cache";
/** Bump when the shape of cached bodies changes, so a deploy never serves old-shaped entries. */
const KEY_FORMAT = "1";
const RESERVED = ["_cv", "_kf"];

export type CacheKeyParams = Record<string, string | number | undefined>;

/**
 * The cache key of a read: origin + canonical path + the *validated* query (undefined
 * dropped, names sorted), the data version and the key format. Built from validated values,
 * not the raw URL, so `?limit=25`, no limit and `?b=1&a=2` vs `?a=2&b=1` share an entry.
 */
export function versionedCacheKey(requestUrl: string, path: string, query: CacheKeyParams, version: number): Request {
  const url = new URL(path, new URL(requestUrl).origin);
  const entries = Object.entries(query)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => [k, String(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k] of entries) if (RESERVED.includes(k)) throw new Error(`cache key parameter ${k} is reserved`);
  url.search = new URLSearchParams([...entries, ["_cv", String(version)], ["_kf", KEY_FORMAT]]).toString();
  return new Request(url.toString(), { method: "GET" });
}

async function strongEtag(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
  return `"${base64url(digest.subarray(0, 18))}"`;
}

/** RFC 9110 If-None-Match: weak comparison, `*` matches any current representation. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}

function respond(c: Context<AppEnv>, body: string, etag: string, state: "HIT" | "MISS"): Response {
  const headers = { etag, "cache-control": CLIENT_CACHE_CONTROL, "x-cache": state };
  if (ifNoneMatchHits(c.req.header("if-none-match"), etag)) return c.body(null, 304, headers);
  return c.body(body, 200, { ...headers, "content-type": "application/json" });
}

/**
 * Serves `key` from the data centre's cache, or runs `produce`, answers with its JSON and
 * stores it for the next reader. Only successes are produced here (a thrown AppError goes
 * to the error handler and is never cached). A failing cache degrades to MISS, never to 500.
 */
export async function edgeCachedJson(c: Context<AppEnv>, key: Request, produce: () => Promise<unknown>): Promise<Response> {
  const cache = caches.default;
  let hit: Response | undefined;
  try {
    hit = await cache.match(key);
  } catch (err) {
    log("warn", "edge cache read failed; serving from D1", { key: key.url, requestId: c.var.requestId, ...errorFields(err) });
  }
  const hitEtag = hit?.headers.get("etag");
  if (hit && hitEtag) return respond(c, await hit.text(), hitEtag, "HIT");

  const body = JSON.stringify(await produce());
  const etag = await strongEtag(body);
  const stored = new Response(body, {
    headers: { "content-type": "application/json", "cache-control": STORED_CACHE_CONTROL, etag },
  });
  await inBackground(
    c,
    cache.put(key, stored).catch((err: unknown) => {
      log("warn", "edge cache write failed", { key: key.url, requestId: c.var.requestId, ...errorFields(err) });
    }),
  );
  return respond(c, body, etag, "MISS");
}
