import { z } from "zod";
import { UUID_PATTERN } from "../lib/ids";

const Uuid = z.string().regex(UUID_PATTERN);

/**
 * A refund of an order (by an admin, or by an event's cancellation), from the event's
 * EventInventory outbox: the consumer emails the buyer once per refund (deduped on the
 * refund id).
 */
export const OrderRefundedMessageSchema = z.strictObject({
  kind: z.literal("order.refunded"),
  tenantId: z.string().min(1),
  eventId: Uuid,
  orderId: Uuid,
  refundId: Uuid,
  buyerId: z.string().min(1),
  amountMinor: z.number().int().nonnegative(),
  currency: z.string().length(3),
  ticketNumbers: z.array(z.number().int().min(1)).max(1000),
  reason: z.string().max(600),
  cancelled: z.boolean(),
});
export type OrderRefundedMessage = z.infer<typeof OrderRefundedMessageSchema>;
