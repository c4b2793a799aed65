import { z } from "zod";
import { UUID_PATTERN } from "../lib/ids";

/**
 * The mint queue's message: one per sold ticket, produced by the event's EventInventory
 * outbox and consumed by the minting worker (workers/minter). Versioned by `v`; a
 * consumer that does not know a version sends it to the dead-letter queue instead of
 * guessing. Delivery is at least once: the minter claims `mints.ticket_id` (primary key)
 * before doing anything, so a redelivered message never mints a second NFT.
 */
const Uuid = z.string().regex(UUID_PATTERN);

export const MintRequestSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal("ticket.mint"),
  tenantId: z.string().min(1).max(64),
  eventId: Uuid,
  orderId: Uuid,
  ticketId: Uuid,
  tierId: Uuid,
  ticketNumber: z.number().int().min(1),
  /** The buyer (user id) the ticket was issued to. */
  ownerId: z.string().min(1).max(64),
  /** When the sale was paid (epoch ms). */
  soldAt: z.number().int().nonnegative(),
});
export type MintRequest = z.infer<typeof MintRequestSchema>;
