import { z } from "zod";
import {
  assertAmountMinor,
  assertCreateIntentRequest,
  assertIdempotencyKey,
  assertIntentId,
  assertMetadata,
  type CreateIntentRequest,
  intentMetadata,
  type PaymentIntentRef,
  type PaymentProvider,
  PaymentProviderError,
  type RefundRequest,
  type RefundResult,
} from "./provider";

/**
 * Stripe over plain `fetch`: the official SDK is not needed for three endpoints,
 * and staying on fetch keeps the Worker bundle small and the wire format visible.
 *
 * Every call is a POST with an Idempotency-Key, so the retry policy belongs to the
 * caller: on a retryable PaymentProviderError it repeats the same call with the
 * same key, and Stripe either finishes the original or replays its stored answer.
 */

/**
 * The API version every request pins with `Stripe-Version`, so responses and the
 * objects we parse do not change shape when someone upgrades the account's default
 * version in the dashboard. Webhook endpoints should be created with the same
 * version so event payloads match. Source: "The current version of the API is
 * 2026-09-30.endive" on https://docs.stripe.com/api-versions.
 */
export const STRIPE_API_VERSION = "2026-09-30.endive";

export const STRIPE_API_BASE = "https://api.stripe.com";

export interface StripeProviderOptions {
  secretKey: string;
  apiBase?: string;
  apiVersion?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** Nested values become Stripe's bracket form: `{ metadata: { a: "1" } }` → `metadata[a]=1`. */
type FormValue = string | number | boolean | undefined | { [key: string]: FormValue };

export function encodeStripeForm(params: Record<string, FormValue>): string {
  const form = new URLSearchParams();
  const add = (name: string, value: FormValue): void => {
    if (value === undefined) return;
    if (typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) add(`${name}[${key}]`, inner);
      return;
    }
    form.append(name, String(value));
  };
  for (const [name, value] of Object.entries(params)) add(name, value);
  return form.toString();
}

// What Stripe answers, validated down to the fields we hand on. Loose objects,
// because every API version adds fields.
const StripeErrorBody = z.object({
  error: z.looseObject({
    type: z.string().optional(),
    code: z.string().optional(),
    message: z.string().optional(),
    // PaymentIntent errors carry the intent, which tells a harmless "already
    // canceled" apart from "already paid" without a second request.
    payment_intent: z.looseObject({ status: z.string() }).optional(),
  }),
});
type StripeApiError = z.infer<typeof StripeErrorBody>["error"];

const PaymentIntentBody = z.looseObject({
  id: z.string().regex(/^pi_[A-Za-z0-9_]+$/),
  object: z.literal("payment_intent"),
  amount: z.number().int(),
  currency: z.string(),
  client_secret: z.string().min(1).nullable(),
  status: z.string().min(1),
  metadata: z.record(z.string(), z.string()),
});

const RefundBody = z.looseObject({
  id: z.string().regex(/^re_[A-Za-z0-9_]+$/),
  object: z.literal("refund"),
  amount: z.number().int(),
  payment_intent: z.string().nullable().optional(),
  status: z.string().nullable(),
});

type CallOutcome =
  | { ok: true; body: unknown }
  | { ok: false; status: number; error: StripeApiError | null; shouldRetry: string | null; requestId: string | null };

export class StripeProvider implements PaymentProvider {
  readonly name = "stripe" as const;
  private readonly secretKey: string;
  private readonly apiBase: string;
  private readonly apiVersion: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: StripeProviderOptions) {
    const { secretKey, apiBase = STRIPE_API_BASE, apiVersion = STRIPE_API_VERSION, timeoutMs = 10_000 } = options;
    // Secret (sk_) or restricted (rk_) keys only: a publishable key would fail every
    // call with a 401, better to find out at startup. The key never appears in messages.
    if (typeof secretKey !== "string" || !/^(sk|rk)_[A-Za-z0-9_]+$/.test(secretKey)) {
      throw new Error("Stripe secret key is missing or is not an sk_/rk_ key");
    }
    this.secretKey = secretKey;
    this.apiBase = checkedApiBase(apiBase);
    if (!/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(apiVersion)) throw new Error("Stripe API version must look like 2026-09-30.endive");
    this.apiVersion = apiVersion;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError("timeoutMs must be positive");
    this.timeoutMs = timeoutMs;
    // Wrapped rather than stored bare: workerd throws "Illegal invocation" when the
    // global fetch is called with `this` set to some other object.
    const impl = options.fetch ?? globalThis.fetch;
    this.fetchImpl = (input, init) => impl(input, init);
  }

  async createIntent(req: CreateIntentRequest): Promise<PaymentIntentRef> {
    assertCreateIntentRequest(req);
    const currency = req.currency.toLowerCase();
    const metadata = intentMetadata(req);
    const outcome = await this.post(
      "/v1/payment_intents",
      {
        amount: req.amountMinor,
        currency,
        description: req.description,
        metadata,
        // Lets the Payment Element offer whatever methods the account enables in
        // the dashboard instead of hard-coding cards here.
        automatic_payment_methods: { enabled: true },
      },
      req.idempotencyKey,
    );
    if (!outcome.ok) throw this.failure("create payment intent", outcome);
    const intent = this.parseBody(PaymentIntentBody, outcome.body, "payment intent");
    // Stripe refuses a reused key with different parameters, so a mismatch here
    // means something between us and Stripe is wrong. Charging a buyer for another
    // order's amount is the worst outcome available, hence the paranoia.
    if (intent.amount !== req.amountMinor || intent.currency !== currency || intent.metadata.order_id !== req.orderId) {
      throw new PaymentProviderError(`Stripe returned payment intent ${intent.id} for a different order or amount`, false, "intent_mismatch");
    }
    if (intent.client_secret === null) {
      throw new PaymentProviderError(`Stripe returned payment intent ${intent.id} without a client secret`, false, "invalid_response");
    }
    return { provider: "stripe", intentId: intent.id, clientSecret: intent.client_secret, status: intent.status };
  }

  async cancelIntent(intentId: string, idempotencyKey: string): Promise<void> {
    assertIntentId(intentId);
    assertIdempotencyKey(idempotencyKey);
    const outcome = await this.post(`/v1/payment_intents/${encodeURIComponent(intentId)}/cancel`, {}, idempotencyKey);
    if (outcome.ok) {
      this.parseBody(PaymentIntentBody, outcome.body, "payment intent");
      return;
    }
    // Cancelling twice (say, a hold expiry racing a buyer's "cancel") is a success:
    // the intent is in the state we wanted. Any other unexpected state, above all
    // "succeeded", is a real conflict that a retry cannot fix (the money moved;
    // the caller has to refund), so it surfaces as non-retryable.
    if (outcome.error?.code === "payment_intent_unexpected_state" && outcome.error.payment_intent?.status === "canceled") {
      return;
    }
    throw this.failure("cancel payment intent", outcome);
  }

  async refund(req: RefundRequest): Promise<RefundResult> {
    assertIntentId(req.intentId);
    assertAmountMinor(req.amountMinor);
    assertIdempotencyKey(req.idempotencyKey);
    if (req.metadata) assertMetadata(req.metadata);
    const outcome = await this.post(
      "/v1/refunds",
      { payment_intent: req.intentId, amount: req.amountMinor, metadata: req.metadata },
      req.idempotencyKey,
    );
    if (!outcome.ok) throw this.failure("refund", outcome);
    const refund = this.parseBody(RefundBody, outcome.body, "refund");
    if (refund.amount !== req.amountMinor || (refund.payment_intent != null && refund.payment_intent !== req.intentId)) {
      throw new PaymentProviderError(`Stripe returned refund ${refund.id} for a different intent or amount`, false, "refund_mismatch");
    }
    // A refund's status is nullable in Stripe's schema; without one it has not settled.
    return { refundId: refund.id, status: refund.status ?? "pending" };
  }

  /** One POST to Stripe. Transport failures become retryable errors; HTTP answers are returned for the caller to judge. */
  private async post(path: string, params: Record<string, FormValue>, idempotencyKey: string): Promise<CallOutcome> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(`${this.apiBase}${path}`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${this.secretKey}`,
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
          "Idempotency-Key": idempotencyKey,
          "Stripe-Version": this.apiVersion,
        },
        body: encodeStripeForm(params),
        signal,
      });
      // Reading the body is inside the same deadline: a stalled body is as bad as a stalled connect.
      text = await response.text();
    } catch (cause) {
      // Whether or not Stripe acted, the idempotency key makes a retry safe.
      if (signal.aborted) {
        throw new PaymentProviderError(`Stripe did not answer within ${this.timeoutMs} ms`, true, "timeout", { cause });
      }
      throw new PaymentProviderError("could not reach Stripe (network error)", true, "network_error", { cause });
    }

    let body: unknown = undefined;
    try {
      body = JSON.parse(text);
    } catch {
      // Left undefined: a proxy's HTML error page, say. Judged below by status alone.
    }
    if (response.ok) {
      if (body === undefined) {
        // Stripe may have acted; a retry with the same key replays its stored answer.
        throw new PaymentProviderError(`Stripe answered HTTP ${response.status} with a body that is not JSON`, true, "invalid_response", {
          httpStatus: response.status,
        });
      }
      return { ok: true, body };
    }
    const parsed = StripeErrorBody.safeParse(body);
    return {
      ok: false,
      status: response.status,
      error: parsed.success ? parsed.data.error : null,
      shouldRetry: response.headers.get("Stripe-Should-Retry"),
      requestId: response.headers.get("Request-Id"),
    };
  }

  private failure(operation: string, outcome: Extract<CallOutcome, { ok: false }>): PaymentProviderError {
    const { status, error, shouldRetry, requestId } = outcome;
    // Stripe's own hint wins when present (it knows, say, that a 400 lock_timeout
    // is worth retrying). Otherwise: rate limits, idempotency conflicts (a request
    // with this key still running) and server errors are transient; any other 4xx
    // means the request itself is wrong and will stay wrong.
    const retryable = shouldRetry === "true" ? true : shouldRetry === "false" ? false : status === 429 || status === 409 || status >= 500;
    const code = error?.code ?? error?.type ?? `http_${status}`;
    const detail = error?.message ? `: ${error.message}` : "";
    const reqId = requestId ? ` [${requestId}]` : "";
    const message = this.redact(`Stripe ${operation} failed (HTTP ${status}, ${code})${detail}${reqId}`);
    return new PaymentProviderError(message, retryable, error?.code ?? error?.type, { httpStatus: status });
  }

  private parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new PaymentProviderError(`Stripe answered with something that is not a ${what}`, false, "invalid_response");
    }
    return parsed.data;
  }

  /**
   * Stripe masks keys in its own messages, but a proxy, a mock or a future message
   * might not; error text ends up in logs, so any key-shaped string is cut out.
   */
  private redact(text: string): string {
    return text.replaceAll(this.secretKey, "[redacted]").replace(/\b(sk|rk)_[A-Za-z0-9_]*/g, "$1_[redacted]");
  }
}

/**
 * The secret key is sent to this base on every call, so it must be HTTPS; plain
 * HTTP is allowed only for a loopback mock (stripe-mock during development).
 */
function checkedApiBase(apiBase: string): string {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new Error("Stripe API base is not a URL");
  }
  const loopback = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new Error("Stripe API base must be https (http only for localhost)");
  }
  if (url.search || url.hash || url.username || url.password) throw new Error("Stripe API base must be a plain origin or path");
  return url.toString().replace(/\/+$/, "");
}
