import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import { verifiedTenantId } from "../../../src/db/client";
import { ROLES } from "../../../src/db/schema";
import { TenantDb } from "../../../src/db/tenant-db";
import { findEvent } from "../../../src/domain/event-writes";
import type { AppEnv } from "../../../src/http/context";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { inventoryFor, inventoryOf, rpc, unwrap, type InventoryStub } from "../../../src/inventory/client";
import type { InventoryResult, OrderDto, PaymentOutcome } from "../../../src/inventory/contract";
import { UUID_PATTERN } from "../../../src/lib/ids";
import { log } from "../../../src/observability/logger";
import { buildLocalWebhook, isPaymentIntentEvent, isRefundEvent, parseStripeEvent, verifyStripeSignature, type StripeRefundObject } from "../../../src/payments";
import { LocalConfirmBody, WebhookAck } from "../../../src/schemas/orders";
import { publicTicketKeys } from "../../../src/tickets/code";

const tags = ["Payments"];

const SIGNATURE_DETAIL = {
  missing_header: "Stripe-Signature header missing",
  malformed_header: "Stripe-Signature header malformed",
  no_signature_match: "No signature in Stripe-Signature matches this payload",
  timestamp_outside_tolerance: "The signature's timestamp is outside the 5-minute tolerance (replayed or delayed delivery)",
} as const;

export const stripeWebhookRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/stripe",
  tags,
  summary: "Payment provider webhook (Stripe's event format and signature scheme)",
  description:
    "Verified with the endpoint secret (Stripe-Signature: HMAC-SHA256 over `t.body`, compared in constant time; timestamps " +
    "older or newer than 5 minutes refused). Each Stripe event id is acted on once: a redelivery answers `duplicate`. " +
    "`payment_intent.succeeded` pays the order named in the intent's metadata (same amount and currency, or nothing happens); " +
    "other event types and unknown orders are acknowledged and ignored, so Stripe does not retry them.",
  request: {
    headers: z.object({ "stripe-signature": z.string().max(2048).optional() }),
    body: { content: { "application/json": { schema: z.object({}).passthrough().openapi("StripeEvent") } }, required: true },
  },
  responses: {
    200: jsonContent(WebhookAck, "Acknowledged"),
    ...errorResponses("WEBHOOK_SIGNATURE_INVALID", "VALIDATION_FAILED", "MALFORMED_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "DEPENDENCY_UNAVAILABLE"),
  },
});

export const localConfirmRoute = createRoute({
  method: "post",
  path: "/v1/payments/local/confirm",
  tags,
  security: bearerAuth,
  summary: "Pay one of your pending orders with the local payment provider (development only)",
  description:
    "Only with PAYMENT_PROVIDER=local (404 otherwise). Builds the event Stripe would send for the order's intent, signs it with " +
    "the webhook secret and hands it to the webhook's own verification and processing, so the local flow is the production one.",
  middleware: guard({ roles: ROLES }),
  request: { body: jsonBody(LocalConfirmBody) },
  responses: {
    200: jsonContent(WebhookAck, "What the webhook did"),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "NOT_FOUND", "ORDER_NOT_FOUND", "CONFLICT", "DEPENDENCY_UNAVAILABLE"),
  },
});

const TicketKeys = z
  .object({
    keys: z.array(z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() })),
  })
  .openapi("TicketKeys");

export const ticketKeysRoute = createRoute({
  method: "get",
  path: "/v1/public/ticket-keys",
  tags: ["Tickets"],
  summary: "Public keys that verify ticket codes offline (JWKS)",
  description: "Scanners cache these and verify codes without a network (docs/adr/0007-ticket-codes.md).",
  responses: { 200: jsonContent(TicketKeys, "The JWKS"), ...errorResponses("CONFIG_INVALID") },
});

/**
 * The webhook's whole path after the bytes arrived: signature, parse, route to the
 * order's event inventory. The local provider calls this with the body it signed.
 */
async function receiveWebhook(c: Context<AppEnv>, raw: string, signature: string | undefined): Promise<{ outcome: string }> {
  const config = c.var.config;
  const verified = await verifyStripeSignature(raw, signature, config.PAYMENT_WEBHOOK_SECRET, Math.floor(c.var.now() / 1000));
  if (!verified.ok) {
    log("warn", "webhook: signature refused", { reason: verified.reason });
    throw new AppError("WEBHOOK_SIGNATURE_INVALID", SIGNATURE_DETAIL[verified.reason], { reason: verified.reason });
  }
  const parsed = parseStripeEvent(raw);
  if (!parsed.ok) throw new AppError("VALIDATION_FAILED", "The body is not a Stripe event");
  const event = parsed.event;
  if (event.type === "charge.refunded" && isRefundEvent(event)) return receiveRefund(c, String(event.id), event.data.object);
  const kind = event.type === "payment_intent.succeeded" ? "succeeded" : event.type === "payment_intent.payment_failed" ? "failed" : null;
  if (!kind || !isPaymentIntentEvent(event)) return { outcome: "ignored" };

  const intent = event.data.object;
  const target = await orderTarget(c, intent.metadata);
  if (!target) {
    log("warn", "webhook: intent without an order of ours", { stripeEvent: event.id, intent: intent.id });
    return { outcome: "unknown_order" };
  }
  const { inventory, orderId } = target;
  const result = await rpc<{ outcome: PaymentOutcome }>(
    "confirmPayment",
    inventory.confirmPayment({
      providerEventId: String(event.id),
      kind,
      orderId,
      intentId: intent.id,
      amountMinor: intent.amount_received ?? intent.amount,
      currency: intent.currency.toUpperCase(),
      now: c.var.now(),
    }),
  );
  const level = ["paid", "already_paid", "duplicate", "payment_failed"].includes(result.outcome) ? "info" : "warn";
  log(level, "webhook: payment notice applied", { stripeEvent: event.id, orderId, outcome: result.outcome });
  return { outcome: result.outcome };
}

/**
 * `charge.refunded`: the provider confirms refunds of the order's payment up to
 * `amount_refunded` in all; the DO marks its requested refunds succeeded that far (once
 * per Stripe event id). The charge carries the payment intent's metadata.
 */
async function receiveRefund(c: Context<AppEnv>, stripeEventId: string, charge: StripeRefundObject): Promise<{ outcome: string }> {
  const target = charge.amount_refunded === undefined ? null : await orderTarget(c, charge.metadata ?? {});
  if (!target) return { outcome: "unknown_order" };
  return rpc<{ outcome: string }>(
    "recordRefundNotice",
    target.inventory.recordRefundNotice({
      providerEventId: stripeEventId,
      orderId: target.orderId,
      amountRefundedMinor: charge.amount_refunded!,
      now: c.var.now(),
    }),
  );
}

/**
 * The order a provider object's metadata names (`tenant_id`, `event_id`, `order_id`, which we
 * wrote when creating the intent) and its event's inventory; null when the metadata is not
 * ours or the event does not exist. The tenant is trusted because the signature vouches for
 * the payload it came in.
 */
async function orderTarget(c: Context<AppEnv>, metadata: Record<string, string>): Promise<{ inventory: InventoryStub; orderId: string } | null> {
  const { tenant_id: tenantId, event_id: eventId, order_id: orderId } = metadata;
  if (!tenantId || !eventId || !orderId || ![tenantId, eventId, orderId].every((id) => UUID_PATTERN.test(id))) return null;
  if (!(await new TenantDb(c.var.db, verifiedTenantId(tenantId)).events.findById(eventId))) return null;
  return { inventory: inventoryOf(c.var.config.EVENT_INVENTORY, tenantId, eventId), orderId };
}

export const paymentRoutes = createRouter()
  .openapi(stripeWebhookRoute, async (c) => {
    // The signature covers the exact bytes, so verify the raw text, not re-serialised JSON.
    const raw = await c.req.text();
    const { outcome } = await receiveWebhook(c, raw, c.req.header("stripe-signature"));
    return c.json({ received: true as const, outcome }, 200);
  })
  .openapi(localConfirmRoute, async (c) => {
    const config = c.var.config;
    if (config.PAYMENT_PROVIDER !== "local") throw new AppError("NOT_FOUND", "The local payment provider is not enabled here");
    const { principal, db } = tenantOf(c);
    if (principal.kind !== "user") throw new AppError("FORBIDDEN", "API keys cannot pay");
    const body = c.req.valid("json");
    const event = await findEvent(db, body.eventId);
    const result = await rpc<InventoryResult<OrderDto>>("getOrder", inventoryFor(c, principal.tenantId, event.id).getOrder(body.orderId, principal.userId));
    const order = unwrap(result);
    if (!order.payment || order.payment.provider !== "local") throw new AppError("CONFLICT", "This order has no local payment to confirm");
    const signed = await buildLocalWebhook({
      type: body.outcome === "succeeded" ? "payment_intent.succeeded" : "payment_intent.payment_failed",
      intent: {
        id: order.payment.intentId,
        amountMinor: order.totalMinor,
        currency: order.currency,
        metadata: { tenant_id: principal.tenantId, event_id: event.id, order_id: order.orderId },
      },
      webhookSecret: config.PAYMENT_WEBHOOK_SECRET,
      nowSeconds: Math.floor(c.var.now() / 1000),
    });
    const { outcome } = await receiveWebhook(c, signed.body, signed.signature);
    return c.json({ received: true as const, outcome }, 200);
  })
  .openapi(ticketKeysRoute, (c) => {
    c.header("cache-control", "public, max-age=300");
    return c.json({ keys: publicTicketKeys(c.var.config.TICKET_SIGNING_KEYS) }, 200);
  });
