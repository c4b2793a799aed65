import type { TenantDb } from "../db/tenant-db";
import type { UserRow } from "../db/schema";
import { inventoryOf, type InventoryNamespace } from "../inventory/client";

/**
 * Tickets transferred to an email address before anyone had an account with it wait as
 * `email:<address>` holders in their events' inventories. Once the address is proven
 * (verified email), every such ticket becomes the user's. Safe to repeat: a claimed ticket
 * no longer waits for the address.
 */
export async function claimTicketsSentTo(db: TenantDb, inventory: InventoryNamespace, user: Pick<UserRow, "id" | "email" | "tenantId">, now: number): Promise<number> {
  let claimed = 0;
  for (const eventId of await db.orders.eventsWithTicketsHeldBy(`email:${user.email}`)) {
    claimed += (await inventoryOf(inventory, user.tenantId, eventId).claimTransfers(user.email, user.id, now)).length;
  }
  return claimed;
}
