import type { ApiConfig } from "../config/env";
import { createDb, verifiedTenantId } from "../db/client";
import { TenantDb } from "../db/tenant-db";
import { MintRequestSchema, type MintRequest } from "../mint/messages";
import { OrderConfirmedMessageSchema, type OrderConfirmedMessage } from "../notifications/messages";
import type { OrderDto } from "./contract";

/**
 * Where the EventInventory outbox applies a sale's effects. Each call must be safe to
 * repeat: the D1 upsert keeps the highest revision, the minter claims one mint per ticket
 * id, and the notification consumer emails once per order.
 */
export interface SaleEffects {
  recordOrder(tenantId: string, order: OrderDto): Promise<void>;
  requestMints(messages: MintRequest[]): Promise<void>;
  notify(message: OrderConfirmedMessage): Promise<void>;
}

/** Queues take at most 100 messages per sendBatch. */
const QUEUE_BATCH = 100;

export function liveEffects(config: ApiConfig): SaleEffects {
  const db = createDb(config.DB);
  return {
    // The tenant id is the one in the DO's name, which only the API worker chooses, from
    // verified credentials (src/inventory/client.ts).
    recordOrder: (tenantId, order) => new TenantDb(db, verifiedTenantId(tenantId)).orders.upsertSnapshot(order),
    async requestMints(messages) {
      for (let i = 0; i < messages.length; i += QUEUE_BATCH) {
        const chunk = messages.slice(i, i + QUEUE_BATCH).map((m) => ({ body: MintRequestSchema.parse(m), contentType: "json" as const }));
        await config.MINT_QUEUE.sendBatch(chunk);
      }
    },
    async notify(message) {
      await config.NOTIFICATIONS.send(OrderConfirmedMessageSchema.parse(message), { contentType: "json" });
    },
  };
}
