import { z } from "@hono/zod-openapi";
import { SCOPES } from "../auth/scopes";
import type { ApiKeyRow } from "../db/schema";
import { iso } from "./common";

export const CreateApiKeyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    expiresAt: z.string().datetime().optional().openapi({ description: "Optional expiry; must be in the future" }),
  })
  .openapi("CreateApiKey");

export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKey = ApiKey.extend({
  key: z.string().openapi({ description: "The full key. Shown once; only its hash is stored." }),
}).openapi("CreatedApiKey");

export function toApiKeyDto(k: ApiKeyRow): z.infer<typeof ApiKey> {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    createdAt: iso(k.createdAt)!,
    expiresAt: iso(k.expiresAt),
    revokedAt: iso(k.revokedAt),
    lastUsedAt: iso(k.lastUsedAt),
  };
}
