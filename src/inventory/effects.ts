import type { ApiConfig } from "../config/env";
import { createDb, verifiedTenantId } from "../db/client";
import { TenantDb } from "../db/tenant-db";
import { MintRequestSchema, type MintRequest } from "../mint/messages";
import { OrderConfirmedMessageSchema, type OrderConfirmedMessage } from "../notifications/messages";
import { refunds } from "../db/schema";
import { paymentProviderFor } from "../payments";
import { OrderRefundedMessageSchema, type OrderRefundedMessage } from "../notifications/sale-messages";
import type { OrderDto, RefundDto } from "./contract";

/** A refund as D1 records it. */
export interface RefundRecord extends RefundDto {
  eventId: string;
  providerRefundId: string | null;
  requestedBy: string;
  updatedAt: number;
}

/** An audit entry produced inside the DO (waitlist steps), written once by its id. */
export interface InventoryAuditEntry {
  id: string;
  action: string;
  actorId: string | null;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
  at: number;
}

/**
 * Where the EventInventory outbox applies a sale's effects. The outbox hands over the due
 * effects of a kind together (ADR 0008, "Batching"), so the methods take lists: a call
 * that returns applied all it was given; one that throws may have applied part of it, and
 * the outbox retries all of it. So each call must be safe to repeat: the D1 upsert keeps
 * the highest revision, the minter claims one mint per ticket id, the notification
 * consumer emails once per order, audit entries are written once by id.
 */
export interface SaleEffects {
  /** Upserts orders with their tickets into D1: one batch per `SNAPSHOT_BATCH_ORDERS` orders. */
  recordOrders(tenantId: string, orders: OrderDto[]): Promise<void>;
  /** Sends mint requests, `QUEUE_BATCH` per sendBatch. */
  requestMints(messages: MintRequest[]): Promise<void>;
  /** Sends order confirmations, `QUEUE_BATCH` per sendBatch. */
  notifyAll(messages: OrderConfirmedMessage[]): Promise<void>;
  /** Cancels an unpaid payment intent; cancelling a cancelled one resolves, a paid one throws (non-retryable). */
  cancelPayment(req: { intentId: string; idempotencyKey: string }): Promise<void>;
  /** Asks the provider to refund; the idempotency key makes a retry the same refund. */
  refundPayment(req: { intentId: string; amountMinor: number; idempotencyKey: string; metadata: Record<string, string> }): Promise<{ refundId: string; status: string }>;
  recordRefund(tenantId: string, refund: RefundRecord): Promise<void>;
  notifyRefund(message: OrderRefundedMessage): Promise<void>;
  /** Writes audit entries (each once by its id) in one D1 batch. */
  audit(tenantId: string, entries: InventoryAuditEntry[]): Promise<void>;
}

/** Queues take at most 100 messages per sendBatch. */
export const QUEUE_BATCH = 100;

/** Sends `messages` in sendBatch calls of at most QUEUE_BATCH, each validated first. */
async function sendAll<T>(queue: Queue, messages: readonly unknown[], parse: (m: unknown) => T): Promise<void> {
  for (let i = 0; i < messages.length; i += QUEUE_BATCH) {
    await queue.sendBatch(messages.slice(i, i + QUEUE_BATCH).map((m) => ({ body: parse(m), contentType: "json" as const })));
  }
}

export function liveEffects(config: ApiConfig): SaleEffects {
  const db = createDb(config.DB);
  return {
    // The tenant id is the one in the DO's name, which only the API worker chooses, from
    // verified credentials (src/inventory/client.ts).
    recordOrders: (tenantId, orders) => new TenantDb(db, verifiedTenantId(tenantId)).orders.upsertSnapshots(orders),
    requestMints: (messages) => sendAll(config.MINT_QUEUE, messages, (m) => MintRequestSchema.parse(m)),
    notifyAll: (messages) => sendAll(config.NOTIFICATIONS, messages, (m) => OrderConfirmedMessageSchema.parse(m)),
    refundPayment: (req) => paymentProviderFor(config).refund(req),
    cancelPayment: (req) => paymentProviderFor(config).cancelIntent(req.intentId, req.idempotencyKey),
    async recordRefund(tenantId, r) {
      const row = {
        id: r.refundId,
        tenantId,
        eventId: r.eventId,
        orderId: r.orderId,
        amountMinor: r.amountMinor,
        ticketIds: r.ticketIds,
        reason: r.reason,
        status: r.status,
        providerRefundId: r.providerRefundId,
        requestedBy: r.requestedBy,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
      } satisfies typeof refunds.$inferInsert;
      await db
        .insert(refunds)
        .values(row)
        .onConflictDoUpdate({ target: refunds.id, set: { status: row.status, providerRefundId: row.providerRefundId, updatedAt: row.updatedAt } })
        .run();
    },
    async notifyRefund(message) {
      await config.NOTIFICATIONS.send(OrderRefundedMessageSchema.parse(message), { contentType: "json" });
    },
    async audit(tenantId, entries) {
      if (entries.length === 0) return;
      const insert = config.DB.prepare(
        `INSERT INTO audit_log (id, tenant_id, actor_type, actor_id, action, target_type, target_id, details, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO NOTHING`,
      );
      await config.DB.batch(
        entries.map((e) => insert.bind(e.id, tenantId, e.actorId ? "user" : "system", e.actorId, e.action, e.targetType, e.targetId, JSON.stringify(e.details), e.at)),
      );
    },
  };
}
