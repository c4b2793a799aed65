/**
 * The seam between checkout and whoever actually moves money. Checkout code only
 * ever sees this interface; whether a real Stripe account or the in-process local
 * provider sits behind it is a deployment decision (see ./index.ts).
 *
 * Money is always an integer count of the currency's minor unit (cents, pence, or
 * whole yen for zero-decimal currencies), exactly as Stripe expects it, so no
 * floating point ever touches an amount on its way to the provider.
 */

export type PaymentProviderName = "stripe" | "local";

export interface CreateIntentRequest {
  tenantId: string;
  eventId: string;
  orderId: string;
  amountMinor: number;
  /** ISO 4217, upper-case ("EUR"); providers lower-case it where their wire format wants that. */
  currency: string;
  description?: string;
  /** Sent as Stripe's Idempotency-Key: a retried call with the same key yields the same intent. */
  idempotencyKey: string;
}

export interface PaymentIntentRef {
  provider: PaymentProviderName;
  intentId: string;
  clientSecret: string;
  status: string;
}

export interface RefundRequest {
  intentId: string;
  amountMinor: number;
  idempotencyKey: string;
  metadata?: Record<string, string>;
}

export interface RefundResult {
  refundId: string;
  status: string;
}

export interface PaymentProvider {
  readonly name: PaymentProviderName;
  createIntent(req: CreateIntentRequest): Promise<PaymentIntentRef>;
  /**
   * Cancels an intent that has not been paid. Cancelling one that is already
   * cancelled resolves (the goal is reached); cancelling one that has been paid
   * throws a non-retryable error, because the right move then is a refund.
   */
  cancelIntent(intentId: string, idempotencyKey: string): Promise<void>;
  refund(req: RefundRequest): Promise<RefundResult>;
}

/**
 * Every failure a provider reports. `retryable` is the one bit callers must act on:
 * true means "the same call with the same idempotency key may succeed later" (network
 * trouble, rate limits, provider outages); false means retrying cannot help (bad
 * input, a declined state, wrong credentials). `providerCode` carries Stripe's
 * machine-readable `error.code` (or `error.type` when there is no code) for logs and
 * for the few codes callers branch on.
 *
 * Messages are written for operator logs and never contain credentials.
 */
export class PaymentProviderError extends Error {
  /** HTTP status the provider answered with, when there was an answer at all. */
  readonly httpStatus?: number;

  constructor(
    message: string,
    readonly retryable: boolean,
    readonly providerCode?: string,
    options?: { httpStatus?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PaymentProviderError";
    if (options?.httpStatus !== undefined) this.httpStatus = options.httpStatus;
  }
}

// ---------------------------------------------------------------------------
// Input checks shared by every provider, so the local provider refuses exactly
// what Stripe would and a bug cannot hide behind "it worked in development".
// Both providers throw these before doing anything (no network, no ids minted).
// ---------------------------------------------------------------------------

/** Stripe's documented ceiling for Idempotency-Key length. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

// Stripe's metadata limits: 50 keys, key up to 40 characters, value up to 500.
const MAX_METADATA_KEYS = 50;
const MAX_METADATA_KEY_LENGTH = 40;
const MAX_METADATA_VALUE_LENGTH = 500;

function invalid(message: string): PaymentProviderError {
  return new PaymentProviderError(message, false, "invalid_request");
}

export function assertIdempotencyKey(key: string): void {
  // Control characters would either be rejected by the Headers API or, worse,
  // silently change which stored response the provider replays.
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || /[^\x21-\x7e]/.test(key)) {
    throw invalid(`idempotency key must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces`);
  }
}

export function assertAmountMinor(amount: number): void {
  // Zero is refused on purpose: a free order never needs a payment intent, and a
  // zero refund is always a caller bug.
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw invalid("amount must be a positive integer number of minor units");
  }
}

/**
 * Stripe ids are opaque but always `prefix_` followed by letters, digits and
 * underscores. Checking that before an id is spliced into a URL path keeps a
 * hostile or corrupted value ("pi_x/../../v1/refunds") from choosing the endpoint.
 */
export function assertIntentId(id: string): void {
  if (typeof id !== "string" || !/^pi_[A-Za-z0-9_]{1,250}$/.test(id)) {
    throw invalid("payment intent id must look like pi_...");
  }
}

export function assertMetadata(metadata: Record<string, string>): void {
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_KEYS) throw invalid(`metadata may hold at most ${MAX_METADATA_KEYS} keys`);
  for (const [key, value] of entries) {
    // Brackets would be read as nesting by Stripe's form decoder.
    if (key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH || /[[\]]/.test(key)) {
      throw invalid(`metadata key must be 1-${MAX_METADATA_KEY_LENGTH} characters without brackets`);
    }
    if (typeof value !== "string" || value.length > MAX_METADATA_VALUE_LENGTH) {
      throw invalid(`metadata values must be strings of at most ${MAX_METADATA_VALUE_LENGTH} characters`);
    }
  }
}

export function assertCreateIntentRequest(req: CreateIntentRequest): void {
  assertIdempotencyKey(req.idempotencyKey);
  assertAmountMinor(req.amountMinor);
  if (!/^[A-Z]{3}$/.test(req.currency)) throw invalid("currency must be an upper-case ISO 4217 code");
  for (const [field, value] of [
    ["tenantId", req.tenantId],
    ["eventId", req.eventId],
    ["orderId", req.orderId],
  ] as const) {
    if (typeof value !== "string" || value.length === 0) throw invalid(`${field} is required`);
  }
  assertMetadata(intentMetadata(req));
}

/**
 * The metadata every intent carries. Snake_case keys follow Stripe's own
 * convention, and these three are what the webhook handler uses to find the
 * order again without trusting anything else in the event.
 */
export function intentMetadata(req: Pick<CreateIntentRequest, "tenantId" | "eventId" | "orderId">): Record<string, string> {
  return { tenant_id: req.tenantId, event_id: req.eventId, order_id: req.orderId };
}
