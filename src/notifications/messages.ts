import { z } from "zod";

/**
 * The notification queue's message schema. Producers validate before sending and
 * the consumer validates again (a malformed message is acked and logged, never
 * retried forever).
 */
export const EmailMessageSchema = z.strictObject({
  kind: z.literal("email"),
  tenantId: z.string().min(1),
  to: z.string().email(),
  template: z.enum(["verify_email", "password_reset", "password_changed", "welcome"]),
  /** Template variables. Links may embed a one-time token; they are never logged. */
  data: z.record(z.string(), z.string().max(2048)),
});
export type EmailMessage = z.infer<typeof EmailMessageSchema>;

export const NotificationMessageSchema = z.discriminatedUnion("kind", [EmailMessageSchema]);
export type NotificationMessage = z.infer<typeof NotificationMessageSchema>;

export async function enqueueNotification(queue: Queue, message: NotificationMessage): Promise<void> {
  await queue.send(NotificationMessageSchema.parse(message), { contentType: "json" });
}
