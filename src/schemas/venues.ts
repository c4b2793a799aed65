import { z } from "@hono/zod-openapi";
import type { VenueRow } from "../db/schema";
import { IdParam, iso, PageQuery } from "./common";
import { TimeZone } from "./events";

const regionNames = new Intl.DisplayNames(["en"], { type: "region" });

/** Two capitals naming a region ICU knows: "DE" yes; "de", "DEU", "XX", "ZZ" no. */
function isCountryCode(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code)) return false;
  const name = regionNames.of(code);
  return name !== undefined && name !== code && name !== "Unknown Region";
}

const venueFieldShape = {
  name: z.string().trim().min(1).max(200),
  addressLine1: z.string().trim().min(1).max(200),
  addressLine2: z.string().trim().max(200).nullable(),
  city: z.string().trim().min(1).max(100),
  region: z.string().trim().max(100).nullable(),
  postalCode: z.string().trim().max(20).nullable(),
  country: z
    .string()
    .refine(isCountryCode, "must be an ISO 3166-1 alpha-2 country code in capitals, e.g. DE")
    .openapi({ pattern: "^[A-Z]{2}$", example: "DE" }),
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

export const VenueIdParams = z.strictObject({ venueId: IdParam("venueId") });
export const VenueAccessParams = z.strictObject({ venueId: IdParam("venueId"), userId: IdParam("userId") });

/** DELETE has no body: the version comes from If-Match or this query parameter. */
export const DeleteVenueQuery = z.strictObject({
  version: z.coerce.number().int().min(1).max(1_000_000_000).optional().openapi({
    description: "The version being deleted (alternative to If-Match)",
  }),
});

export const VenueListQuery = PageQuery;

export const VenueAccessGrant = z
  .object({
    venueId: z.string(),
    userId: z.string(),
    grantedBy: z.string().openapi({ description: "User id of the granting admin, or api_key:<keyId>" }),
    createdAt: z.string(),
  })
  .openapi("VenueAccessGrant");

export function toVenueAccessDto(g: { venueId: string; userId: string; grantedBy: string; createdAt: number }): z.infer<typeof VenueAccessGrant> {
  return { venueId: g.venueId, userId: g.userId, grantedBy: g.grantedBy, createdAt: iso(g.createdAt)! };
}
