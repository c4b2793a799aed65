import { z } from "@hono/zod-openapi";
import type { HoldDto } from "../inventory/contract";
import { UUID_PATTERN } from "../lib/ids";
import { iso } from "./common";
import { MAX_QUANTITY, PriceQuoteSchema, toQuoteDto } from "./tiers";

export const HoldItemBody = z.strictObject({
  tierId: z.string().regex(UUID_PATTERN, "must be a lowercase UUID"),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
});

export const CreateHoldBody = z
  .strictObject({
    items: z
      .array(HoldItemBody)
      .min(1)
      .max(10)
      .refine((items) => new Set(items.map((i) => i.tierId)).size === items.length, "each tier at most once per hold"),
  })
  .openapi("CreateHold");
export type CreateHoldInput = z.infer<typeof CreateHoldBody>;

export const IdempotencyKeyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({
      description:
        "Required: 1-255 visible ASCII characters (a UUID is a good choice), bare or as a Structured Field string. " +
        "A retry with the same key and body replays the first answer (with `Idempotency-Replayed: true`); the same key " +
        "with another body is 422 IDEMPOTENCY_KEY_REUSED; keys are scoped to you and kept at least 24 hours.",
      example: "8e03978e-40d5-43e8-bc93-6894a57f9324",
    }),
});

export const Hold = z
  .object({
    id: z.string(),
    eventId: z.string(),
    status: z.enum(["active", "released", "expired", "converted"]),
    items: z.array(z.object({ tierId: z.string(), quantity: z.number().int(), quote: PriceQuoteSchema })),
    currency: z.string(),
    totalMinor: z.number().int().openapi({ description: "Sum of the lines' locked totals" }),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .openapi("Hold");

export function toHoldDto(h: HoldDto): z.infer<typeof Hold> {
  return {
    id: h.holdId,
    eventId: h.eventId,
    status: h.status,
    items: h.items.map((l) => ({ tierId: l.tierId, quantity: l.quantity, quote: toQuoteDto(l.quote) })),
    currency: h.currency,
    totalMinor: h.totalMinor,
    createdAt: iso(h.createdAt)!,
    expiresAt: iso(h.expiresAt)!,
  };
}
