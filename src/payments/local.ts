import {
  assertAmountMinor,
  assertCreateIntentRequest,
  assertIdempotencyKey,
  assertIntentId,
  assertMetadata,
  type CreateIntentRequest,
  type PaymentIntentRef,
  type PaymentProvider,
  type RefundRequest,
  type RefundResult,
} from "./provider";
import { signStripePayload } from "./stripe-signature";
import { STRIPE_API_VERSION } from "./stripe";

/**
 * A payment provider for development and tests that never leaves the isolate.
 *
 * It is stateless on purpose (an isolate can be evicted at any moment, so memory
 * is not a place to keep intents): every id is derived from the webhook secret and
 * the caller's idempotency key, so a retried call gets the same intent back, just
 * as Stripe replays an idempotent request. Unlike Stripe it cannot notice that a
 * key was reused with different parameters; the shared input checks in
 * ./provider.ts are all it enforces.
 *
 * Payments are "confirmed" by buildLocalWebhook below, which produces a signed,
 * Stripe-shaped event for the caller to POST to the ordinary webhook route, so
 * local checkouts go through the same signature check and event handling as
 * real ones instead of a side door that production never uses.
 */

const encoder = new TextEncoder();

// Labels that separate the uses of the webhook secret. Ids handed to clients are
// HMAC outputs over caller-influenced input; if they were computed with the
// signing secret itself, an id minted for the key "1700000000.{...}" would *be* a
// valid webhook signature for that body. Deriving a separate key first means ids
// reveal nothing about signatures.
const ID_KEY_LABEL = "boxoffice/local-payments/ids/v1";

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class LocalPaymentProvider implements PaymentProvider {
  readonly name = "local" as const;
  private readonly idKey: Promise<Uint8Array>;

  constructor(options: { webhookSecret: string }) {
    if (typeof options.webhookSecret !== "string" || options.webhookSecret.length === 0) {
      throw new Error("local payment provider needs a webhook secret");
    }
    this.idKey = hmac(encoder.encode(options.webhookSecret), ID_KEY_LABEL);
  }

  /** 32 bytes unique to (purpose, idempotency key); stable across isolates and restarts. */
  private async derive(purpose: string, idempotencyKey: string): Promise<string> {
    return hex(await hmac(await this.idKey, `${purpose}\n${idempotencyKey}`));
  }

  async createIntent(req: CreateIntentRequest): Promise<PaymentIntentRef> {
    assertCreateIntentRequest(req);
    const material = await this.derive("payment_intent", req.idempotencyKey);
    // The id and the secret come from disjoint halves of the digest, so knowing
    // an intent id (it appears in logs and events) says nothing about its secret.
    const intentId = `pi_local_${material.slice(0, 24)}`;
    return {
      provider: "local",
      intentId,
      clientSecret: `${intentId}_secret_${material.slice(24)}`,
      // What Stripe reports for a fresh intent that has no payment method yet.
      status: "requires_payment_method",
    };
  }

  async cancelIntent(intentId: string, idempotencyKey: string): Promise<void> {
    // Nothing to cancel locally; validating keeps callers honest in tests.
    assertIntentId(intentId);
    assertIdempotencyKey(idempotencyKey);
  }

  async refund(req: RefundRequest): Promise<RefundResult> {
    assertIntentId(req.intentId);
    assertAmountMinor(req.amountMinor);
    assertIdempotencyKey(req.idempotencyKey);
    if (req.metadata) assertMetadata(req.metadata);
    const material = await this.derive("refund", req.idempotencyKey);
    return { refundId: `re_local_${material.slice(0, 24)}`, status: "succeeded" };
  }
}

export type LocalWebhookType = "payment_intent.succeeded" | "payment_intent.payment_failed" | "charge.refunded";

export interface LocalWebhookArgs {
  type: LocalWebhookType;
  intent: { id: string; amountMinor: number; currency: string; metadata: Record<string, string> };
  webhookSecret: string;
  nowSeconds: number;
  /** Fixed id for the event (to exercise de-duplication); a fresh random one otherwise, as each Stripe event is distinct. */
  eventId?: string;
  /** For charge.refunded: how much has been refunded in total. Defaults to the whole amount. */
  refundedAmountMinor?: number;
}

function randomHex(bytes: number): string {
  return hex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The charge id that "belongs" to a local intent, derived so repeated events agree on it. */
function chargeIdFor(intentId: string): string {
  return `ch_local_${intentId.replace(/^pi_(local_)?/, "")}`;
}

/**
 * Builds the event Stripe would send for a local intent and signs it with the
 * webhook secret, returning the exact body and `Stripe-Signature` value to POST.
 *
 * The objects follow Stripe's real shapes (a PaymentIntent for payment_intent.*,
 * a Charge for charge.refunded, as Stripe sends it) with the fields a handler is
 * likely to read, so code written against these events works against Stripe.
 */
export async function buildLocalWebhook(args: LocalWebhookArgs): Promise<{ body: string; signature: string }> {
  const { type, intent, webhookSecret, nowSeconds } = args;
  assertIntentId(intent.id);
  assertAmountMinor(intent.amountMinor);
  if (!/^[A-Za-z]{3}$/.test(intent.currency)) throw new Error("currency must be a 3-letter ISO 4217 code");
  const currency = intent.currency.toLowerCase();
  const eventId = args.eventId ?? `evt_local_${randomHex(12)}`;
  if (!/^evt_[A-Za-z0-9_]+$/.test(eventId)) throw new Error("event id must look like evt_...");

  let object: Record<string, unknown>;
  if (type === "charge.refunded") {
    const refunded = args.refundedAmountMinor ?? intent.amountMinor;
    if (!Number.isSafeInteger(refunded) || refunded <= 0 || refunded > intent.amountMinor) {
      throw new Error("refundedAmountMinor must be between 1 and the intent amount");
    }
    object = {
      id: chargeIdFor(intent.id),
      object: "charge",
      amount: intent.amountMinor,
      amount_captured: intent.amountMinor,
      amount_refunded: refunded,
      captured: true,
      created: nowSeconds,
      currency,
      livemode: false,
      metadata: intent.metadata,
      paid: true,
      payment_intent: intent.id,
      refunded: refunded === intent.amountMinor,
      status: "succeeded",
    };
  } else {
    const succeeded = type === "payment_intent.succeeded";
    object = {
      id: intent.id,
      object: "payment_intent",
      amount: intent.amountMinor,
      amount_capturable: 0,
      amount_received: succeeded ? intent.amountMinor : 0,
      automatic_payment_methods: { enabled: true },
      canceled_at: null,
      cancellation_reason: null,
      capture_method: "automatic_async",
      confirmation_method: "automatic",
      created: nowSeconds,
      currency,
      description: null,
      // A failed attempt returns the intent to requires_payment_method with the
      // decline recorded, which is how Stripe reports payment_intent.payment_failed.
      last_payment_error: succeeded
        ? null
        : { type: "card_error", code: "card_declined", decline_code: "generic_decline", message: "Your card was declined." },
      latest_charge: succeeded ? chargeIdFor(intent.id) : null,
      livemode: false,
      metadata: intent.metadata,
      status: succeeded ? "succeeded" : "requires_payment_method",
    };
  }

  const event = {
    id: eventId,
    object: "event",
    api_version: STRIPE_API_VERSION,
    created: nowSeconds,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  const body = JSON.stringify(event);
  return { body, signature: await signStripePayload(body, webhookSecret, nowSeconds) };
}
