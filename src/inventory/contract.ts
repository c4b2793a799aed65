/**
 * The contract between the API worker and the EventInventory Durable Object (one per
 * event, named `${tenantId}:${eventId}`). The DO is the single writer of everything that
 * decides whether a sale may happen (ARCHITECTURE.md "Who owns which state"): the sales
 * gate, tier capacities and price rules in force, held/sold counts, holds and their
 * expiry, per-buyer counts and idempotency records of event-scoped writes.
 *
 * RPC results are plain data: errors come back as `{ ok: false, code, ... }` values with
 * codes from src/http/errors.ts (exceptions lose their class across RPC), and the route
 * turns them into problem details.
 */
import type { EventStatus } from "../db/schema";
import type { ErrorCode } from "../http/errors";
import type { PriceQuote, PriceRules } from "../domain/pricing";

export const inventoryName = (tenantId: string, eventId: string) => `${tenantId}:${eventId}`;

/** What the event's D1 row says about selling, pushed to the DO on every status change. */
export interface GateState {
  status: EventStatus;
  /** events.version of the change; older pushes are ignored, so order of arrival does not matter. */
  eventVersion: number;
  salesStartAt: number | null;
  salesEndAt: number | null;
  startsAt: number;
  /** The status change's reason (a cancellation's reason goes into its refunds). */
  reason?: string | null;
  /** events.visibility; absent in gates pushed before the DO stored it. */
  visibility?: "PUBLIC" | "UNLISTED" | "PRIVATE" | null;
}

/**
 * The sale path's fast check of who may see the event (ADR 0006): a buyer's hold or checkout
 * goes to the DO's `holdIfPublic` / `checkoutIfPublic` first, which serve it only while the
 * gate shows the event ON_SALE and not PRIVATE - when the D1 lookup would admit a buyer.
 * Otherwise they answer `not_visible` before touching anything (no idempotency record), and
 * the API falls back to the D1 lookup, which decides between 404 and the plain `hold` /
 * `checkout`.
 */
export type NotVisible = { kind: "not_visible" };
export const NOT_VISIBLE: NotVisible = { kind: "not_visible" };

export interface TierConfig extends PriceRules {
  tierId: string;
  /** ticket_tiers.version in D1; the DO keeps the newest and ignores older pushes. */
  version: number;
  name: string;
  capacity: number;
  minPerOrder: number;
  maxPerOrder: number;
  /** Most tickets of this tier one buyer may hold + buy for the event. */
  maxPerBuyer: number;
  salesStartAt: number | null;
  salesEndAt: number | null;
}

export interface TierCounts {
  tierId: string;
  /** The configuration version in force in the DO. */
  version: number;
  capacity: number;
  held: number;
  sold: number;
}

export interface TierAvailability {
  tierId: string;
  name: string;
  available: number;
  soldOut: boolean;
  onSale: boolean;
}

export interface HoldItem {
  tierId: string;
  quantity: number;
}

export interface HoldLine extends HoldItem {
  quote: PriceQuote;
}

export interface HoldDto {
  holdId: string;
  eventId: string;
  status: "active" | "released" | "expired" | "converted";
  items: HoldLine[];
  currency: string;
  totalMinor: number;
  createdAt: number;
  expiresAt: number;
}

export interface InventoryProblem {
  ok: false;
  code: ErrorCode;
  detail: string;
  extras?: Record<string, unknown>;
}

export type InventoryResult<T> = { ok: true; value: T } | InventoryProblem;

/** Identity of an idempotent call (IETF Idempotency-Key draft): scoped to tenant + principal. */
export interface IdempotencyInput {
  /** `${tenantId}:${principalId}:${Idempotency-Key}` */
  scopedKey: string;
  /** SHA-256 of method + path + canonical body: a different body under the same key is 422. */
  requestHash: string;
}

/**
 * The stored (or fresh) outcome of an idempotent call. `replayed` marks a response served
 * from the record; the route adds `Idempotency-Replayed: true` then.
 */
export type IdempotentOutcome<T> =
  | { kind: "response"; replayed: boolean; status: number; result: InventoryResult<T> }
  | { kind: "in_flight" }
  | { kind: "key_reused" };

export interface HoldRequest extends IdempotencyInput {
  buyerId: string;
  items: HoldItem[];
  now: number;
  ttlMs: number;
}

export interface ReleaseRequest extends IdempotencyInput {
  buyerId: string;
  holdId: string;
  now: number;
}

/** Idempotency records live at least this long (the draft suggests 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
export const DEFAULT_HOLD_TTL_MS = 10 * 60_000;

// ------------------------------------------------------------------ orders and tickets

export type OrderStatus = "pending" | "paid" | "expired" | "cancelled";
export type TicketStatus = "valid" | "checked_in" | "refunded" | "cancelled" | "transferred";
export type PaymentProviderName = "none" | "stripe" | "local";

export interface TicketDto {
  ticketId: string;
  tierId: string;
  /** Unique within the event, counted from 1. */
  number: number;
  status: TicketStatus;
  /** Signed, offline-verifiable code (docs/adr/0007-ticket-codes.md); null only until signed. */
  code: string | null;
  codeVersion: number;
  priceMinor: number;
  issuedAt: number;
  /** Who holds it now: the buyer, a transfer's recipient, or `email:<address>` until they register. */
  holderId: string;
  checkedInAt: number | null;
  checkedInGate: string | null;
}

export interface OrderPayment {
  provider: "stripe" | "local";
  intentId: string;
  /** For the buyer's client to confirm the payment; only ever shown to the buyer. */
  clientSecret: string;
}

export interface OrderDto {
  orderId: string;
  eventId: string;
  holdId: string;
  buyerId: string;
  status: OrderStatus;
  items: HoldLine[];
  currency: string;
  totalMinor: number;
  createdAt: number;
  /** Payment deadline of a pending order; null once paid (or for free orders). */
  expiresAt: number | null;
  paidAt: number | null;
  payment: OrderPayment | null;
  tickets: TicketDto[];
  /** Sum refunded so far. */
  refundedMinor: number;
  /** Risk signals raised at checkout; non-empty means flagged for an admin's review. */
  flags: string[];
  /** Revision: bumped by every change of the order or its tickets (the D1 upsert keeps the highest). */
  rev: number;
}

export interface CheckoutRequest extends IdempotencyInput {
  buyerId: string;
  holdId: string;
  now: number;
  /** How long a paid order waits for its payment before its seats go back on sale. */
  paymentTtlMs: number;
  /** Who collects the money for orders that cost something. */
  provider: "stripe" | "local";
  /** Risk signals the API raised for this checkout (src/fraud); stored on the order. */
  flags?: string[];
  /** When the buyer's account was created: with the hold's quantity, the DO adds the quantity-based flags. */
  accountCreatedAt?: number;
}

/**
 * Checkout's first step. A free order (or any refusal, replay, reuse or in-flight answer)
 * is finished in the DO: `done`. An order that costs money comes back as `needs_payment`
 * with the key claimed in flight: the caller creates the provider's payment intent and
 * hands it over with `attachPayment`, which finishes the record. A caller that dies in
 * between leaves a lease that runs out; the next retry with the same key resumes with
 * the same order (never a second one).
 */
export type CheckoutStep =
  | { kind: "done"; outcome: IdempotentOutcome<OrderDto> }
  | { kind: "needs_payment"; order: OrderDto };

export interface AttachPaymentRequest extends IdempotencyInput {
  orderId: string;
  payment: OrderPayment;
  now: number;
}

/** A payment provider's verified webhook, reduced to what the DO decides on. */
export interface PaymentNotice {
  /** The provider's event id: each is acted on once. */
  providerEventId: string;
  kind: "succeeded" | "failed";
  orderId: string;
  intentId: string;
  amountMinor: number;
  /** ISO 4217, upper case. */
  currency: string;
  now: number;
}

export type PaymentOutcome =
  | "paid"
  | "paid_after_expiry"
  | "already_paid"
  | "duplicate"
  | "unknown_order"
  | "intent_mismatch"
  | "amount_mismatch"
  | "payment_failed"
  | "late_payment_refund_due";

export const DEFAULT_PAYMENT_TTL_MS = 15 * 60_000;
/** How long a checkout may sit between claiming its key and attaching the payment intent. */
export const CHECKOUT_LEASE_MS = 30_000;

// ------------------------------------------------------------------ after the sale (issue 5)

export interface CheckInRequest {
  ticketId: string;
  /** The code version in the scanned code: an older one was replaced (transfer, reissue). */
  codeVersion: number;
  gate: string | null;
  scannerId: string;
  now: number;
}

export interface CheckInDto {
  ticketId: string;
  tierId: string;
  number: number;
  checkedInAt: number;
  gate: string | null;
}

export interface TransferRequest {
  ticketId: string;
  /** The current holder (only they may transfer). */
  fromHolder: string;
  /** A user id, or `email:<address>` for someone who has not registered yet. */
  toHolder: string;
  now: number;
}

export interface RefundRequest extends IdempotencyInput {
  orderId: string;
  /** Tickets to refund (their seats go back on sale); empty with `amountMinor` for a goodwill partial refund. */
  ticketIds: string[];
  /** Defaults to the tickets' prices; at most what is left to refund. */
  amountMinor: number | null;
  reason: string;
  requestedBy: string;
  now: number;
}

export interface RefundDto {
  refundId: string;
  orderId: string;
  amountMinor: number;
  ticketIds: string[];
  reason: string;
  status: "requested" | "succeeded" | "failed" | "not_needed";
  createdAt: number;
}

export interface WaitlistEntryDto {
  entryId: string;
  eventId: string;
  tierId: string;
  quantity: number;
  status: "waiting" | "offered" | "promoted" | "expired" | "left";
  /** Place in the tier's line among waiting entries (1 = next), null when not waiting. */
  position: number | null;
  /** The hold reserved for this entry while offered. */
  holdId: string | null;
  offerExpiresAt: number | null;
  createdAt: number;
}

export interface JoinWaitlistRequest extends IdempotencyInput {
  buyerId: string;
  tierId: string;
  quantity: number;
  now: number;
}

export interface TierCheckIns {
  tierId: string;
  sold: number;
  checkedIn: number;
}

/** Progress of the cancellation saga (one per cancelled event). */
export interface CancellationProgress {
  state: "running" | "done";
  reason: string;
  startedAt: number;
  /** Orders refunded or closed so far. */
  processed: number;
  /** Paid orders still to refund. */
  remaining: number;
}

export interface Revocations {
  /** Tickets that must not be admitted whatever code they show. */
  revoked: { ticketId: string; number: number; status: "refunded" | "cancelled" }[];
  /** Tickets whose codes below `minCodeVersion` were replaced (transfers). */
  superseded: { ticketId: string; number: number; minCodeVersion: number }[];
  /** Tickets already admitted, for devices that scan offline. */
  checkedIn: { ticketId: string; number: number; checkedInAt: number; gate: string | null }[];
}

