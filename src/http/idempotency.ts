import type { MiddlewareHandler } from "hono";
import { sha256Hex } from "../lib/crypto";
import type { AppEnv } from "./context";
import { AppError } from "./errors";

/**
 * The Idempotency-Key header of mutating sale calls (IETF draft "The Idempotency-Key HTTP
 * Header Field"; policy in docs/adr/0006-event-inventory-durable-object.md).
 *
 * The draft makes the value a Structured Field string (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`);
 * most clients send it bare. Both are accepted and mean the same key. The key itself is
 * 1-255 visible ASCII characters (0x21-0x7E): no spaces, controls or non-ASCII, so it can
 * be logged and compared byte for byte.
 */
export const IDEMPOTENCY_HEADER = "idempotency-key";
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The key, or an AppError: 400 IDEMPOTENCY_KEY_MISSING / IDEMPOTENCY_KEY_MALFORMED. */
export function parseIdempotencyKey(header: string | undefined): string {
  if (header === undefined || header.trim() === "") {
    throw new AppError("IDEMPOTENCY_KEY_MISSING", "Send an Idempotency-Key header (e.g. a UUID) so the call can be retried safely", {
      errors: [{ field: `headers.${IDEMPOTENCY_HEADER}`, message: "Required" }],
    });
  }
  let value = header.trim();
  // A Structured Field string: DQUOTE *chr DQUOTE, with \" and \\ as the only escapes.
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    const inner = value.slice(1, -1);
    value = /^(?:[^"\\]|\\["\\])*$/.test(inner) ? inner.replace(/\\(["\\])/g, "$1") : "\u0000";
  }
  if (!KEY.test(value)) {
    throw new AppError("IDEMPOTENCY_KEY_MALFORMED", "Idempotency-Key must be 1-255 visible ASCII characters (no spaces)", {
      errors: [{ field: `headers.${IDEMPOTENCY_HEADER}`, message: "1-255 visible ASCII characters" }],
    });
  }
  return value;
}

/**
 * Route middleware, placed after authentication and before the body is validated: a
 * request without a usable key is refused before anything else about it is judged.
 * The handler reads the key again with `idempotencyKeyOf`.
 */
export const requireIdempotencyKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  parseIdempotencyKey(c.req.header(IDEMPOTENCY_HEADER));
  await next();
};

export const idempotencyKeyOf = (c: { req: { header(name: string): string | undefined } }) =>
  parseIdempotencyKey(c.req.header(IDEMPOTENCY_HEADER));

/** JSON with object keys sorted at every depth: equal values, equal text, whatever the key order sent. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return "null";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/**
 * The request's fingerprint: SHA-256 over method, path and canonical body. The same key
 * with another fingerprint is a different request (422 IDEMPOTENCY_KEY_REUSED).
 */
export function requestHash(method: string, path: string, body: unknown): Promise<string> {
  return sha256Hex(`${method.toUpperCase()}\n${path}\n${canonicalJson(body ?? null)}`);
}

/** Tenant + principal + key: two buyers (or tenants) can never collide on a key. */
export const scopedIdempotencyKey = (tenantId: string, principalId: string, key: string) => `${tenantId}:${principalId}:${key}`;
