import { DurableObject } from "cloudflare:workers";
import { loadConfig, type ApiConfig } from "../src/config/env";
import type {
  AttachPaymentRequest,
  CheckoutRequest,
  CheckoutStep,
  GateState,
  HoldDto,
  HoldRequest,
  IdempotentOutcome,
  InventoryResult,
  OrderDto,
  PaymentNotice,
  PaymentOutcome,
  ReleaseRequest,
  TierAvailability,
  TierConfig,
  TierCounts,
} from "../src/inventory/contract";
import { CHECKOUT_LEASE_MS, NOT_VISIBLE, type NotVisible, type CancellationProgress, type CheckInDto, type CheckInRequest, type JoinWaitlistRequest, type RefundDto, type RefundRequest, type Revocations, type TierCheckIns, type TransferRequest, type WaitlistEntryDto } from "../src/inventory/contract";
import { liveEffects, type SaleEffects } from "../src/inventory/effects";
import { uuidv7 } from "../src/lib/ids";
import { signTicketCode } from "../src/tickets/code";
import { errorFields, log } from "../src/observability/logger";
import { gateSelling, isOpen, readGate, servesPublic, writeGate } from "./inventory/gate";
import { endHold, expireDueHolds, findHold, placeHold, readHold, releaseHold } from "./inventory/holds";
import { claimInFlight, lookup, purgeExpired, record, releaseLease, runIdempotent } from "./inventory/idempotency";
import { applyPayment, attachPayment, checkoutHold, expireDueOrders, findOrder, oncePerProviderEvent, readOrder, ticketsOf, toOrderDto } from "./inventory/orders";
import { applyEffects, type EffectScope } from "./inventory/apply-effects";
import { dueEffects, OUTBOX_MAX_ROUNDS, OUTBOX_ROUND_ROWS, pendingEffects, rescheduleOutbox } from "./inventory/outbox";
import { problem, statusOf } from "./inventory/problems";
import { cancellationProgress, cancellationStep, startCancellation } from "./inventory/cancellation";
import { checkIn, checkInCounts, revocations } from "./inventory/checkin";
import { applyRefundNotice, refundOrder, refundsOf, toRefundDto } from "./inventory/refunds";
import { claimTransfers, transferHistory, transferTicket } from "./inventory/transfers";
import { advanceWaitlists, buyerEntries, joinWaitlist, leaveWaitlist, promoteOnCheckout } from "./inventory/waitlist";
import { rearm } from "./inventory/schedule";
import { migrate, resolveIdentity } from "./inventory/schema";
import { Db } from "./inventory/sql";
import { countsOf, listTiers, upsertTier } from "./inventory/tiers";

/**
 * One per event, named `${tenantId}:${eventId}` (src/inventory/contract.ts): the single
 * writer of the sales gate, tier capacities and price rules, held/sold counters, holds,
 * per-buyer counts and the idempotency records of event-scoped writes.
 *
 * Every mutation runs in one `transactionSync`: checks and writes with no await between
 * them, committed together or not at all. The only awaits come after the commit, to point
 * the alarm at the next scheduled work.
 */
export class EventInventory extends DurableObject<Env> {
  private readonly db: Db;
  private readonly eventId: string;
  private readonly tenantId: string;
  private readonly config: ApiConfig;
  /** Where outbox effects go; tests swap in failing ones through runInDurableObject. */
  effects: SaleEffects;
  private applying: Promise<OutboxReport> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = loadConfig(env);
    this.effects = liveEffects(this.config);
    this.db = new Db(ctx.storage.sql);
    const identity = ctx.storage.transactionSync(() => {
      migrate(this.db);
      return resolveIdentity(this.db, ctx.id.name);
    });
    this.eventId = identity.eventId;
    this.tenantId = identity.tenantId;
  }

  /** Applies the event's selling state unless a newer version is already stored. */
  async syncGate(gate: GateState): Promise<{ applied: boolean; gate: GateState | null }> {
    const applied = this.ctx.storage.transactionSync(() => {
      const now = Date.now();
      const written = writeGate(this.db, gate, now);
      // Cancellation closes the gate and starts the saga that refunds and notifies (once).
      if (readGate(this.db)?.status === "CANCELLED") startCancellation(this.db, gate.reason ?? "event cancelled", now);
      else if (written) advanceWaitlists(this.db, readGate(this.db), now, this.offerTtlMs(), this.eventId);
      return written;
    });
    await rearm(this.db, this.ctx.storage);
    return { applied, gate: readGate(this.db) };
  }

  /** How long a waitlist offer (a hold placed for the first in line) lasts. */
  private offerTtlMs(): number {
    return this.config.HOLD_TTL_SECONDS * 1000;
  }

  /**
   * Creates or reconfigures a tier; capacity may fall only down to held + sold. Holds
   * already over at `now` are expired first, so they do not count as committed.
   */
  async upsertTier(tier: TierConfig, now: number): Promise<InventoryResult<TierCounts>> {
    const result = this.ctx.storage.transactionSync(() => {
      expireDueHolds(this.db, now);
      const upserted = upsertTier(this.db, tier, now);
      if (upserted.ok) advanceWaitlists(this.db, readGate(this.db), now, this.offerTtlMs(), this.eventId);
      return upserted;
    });
    await rearm(this.db, this.ctx.storage);
    return result;
  }

  /** `hold` for a buyer whose view of the event the API has not looked up (contract NotVisible). */
  async holdIfPublic(req: HoldRequest): Promise<IdempotentOutcome<HoldDto> | NotVisible> {
    return servesPublic(readGate(this.db)) ? this.hold(req) : NOT_VISIBLE;
  }

  async hold(req: HoldRequest): Promise<IdempotentOutcome<HoldDto>> {
    if (!Number.isSafeInteger(req.ttlMs) || req.ttlMs <= 0) throw new RangeError("ttlMs must be a positive integer");
    const outcome = this.ctx.storage.transactionSync(() =>
      runIdempotent(this.db, req, Date.now(), 201, () => {
        expireDueHolds(this.db, req.now);
        return placeHold(this.db, readGate(this.db), req, uuidv7(req.now), this.eventId);
      }),
    );
    await rearm(this.db, this.ctx.storage);
    return outcome;
  }

  async release(req: ReleaseRequest): Promise<IdempotentOutcome<HoldDto>> {
    const outcome = this.ctx.storage.transactionSync(() =>
      runIdempotent(this.db, req, Date.now(), 200, () => {
        const released = releaseHold(this.db, req, this.eventId);
        if (released.ok) advanceWaitlists(this.db, readGate(this.db), req.now, this.offerTtlMs(), this.eventId);
        return released;
      }),
    );
    await rearm(this.db, this.ctx.storage);
    return outcome;
  }

  /** The buyer's own hold; anyone else's answers HOLD_NOT_FOUND. */
  async getHold(holdId: string, buyerId: string): Promise<InventoryResult<HoldDto>> {
    return findHold(this.db, holdId, buyerId, this.eventId, Date.now());
  }

  async availability(now: number): Promise<TierAvailability[]> {
    const selling = gateSelling(readGate(this.db), now);
    return listTiers(this.db).map((t) => {
      const available = Math.max(0, t.capacity - t.held - t.sold);
      return {
        tierId: t.tierId,
        name: t.name,
        available,
        soldOut: available === 0,
        onSale: selling && isOpen({ opensAt: t.salesStartAt, closesAt: t.salesEndAt }, now),
      };
    });
  }

  async counts(): Promise<TierCounts[]> {
    return listTiers(this.db).map(countsOf);
  }

  // ---------------------------------------------------------------- orders

  /** `checkout` for a buyer whose view of the event the API has not looked up (contract NotVisible). */
  async checkoutIfPublic(req: CheckoutRequest): Promise<CheckoutStep | NotVisible> {
    return servesPublic(readGate(this.db)) ? this.checkout(req) : NOT_VISIBLE;
  }

  /**
   * Checkout, step one (see CheckoutStep): a free order is finished here; one that costs
   * money comes back as `needs_payment` with the key claimed in flight. A retry after the
   * lease ran out resumes the same order.
   */
  async checkout(req: CheckoutRequest): Promise<CheckoutStep> {
    if (!Number.isSafeInteger(req.paymentTtlMs) || req.paymentTtlMs <= 0) throw new RangeError("paymentTtlMs must be a positive integer");
    const step = this.ctx.storage.transactionSync((): CheckoutStep | { kind: "finished"; orderId: string; replayed: boolean } => {
      const wall = Date.now();
      const prior = lookup<{ orderId: string }>(this.db, req, wall);
      if (prior?.kind === "resumable") {
        const order = readOrder(this.db, prior.ref);
        if (order?.status === "pending" && order.payment_intent_id === null) {
          claimInFlight(this.db, req, wall, wall + CHECKOUT_LEASE_MS, order.order_id);
          return { kind: "needs_payment", order: toOrderDto(this.db, order, this.eventId) };
        }
        // The order moved on without us (paid, expired): finish the record with it.
        const result = order ? { ok: true as const, value: { orderId: order.order_id } } : problem("ORDER_NOT_FOUND", `No order ${prior.ref}`);
        record(this.db, req, result.ok ? 201 : statusOf(result.code), result, wall);
        return result.ok ? { kind: "finished", orderId: result.value.orderId, replayed: true } : { kind: "done", outcome: { kind: "response", replayed: true, status: 404, result } };
      }
      if (prior?.kind === "response" && prior.result.ok) return { kind: "finished", orderId: prior.result.value.orderId, replayed: true };
      // A stored refusal, in flight or key reused: none carries an order, so the types agree.
      if (prior) return { kind: "done", outcome: prior as IdempotentOutcome<OrderDto> };

      expireDueHolds(this.db, req.now);
      const created = checkoutHold(this.db, readGate(this.db), req, uuidv7(req.now));
      if (!created.ok) {
        record(this.db, req, statusOf(created.code), created, wall);
        return { kind: "done", outcome: { kind: "response", replayed: false, status: statusOf(created.code), result: created } };
      }
      const order = created.value;
      promoteOnCheckout(this.db, req.holdId, req.now);
      if (order.status === "paid") {
        record(this.db, req, 201, { ok: true, value: { orderId: order.order_id } }, wall);
        return { kind: "finished", orderId: order.order_id, replayed: false };
      }
      claimInFlight(this.db, req, wall, wall + CHECKOUT_LEASE_MS, order.order_id);
      return { kind: "needs_payment", order: toOrderDto(this.db, order, this.eventId) };
    });
    await rearm(this.db, this.ctx.storage);
    if (step.kind !== "finished") return step;
    // Stored records name the order; the answer is the order as it is now, with its codes.
    return { kind: "done", outcome: { kind: "response", replayed: step.replayed, status: 201, result: { ok: true, value: await this.orderNow(step.orderId) } } };
  }

  /** Checkout, step two: the provider's intent is recorded on the order and the key's record finished. */
  async attachPayment(req: AttachPaymentRequest): Promise<IdempotentOutcome<OrderDto>> {
    const result = this.ctx.storage.transactionSync(() => {
      const attached = attachPayment(this.db, req.orderId, req.payment, req.now);
      const stored = attached.ok ? { ok: true as const, value: { orderId: attached.value.order_id } } : attached;
      record(this.db, req, attached.ok ? 201 : statusOf(attached.code), stored, Date.now());
      return attached;
    });
    await rearm(this.db, this.ctx.storage);
    if (!result.ok) return { kind: "response", replayed: false, status: statusOf(result.code), result };
    return { kind: "response", replayed: false, status: 201, result: { ok: true, value: await this.orderNow(result.value.order_id) } };
  }

  /** The caller could not create the payment intent: a retry with the same key may resume at once. */
  async abandonCheckout(scopedKey: string): Promise<void> {
    this.ctx.storage.transactionSync(() => releaseLease(this.db, scopedKey));
  }

  /** An order as it is now (the buyer's own, unless `buyerId` is null for staff and webhooks). */
  async getOrder(orderId: string, buyerId: string | null): Promise<InventoryResult<OrderDto>> {
    const row = findOrder(this.db, orderId, buyerId);
    if (!row) return problem("ORDER_NOT_FOUND", `No order ${orderId}`, { orderId });
    return { ok: true, value: await this.orderNow(orderId) };
  }

  /** Applies a verified payment notice once per provider event id. */
  async confirmPayment(notice: PaymentNotice): Promise<{ outcome: PaymentOutcome; orderStatus: string | null }> {
    const result = this.ctx.storage.transactionSync(() => {
      expireDueOrders(this.db, notice.now);
      return applyPayment(this.db, notice);
    });
    await rearm(this.db, this.ctx.storage);
    if (result.outcome === "paid" || result.outcome === "paid_after_expiry") await this.signCodes(notice.orderId);
    return { outcome: result.outcome, orderStatus: readOrder(this.db, notice.orderId)?.status ?? null };
  }

  /** The order with every ticket's code signed. */
  private async orderNow(orderId: string): Promise<OrderDto> {
    await this.signCodes(orderId);
    return toOrderDto(this.db, readOrder(this.db, orderId)!, this.eventId);
  }

  /**
   * Signs the codes of the order's tickets that have none yet. Codes are signed after the
   * sale commits (signing is async and transactions are not), so a ticket may briefly
   * have none; every reader and the outbox call this first. Ed25519 signatures are
   * deterministic, so signing twice in a race stores the same code.
   */
  private async signCodes(orderId: string): Promise<void> {
    const unsigned = ticketsOf(this.db, orderId).filter((t) => t.code === null);
    for (const t of unsigned) {
      const code = await signTicketCode(this.config.TICKET_SIGNING_KEYS, {
        v: 1,
        tid: this.tenantId,
        eid: this.eventId,
        tkt: t.ticket_id,
        n: t.number,
        tier: t.tier_id,
        cv: t.code_version,
        iat: Math.floor(t.issued_at / 1000),
      });
      this.db.run`UPDATE tickets SET code = ${code} WHERE ticket_id = ${t.ticket_id} AND code IS NULL AND code_version = ${t.code_version}`;
    }
  }

  // ---------------------------------------------------------------- after the sale

  /** Admits a ticket once, whichever door scans it first (the route verified the code). */
  async checkIn(req: CheckInRequest): Promise<InventoryResult<CheckInDto>> {
    const result = this.ctx.storage.transactionSync(() => checkIn(this.db, req));
    await rearm(this.db, this.ctx.storage);
    return result;
  }

  async checkInCounts(): Promise<TierCheckIns[]> {
    return checkInCounts(this.db);
  }

  /** The lists an offline scanner syncs (docs/adr/0007-ticket-codes.md). */
  async revocations(): Promise<Revocations> {
    return revocations(this.db);
  }

  /** Moves a ticket to another holder with a new code; the old code stops working. */
  async transfer(req: TransferRequest): Promise<InventoryResult<{ ticketId: string; orderId: string; codeVersion: number; code: string | null }>> {
    const result = this.ctx.storage.transactionSync(() => transferTicket(this.db, req));
    await rearm(this.db, this.ctx.storage);
    if (!result.ok) return result;
    const order = await this.orderNow(result.value.orderId);
    const code = order.tickets.find((t) => t.ticketId === result.value.ticketId)?.code ?? null;
    return { ok: true, value: { ...result.value, code } };
  }

  /** A ticket's transfers, oldest first. */
  async transfers(ticketId: string): Promise<{ fromHolder: string; toHolder: string; fromCodeVersion: number; at: number }[]> {
    return transferHistory(this.db, ticketId).map((t) => ({ fromHolder: t.from_holder, toHolder: t.to_holder, fromCodeVersion: t.from_cv, at: t.at }));
  }

  /** Tickets sent to `email` before its owner registered become the user's. */
  async claimTransfers(email: string, userId: string, now: number): Promise<string[]> {
    const claimed = this.ctx.storage.transactionSync(() => claimTransfers(this.db, email, userId, now));
    await rearm(this.db, this.ctx.storage);
    return claimed;
  }

  /** Refunds tickets of a paid order (seats back on sale, codes revoked) and/or an amount. */
  async refund(req: RefundRequest): Promise<IdempotentOutcome<RefundDto>> {
    const outcome = this.ctx.storage.transactionSync(() =>
      runIdempotent(this.db, req, Date.now(), 201, () => {
        const refunded = refundOrder(this.db, req, uuidv7(req.now), { cancel: false });
        if (refunded.ok) advanceWaitlists(this.db, readGate(this.db), req.now, this.offerTtlMs(), this.eventId);
        return refunded;
      }),
    );
    await rearm(this.db, this.ctx.storage);
    return outcome;
  }

  async orderRefunds(orderId: string): Promise<RefundDto[]> {
    return refundsOf(this.db, orderId).map(toRefundDto);
  }

  /** A provider's notice that the order's payment has been refunded up to `amountRefundedMinor` (once per event id). */
  async recordRefundNotice(notice: { providerEventId: string; orderId: string; amountRefundedMinor: number; now: number }): Promise<{ outcome: string }> {
    const outcome = this.ctx.storage.transactionSync(() =>
      oncePerProviderEvent(this.db, { ...notice, kind: "refunded" }, () => {
        const order = readOrder(this.db, notice.orderId);
        if (!order) return "unknown_order";
        return applyRefundNotice(this.db, order, notice.amountRefundedMinor, notice.now) > 0 ? "refund_confirmed" : "no_refund_pending";
      }),
    );
    await rearm(this.db, this.ctx.storage);
    return { outcome };
  }

  async joinWaitlist(req: JoinWaitlistRequest): Promise<InventoryResult<WaitlistEntryDto>> {
    const result = this.ctx.storage.transactionSync(() => {
      expireDueHolds(this.db, req.now);
      return joinWaitlist(this.db, req, this.eventId);
    });
    await rearm(this.db, this.ctx.storage);
    return result;
  }

  async leaveWaitlist(entryId: string, buyerId: string, now: number): Promise<InventoryResult<WaitlistEntryDto>> {
    const result = this.ctx.storage.transactionSync(() => {
      const left = leaveWaitlist(this.db, entryId, buyerId, now, this.eventId, (holdId) => {
        const hold = readHold(this.db, holdId);
        if (hold?.status === "active") endHold(this.db, hold, "released", now);
      });
      if (left.ok) advanceWaitlists(this.db, readGate(this.db), now, this.offerTtlMs(), this.eventId);
      return left;
    });
    await rearm(this.db, this.ctx.storage);
    return result;
  }

  async waitlistOf(buyerId: string): Promise<WaitlistEntryDto[]> {
    return buyerEntries(this.db, buyerId, this.eventId);
  }

  async cancellation(): Promise<CancellationProgress | null> {
    return cancellationProgress(this.db);
  }

  /** One step of the cancellation saga (the alarm runs these until done). */
  async runCancellationStep(now: number = Date.now()): Promise<CancellationProgress | null> {
    this.ctx.storage.transactionSync(() => cancellationStep(this.db, now));
    await rearm(this.db, this.ctx.storage);
    return cancellationProgress(this.db);
  }

  // ---------------------------------------------------------------- outbox

  /**
   * Applies due outbox effects (D1 order records, mint requests, confirmations), oldest
   * first, in rounds of many rows batched by kind across orders (apply-effects.ts). A
   * failing batch leaves its rows with their attempts counted, retried with backoff from
   * the alarm; the other batches go on. One run at a time per object.
   */
  async applyOutbox(now: number = Date.now()): Promise<OutboxReport> {
    if (this.applying) return this.applying;
    this.applying = this.runOutbox(now).finally(() => {
      this.applying = null;
    });
    return this.applying;
  }

  /** What applying an effect needs from this object. */
  private effectScope(): EffectScope {
    return {
      db: this.db,
      storage: this.ctx.storage,
      tenantId: this.tenantId,
      eventId: this.eventId,
      effects: this.effects,
      orderNow: (orderId) => this.orderNow(orderId),
    };
  }

  private async runOutbox(now: number): Promise<OutboxReport> {
    const report: OutboxReport = { applied: 0, failed: 0, pending: 0 };
    for (let round = 0; round < OUTBOX_MAX_ROUNDS; round++) {
      const rows = dueEffects(this.db, now, OUTBOX_ROUND_ROWS);
      if (rows.length === 0) break;
      // Batched by kind across the round's orders; failed rows are already marked for a retry.
      const applied = await applyEffects(this.effectScope(), rows);
      report.applied += applied.applied;
      report.failed += applied.failed;
      if (report.failed > 0) break;
    }
    this.ctx.storage.transactionSync(() => rescheduleOutbox(this.db));
    await rearm(this.db, this.ctx.storage);
    report.pending = pendingEffects(this.db);
    return report;
  }

  /**
   * Expires due holds and unpaid orders, purges old idempotency records, then applies the
   * outbox and re-arms for the next due work. Works from the real state, not from what
   * was scheduled, so running late, twice or spuriously changes nothing that should not
   * change. Failed effects are rescheduled by the outbox itself, not by failing the alarm.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    try {
      const expired = this.ctx.storage.transactionSync(() => {
        const holds = expireDueHolds(this.db, now);
        const orders = expireDueOrders(this.db, now);
        this.db.run`DELETE FROM schedule WHERE kind IN ('hold_expiry', 'order_expiry') AND due_at <= ${now}`;
        purgeExpired(this.db, now);
        const offers = advanceWaitlists(this.db, readGate(this.db), now, this.offerTtlMs(), this.eventId);
        return { holds, orders, offers };
      });
      if (expired.holds > 0 || expired.orders > 0 || expired.offers > 0) log("info", "inventory: expired", { eventId: this.eventId, ...expired });
      // One saga step per alarm, each its own transaction: an interrupted step is retried,
      // finished ones stay finished.
      if (cancellationProgress(this.db)?.state === "running") this.ctx.storage.transactionSync(() => cancellationStep(this.db, now));
    } catch (err) {
      // Rethrown so the runtime retries the alarm with backoff.
      log("error", "inventory: alarm failed", { eventId: this.eventId, ...errorFields(err) });
      throw err;
    }
    await this.applyOutbox(now);
  }
}

export interface OutboxReport {
  applied: number;
  failed: number;
  /** Effects still waiting (due later, after a failure). */
  pending: number;
}
