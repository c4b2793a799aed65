import { z } from "@hono/zod-openapi";
import type { TicketTierRow } from "../db/schema";
import type { PriceQuote } from "../domain/pricing";
import { iso } from "./common";
import { ProtectionOverride } from "./events";

/**
 * Ticket tier bodies and DTOs. Money is integer minor units with an ISO 4217 currency,
 * rates are basis points (0-10000). The bounds keep every quote within safe integers:
 * 10^9 minor units × 100 tickets × 10^4 bps < 2^53.
 */
const Instant = z.string().datetime({ offset: true }).openapi({ example: "2027-03-01T19:30:00Z" });
const Minor = z.number().int().min(0).max(1_000_000_000);
const Bps = z.number().int().min(0).max(10_000);
/** Holds take 1-100 of a tier per item, so no per-order limit beyond that means anything. */
export const MAX_QUANTITY = 100;

export const tierFieldShape = {
  name: z.string().trim().min(1).max(100),
  description: z.string().max(2000).nullable(),
  capacity: z.number().int().min(1).max(1_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code in capitals, e.g. EUR").openapi({ example: "EUR" }),
  priceMinor: Minor.openapi({ description: "Base price per ticket in minor units (cents)" }),
  serviceFeeMinor: Minor.openapi({ description: "Per ticket, never discounted" }),
  facilityFeeMinor: Minor.openapi({ description: "Per ticket, never discounted" }),
  taxBps: Bps.openapi({ description: "Tax on (subtotal - discount + fees), in basis points" }),
  earlyBird: z
    .strictObject({ priceMinor: Minor, until: Instant })
    .nullable()
    .openapi({ description: "Unit price before `until` (wins over last minute when both apply)" }),
  lastMinute: z.strictObject({ priceMinor: Minor, from: Instant }).nullable().openapi({ description: "Unit price from `from` on" }),
  groupDiscount: z
    .strictObject({ minQuantity: z.number().int().min(2).max(MAX_QUANTITY), bps: Bps })
    .nullable()
    .openapi({ description: "Discount on the subtotal when one hold takes at least `minQuantity`" }),
  minPerOrder: z.number().int().min(1).max(MAX_QUANTITY),
  maxPerOrder: z.number().int().min(1).max(MAX_QUANTITY),
  maxPerBuyer: z.number().int().min(1).max(10_000).openapi({ description: "Most tickets of this tier one buyer may hold and buy" }),
  salesStartAt: Instant.nullable(),
  salesEndAt: Instant.nullable(),
};
const F = tierFieldShape;

const VersionField = z.number().int().min(1).max(1_000_000_000).optional().openapi({
  description: "The version being updated (alternative to If-Match)",
});

export const CreateTierBody = z
  .strictObject({
    name: F.name,
    capacity: F.capacity,
    currency: F.currency,
    priceMinor: F.priceMinor,
    description: F.description.optional(),
    serviceFeeMinor: F.serviceFeeMinor.optional().openapi({ description: "Default 0" }),
    facilityFeeMinor: F.facilityFeeMinor.optional().openapi({ description: "Default 0" }),
    taxBps: F.taxBps.optional().openapi({ description: "Default 0" }),
    earlyBird: F.earlyBird.optional(),
    lastMinute: F.lastMinute.optional(),
    groupDiscount: F.groupDiscount.optional(),
    minPerOrder: F.minPerOrder.optional().openapi({ description: "Default 1" }),
    maxPerOrder: F.maxPerOrder.optional().openapi({ description: "Default 10 (or minPerOrder when larger)" }),
    maxPerBuyer: F.maxPerBuyer.optional().openapi({ description: "Default: maxPerOrder" }),
    salesStartAt: F.salesStartAt.optional(),
    salesEndAt: F.salesEndAt.optional(),
  })
  .openapi("CreateTicketTier");

export const PatchTierBody = z
  .strictObject({
    ...Object.fromEntries(Object.entries(F).map(([k, v]) => [k, (v as z.ZodType).optional()])),
    version: VersionField,
    override: ProtectionOverride.optional(),
  } as { [K in keyof typeof F]: z.ZodOptional<(typeof F)[K]> } & { version: typeof VersionField; override: z.ZodOptional<typeof ProtectionOverride> })
  .refine((b) => Object.keys(b).some((k) => k !== "version" && k !== "override"), "send at least one field to change")
  .openapi("PatchTicketTier");

export type CreateTierInput = z.infer<typeof CreateTierBody>;
export type PatchTierInput = z.infer<typeof PatchTierBody>;

const PriceQuoteShape = {
  currency: z.string(),
  quantity: z.number().int(),
  priceRule: z.enum(["base", "early_bird", "last_minute"]),
  unitPriceMinor: z.number().int(),
  subtotalMinor: z.number().int(),
  groupDiscountMinor: z.number().int(),
  serviceFeesMinor: z.number().int(),
  facilityFeesMinor: z.number().int(),
  taxMinor: z.number().int(),
  totalMinor: z.number().int(),
  quotedAt: z.string(),
};
export const PriceQuoteSchema = z.object(PriceQuoteShape).openapi("PriceQuote", {
  description: "total = subtotal - groupDiscount + serviceFees + facilityFees + tax (all minor units)",
});
export type PriceQuoteDto = z.infer<typeof PriceQuoteSchema>;

export const toQuoteDto = (q: PriceQuote): PriceQuoteDto => ({ ...q, quotedAt: new Date(q.quotedAt).toISOString() });

export const TicketTier = z
  .object({
    id: z.string(),
    eventId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    capacity: z.number().int(),
    currency: z.string(),
    priceMinor: z.number().int(),
    serviceFeeMinor: z.number().int(),
    facilityFeeMinor: z.number().int(),
    taxBps: z.number().int(),
    earlyBird: z.object({ priceMinor: z.number().int(), until: z.string() }).nullable(),
    lastMinute: z.object({ priceMinor: z.number().int(), from: z.string() }).nullable(),
    groupDiscount: z.object({ minQuantity: z.number().int(), bps: z.number().int() }).nullable(),
    minPerOrder: z.number().int(),
    maxPerOrder: z.number().int(),
    maxPerBuyer: z.number().int(),
    salesStartAt: z.string().nullable(),
    salesEndAt: z.string().nullable(),
    version: z.number().int(),
    inForce: z.boolean().openapi({
      description:
        "Whether the event's inventory enforces this version. False after a write whose push to the inventory failed; " +
        "the next tier write or POST /v1/events/{eventId}/tiers/sync pushes it again.",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("TicketTier");

export const TicketTierList = z.object({ items: z.array(TicketTier) }).openapi("TicketTierList");

export function toTierDto(r: TicketTierRow): z.infer<typeof TicketTier> {
  return {
    id: r.id,
    eventId: r.eventId,
    name: r.name,
    description: r.description,
    capacity: r.capacity,
    currency: r.currency,
    priceMinor: r.priceMinor,
    serviceFeeMinor: r.serviceFeeMinor,
    facilityFeeMinor: r.facilityFeeMinor,
    taxBps: r.taxBps,
    earlyBird: r.earlyBirdPriceMinor === null || r.earlyBirdUntil === null ? null : { priceMinor: r.earlyBirdPriceMinor, until: iso(r.earlyBirdUntil)! },
    lastMinute: r.lastMinutePriceMinor === null || r.lastMinuteFrom === null ? null : { priceMinor: r.lastMinutePriceMinor, from: iso(r.lastMinuteFrom)! },
    groupDiscount: r.groupMinQuantity === null || r.groupDiscountBps === null ? null : { minQuantity: r.groupMinQuantity, bps: r.groupDiscountBps },
    minPerOrder: r.minPerOrder,
    maxPerOrder: r.maxPerOrder,
    maxPerBuyer: r.maxPerBuyer,
    salesStartAt: iso(r.salesStartAt),
    salesEndAt: iso(r.salesEndAt),
    version: r.version,
    inForce: r.appliedVersion === r.version,
    createdAt: iso(r.createdAt)!,
    updatedAt: iso(r.updatedAt)!,
  };
}

export const QuoteQuery = z.strictObject({
  quantity: z.coerce.number().int().min(1).max(MAX_QUANTITY).openapi({ example: 2 }),
  at: Instant.optional().openapi({ description: "The moment to price at (default: now)" }),
});
