import { z } from "@hono/zod-openapi";
import type { VenueRow } from "../db/schema";
import { iso } from "./common";
import { TimeZone } from "./events";

const venueFieldShape = {
  name: z.string().trim().min(1).max(200),
  addressLine1: z.string().trim().min(1).max(200),
  addressLine2: z.string().trim().max(200).nullable(),
  city: z.string().trim().min(1).max(100),
  region: z.string().trim().max(100).nullable(),
  postalCode: z.string().trim().max(20).nullable(),
  country: z.string().regex(/^[A-Z]{2}$/, "ISO 3166-1 alpha-2 code, e.g. DE"),
  timezone: TimeZone,
  capacity: z.number().int().min(1).max(1_000_000),
};
const V = venueFieldShape;

export const CreateVenueBody = z
  .strictObject({
    name: V.name,
    addressLine1: V.addressLine1,
    addressLine2: V.addressLine2.optional(),
    city: V.city,
    region: V.region.optional(),
    postalCode: V.postalCode.optional(),
    country: V.country,
    timezone: V.timezone,
    capacity: V.capacity,
  })
  .openapi("CreateVenue");

export const UpdateVenueBody = z
  .strictObject({
    ...Object.fromEntries(Object.entries(V).map(([k, v]) => [k, (v as z.ZodType).optional()])),
    version: z.number().int().min(1).max(1_000_000_000).optional(),
  } as { [K in keyof typeof V]: z.ZodOptional<(typeof V)[K]> } & { version: z.ZodOptional<z.ZodNumber> })
  .refine((b) => Object.keys(b).some((k) => k !== "version"), "send at least one field to change")
  .openapi("UpdateVenue");

export const Venue = z
  .object({
    id: z.string(),
    name: z.string(),
    addressLine1: z.string(),
    addressLine2: z.string().nullable(),
    city: z.string(),
    region: z.string().nullable(),
    postalCode: z.string().nullable(),
    country: z.string(),
    timezone: z.string(),
    capacity: z.number().int(),
    version: z.number().int(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Venue");

export function toVenueDto(v: VenueRow): z.infer<typeof Venue> {
  return {
    id: v.id,
    name: v.name,
    addressLine1: v.addressLine1,
    addressLine2: v.addressLine2,
    city: v.city,
    region: v.region,
    postalCode: v.postalCode,
    country: v.country,
    timezone: v.timezone,
    capacity: v.capacity,
    version: v.version,
    createdBy: v.createdBy,
    createdAt: iso(v.createdAt)!,
    updatedAt: iso(v.updatedAt)!,
  };
}
