import { z } from "zod";

/**
 * Stripe's webhook signature scheme, on Web Crypto so it runs in workerd as is.
 *
 * Stripe sends `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]`
 * where each v1 is HMAC-SHA256 over the exact string `${t}.${rawBody}`, keyed with the
 * endpoint secret. The key is the whole `whsec_...` string taken as UTF-8 bytes (not
 * a decoding of the part after the prefix); that is what Stripe's own libraries do,
 * and doing anything else would reject every genuine delivery.
 *
 * The same code verifies real Stripe deliveries and the local provider's simulated
 * ones (see ./local.ts), so the development path exercises the production check.
 *
 * `rawBody` must be the body exactly as received (`await request.text()`), never a
 * re-serialisation of parsed JSON: whitespace and key order are part of what is signed.
 */

const encoder = new TextEncoder();

/** Stripe's recommended window; also what its libraries default to. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureVerification =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "missing_header" | "malformed_header" | "no_signature_match" | "timestamp_outside_tolerance" };

async function hmacSha256(secret: string, message: string): Promise<Uint8Array> {
  if (secret.length === 0) {
    // An empty key would make every signature trivially forgeable by anyone who
    // guesses the configuration mistake; fail loudly instead of verifying.
    throw new Error("webhook signing secret is empty");
  }
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Decodes exactly 32 bytes of hex (either case); anything else cannot be a v1 signature. */
function sha256FromHex(hex: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Constant-time equality of two 32-byte digests. workerd ships the non-standard
 * `crypto.subtle.timingSafeEqual`; the XOR fallback keeps the module usable (and
 * still constant-time) in any runtime that lacks it. Lengths are fixed by the
 * caller, so the length check leaks nothing secret.
 */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

interface ParsedHeader {
  /** The timestamp exactly as sent: the signed payload uses these characters, not a re-rendering. */
  rawTimestamp: string;
  timestamp: number;
  v1: string[];
}

/**
 * Splits the header into its parts. Unknown schemes (v0 is Stripe's test-only
 * scheme; future ones may appear) are skipped rather than refused, so a new
 * scheme alongside v1 does not break verification. What is refused as malformed:
 * no `t`, more than one `t` (which `t` was signed would be ambiguous), a `t` that
 * is not a plain run of digits, and items that are not `key=value`.
 */
function parseHeader(header: string): ParsedHeader | null {
  let rawTimestamp: string | undefined;
  const v1: string[] = [];
  for (const item of header.split(",")) {
    const eq = item.indexOf("=");
    if (eq <= 0) return null;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === "t") {
      if (rawTimestamp !== undefined) return null;
      rawTimestamp = value;
    } else if (key === "v1") {
      v1.push(value);
    }
  }
  // Up to 12 digits is plenty (year 33658) and keeps the number exact.
  if (rawTimestamp === undefined || !/^\d{1,12}$/.test(rawTimestamp)) return null;
  return { rawTimestamp, timestamp: Number(rawTimestamp), v1 };
}

/**
 * Checks a delivery's `Stripe-Signature` header against the endpoint secret.
 *
 * A missing (null/undefined) header is `missing_header`; a present but empty or
 * unparseable one is `malformed_header`. A header without any v1 signature (for
 * instance v0 only) is `no_signature_match`: v0 is never accepted.
 *
 * The signature is checked before the clock, so `timestamp_outside_tolerance` is
 * only ever reported for a payload that really was signed with our secret, which
 * makes that reason mean "replayed or badly delayed" rather than "forged".
 * The window applies both ways: a timestamp far in the future is as suspect as
 * an old one, and Stripe's clock is not allowed to excuse ours.
 */
export async function verifyStripeSignature(
  rawBody: string,
  header: string | null | undefined,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): Promise<SignatureVerification> {
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds <= 0) {
    throw new RangeError("toleranceSeconds must be a positive number");
  }
  if (header === null || header === undefined) return { ok: false, reason: "missing_header" };
  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: "malformed_header" };

  const expected = await hmacSha256(secret, `${parsed.rawTimestamp}.${rawBody}`);
  let matched = false;
  // Every candidate is compared, even after a match, so the time taken does not
  // depend on where in the header the valid signature sits.
  for (const candidate of parsed.v1) {
    const bytes = sha256FromHex(candidate);
    if (bytes && digestsEqual(bytes, expected)) matched = true;
  }
  if (!matched) return { ok: false, reason: "no_signature_match" };

  if (Math.abs(nowSeconds - parsed.timestamp) > toleranceSeconds) {
    return { ok: false, reason: "timestamp_outside_tolerance" };
  }
  return { ok: true, timestamp: parsed.timestamp };
}

/**
 * Produces a `Stripe-Signature` header value for a body, the way Stripe does.
 * Used by the local provider to sign simulated events and by tests; production
 * code never needs to sign.
 */
export async function signStripePayload(rawBody: string, secret: string, timestampSeconds: number): Promise<string> {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError("timestampSeconds must be a non-negative integer");
  }
  const t = String(timestampSeconds);
  return `t=${t},v1=${toHex(await hmacSha256(secret, `${t}.${rawBody}`))}`;
}

// ---------------------------------------------------------------------------
// Event parsing. Only the fields the platform acts on are validated; Stripe adds
// fields in every API version, so every object is "loose" (extra keys pass).
// ---------------------------------------------------------------------------

/** The PaymentIntent fields the order flow relies on. */
export const StripePaymentIntentSchema = z.looseObject({
  id: z.string().regex(/^pi_[A-Za-z0-9_]+$/),
  object: z.literal("payment_intent"),
  amount: z.number().int().nonnegative(),
  amount_received: z.number().int().nonnegative().optional(),
  currency: z.string().regex(/^[a-z]{3}$/),
  // Kept as a string rather than an enum: Stripe may add statuses, and refusing
  // the whole event over one would make Stripe retry it for days.
  status: z.string().min(1),
  metadata: z.record(z.string(), z.string()),
});

/**
 * Refund-related objects (a Charge for `charge.refunded`, a Refund for `refund.*`)
 * are kept loose: the handler for them reconciles against Stripe rather than
 * trusting these fields, so only their identity and a few optional hints are typed.
 */
export const StripeRefundObjectSchema = z.looseObject({
  id: z.string().min(1),
  object: z.string().min(1),
  payment_intent: z.string().nullable().optional(),
  amount: z.number().int().nonnegative().optional(),
  amount_refunded: z.number().int().nonnegative().optional(),
  currency: z.string().optional(),
  status: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

const EnvelopeSchema = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9_]+$/),
  object: z.literal("event"),
  type: z.string().min(1),
  created: z.number().int().nonnegative(),
  livemode: z.boolean(),
  api_version: z.string().nullable().optional(),
  data: z.looseObject({
    object: z.record(z.string(), z.unknown()),
    previous_attributes: z.record(z.string(), z.unknown()).optional(),
  }),
});

type Envelope = z.infer<typeof EnvelopeSchema>;
export type StripePaymentIntent = z.infer<typeof StripePaymentIntentSchema>;
export type StripeRefundObject = z.infer<typeof StripeRefundObjectSchema>;

export type StripePaymentIntentEvent = Omit<Envelope, "data"> & {
  type: `payment_intent.${string}`;
  data: { object: StripePaymentIntent; previous_attributes?: Record<string, unknown> };
};
export type StripeRefundEvent = Omit<Envelope, "data"> & {
  type: "charge.refunded" | `refund.${string}`;
  data: { object: StripeRefundObject; previous_attributes?: Record<string, unknown> };
};
/** Any other event type: valid, and for the caller to ignore. */
export type StripeOtherEvent = Envelope;
export type StripeEvent = StripePaymentIntentEvent | StripeRefundEvent | StripeOtherEvent;

function isPaymentIntentType(type: string): type is `payment_intent.${string}` {
  return type.startsWith("payment_intent.");
}
function isRefundType(type: string): type is "charge.refunded" | `refund.${string}` {
  return type === "charge.refunded" || type.startsWith("refund.");
}

// The union cannot be narrowed by comparing `type` (the "other" member's type is
// plain string), so callers narrow with these guards.
export function isPaymentIntentEvent(event: StripeEvent): event is StripePaymentIntentEvent {
  return isPaymentIntentType(event.type);
}
export function isRefundEvent(event: StripeEvent): event is StripeRefundEvent {
  return isRefundType(event.type);
}

/**
 * Parses a (signature-verified) webhook body. Unknown event types are valid
 * events; malformed JSON, a wrong envelope, or a payment_intent.* / refund event
 * whose object lacks the fields we rely on is not.
 */
export function parseStripeEvent(rawBody: string): { ok: true; event: StripeEvent } | { ok: false } {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false };
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false };
  const event = envelope.data;

  if (isPaymentIntentType(event.type)) {
    const object = StripePaymentIntentSchema.safeParse(event.data.object);
    if (!object.success) return { ok: false };
    const typed: StripePaymentIntentEvent = { ...event, type: event.type, data: { ...event.data, object: object.data } };
    return { ok: true, event: typed };
  }
  if (isRefundType(event.type)) {
    const object = StripeRefundObjectSchema.safeParse(event.data.object);
    if (!object.success) return { ok: false };
    const typed: StripeRefundEvent = { ...event, type: event.type, data: { ...event.data, object: object.data } };
    return { ok: true, event: typed };
  }
  return { ok: true, event };
}
