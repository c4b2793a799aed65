import { z } from "zod";
import { OrderRefundedMessageSchema } from "./sale-messages";
import { EVENT_STATUSES } from "../db/schema";
import { UUID_PATTERN } from "../lib/ids";

/**
 * The notification queue's message schema. Producers validate before sending and
 * the consumer validates again (a malformed message is acked and logged, never
 * retried forever).
 */
export const EmailMessageSchema = z.strictObject({
  kind: z.literal("email"),
  tenantId: z.string().min(1),
  to: z.string().email(),
  template: z.enum([
    "verify_email",
    "password_reset",
    "password_changed",
    "welcome",
    "order_confirmed",
    "order_refunded",
    "event_postponed",
    "event_rescheduled",
    "event_cancelled",
    "event_changed",
  ]),
  /** Template variables. Links may embed a one-time token; they are never logged. */
  data: z.record(z.string(), z.string().max(2048)),
});
export type EmailMessage = z.infer<typeof EmailMessageSchema>;

const Uuid = z.string().regex(UUID_PATTERN);
const EpochMs = z.number().int().nonnegative();

/**
 * Where a holder fan-out that ran out of its per-delivery budget carries on: the consumer
 * re-sends the message with the last ticket number it covered. Never set by producers.
 */
const Resume = z.strictObject({ afterNumber: z.number().int().min(1) });

/**
 * Domain event: an event moved to a status its ticket holders must hear about
 * (POSTPONED, RESCHEDULED, CANCELLED). Produced only through the D1 outbox, which adds
 * `outboxId`: the dedupe key, the same for every resend of the message.
 */
export const EventStatusChangedMessageSchema = z.strictObject({
  kind: z.literal("event.status_changed"),
  outboxId: Uuid,
  tenantId: z.string().min(1),
  eventId: Uuid,
  from: z.enum(EVENT_STATUSES),
  to: z.enum(EVENT_STATUSES),
  reason: z.string().max(500),
  /** When the change was committed (epoch ms). */
  at: EpochMs,
  /** The new times, on a reschedule (epoch ms). */
  schedule: z.strictObject({ startsAt: EpochMs, endsAt: EpochMs, doorsOpenAt: EpochMs.nullable() }).optional(),
  resume: Resume.optional(),
});
export type EventStatusChangedMessage = z.infer<typeof EventStatusChangedMessageSchema>;
/** What the producer writes to the outbox; the drain adds the outbox id when sending. */
export const EventStatusChangedOutboxBodySchema = EventStatusChangedMessageSchema.omit({ outboxId: true, resume: true });
export type EventStatusChangedOutboxBody = z.infer<typeof EventStatusChangedOutboxBodySchema>;

/** A protected field's value before and after, as the API shows it. */
const FieldChange = z.strictObject({ from: z.unknown(), to: z.unknown() });

/**
 * Domain event: a tenant admin overrode sold-ticket protection (src/protection) and changed
 * what holders bought: the event's venue, times or time zone, or a sold tier's price rules
 * (then `tierId` is set and only that tier's holders are told). Produced through the D1
 * outbox in the change's own batch; deduped on `outboxId` like every domain event.
 */
export const EventChangedForHoldersMessageSchema = z.strictObject({
  kind: z.literal("event.changed_for_holders"),
  outboxId: Uuid,
  tenantId: z.string().min(1),
  eventId: Uuid,
  tierId: Uuid.optional(),
  /** The protected fields that changed (event or tier field names). */
  fields: z.array(z.string().min(1).max(64)).min(1).max(20),
  changes: z.record(z.string().min(1).max(64), FieldChange),
  /** The admin's reason for overriding, told to holders. */
  reason: z.string().max(500),
  at: EpochMs,
  resume: Resume.optional(),
});
export type EventChangedForHoldersMessage = z.infer<typeof EventChangedForHoldersMessageSchema>;
export const EventChangedForHoldersOutboxBodySchema = EventChangedForHoldersMessageSchema.omit({ outboxId: true, resume: true });
export type EventChangedForHoldersOutboxBody = z.infer<typeof EventChangedForHoldersOutboxBodySchema>;

/** Domain events whose consumer tells the event's ticket holders. */
export type HolderNoticeMessage = EventStatusChangedMessage | EventChangedForHoldersMessage;

/**
 * A paid order, from the event's EventInventory outbox: the consumer emails the buyer
 * once per order (deduped on the order id), whatever the number of deliveries.
 */
export const OrderConfirmedMessageSchema = z.strictObject({
  kind: z.literal("order.confirmed"),
  tenantId: z.string().min(1),
  eventId: Uuid,
  orderId: Uuid,
  buyerId: z.string().min(1),
  ticketNumbers: z.array(z.number().int().min(1)).min(1).max(1000),
  totalMinor: z.number().int().nonnegative(),
  currency: z.string().length(3),
  paidAt: EpochMs,
});
export type OrderConfirmedMessage = z.infer<typeof OrderConfirmedMessageSchema>;

export const NotificationMessageSchema = z.discriminatedUnion("kind", [
  EmailMessageSchema,
  EventStatusChangedMessageSchema,
  EventChangedForHoldersMessageSchema,
  OrderConfirmedMessageSchema,
  OrderRefundedMessageSchema,
]);
export type NotificationMessage = z.infer<typeof NotificationMessageSchema>;

/** Emails go straight to the queue; domain events go through the outbox (src/outbox). */
export async function enqueueNotification(queue: Queue, message: EmailMessage): Promise<void> {
  await queue.send(EmailMessageSchema.parse(message), { contentType: "json" });
}
