import { z } from "@hono/zod-openapi";
import { UUID_PATTERN } from "../lib/ids";

export const IdParam = (name: string) =>
  z.string().regex(UUID_PATTERN, "must be a lowercase UUID").openapi({ param: { name, in: "path" }, example: "01938a3c-6f1e-7c2a-9d4b-2f5e8a7c1b3d" });

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: "must be an email address" }));

export const TenantSlug = z
  .string()
  .min(3)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and inner hyphens only")
  .openapi({ example: "demo" });

/** Length bounds only; strength rules are checked separately to give WEAK_PASSWORD. */
export const Password = z.string().min(1).max(128);

export const PersonName = z.string().trim().min(1).max(120);

export const Timestamp = z.string().datetime().openapi({ example: "2026-11-21T10:00:00.000Z" });

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(512).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The optional If-Match request header of versioned writes (src/http/preconditions.ts). */
export const IfMatchHeader = z.object({
  "if-match": z.string().max(64).optional().openapi({ description: 'The ETag being updated, e.g. "v3" (or send `version`)' }),
});
