import { createRoute, z } from "@hono/zod-openapi";
import { audit } from "../../../src/audit/audit";
import { generateApiKey } from "../../../src/auth/api-key-format";
import { guard, STAFF_ADMINS, tenantOf } from "../../../src/auth/authenticate";
import { decodeCursor } from "../../../src/db/pagination";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { uuidv7 } from "../../../src/lib/ids";
import { ApiKey, CreateApiKeyBody, CreatedApiKey, toApiKeyDto } from "../../../src/schemas/api-keys";
import { IdParam, PageQuery, pageOf } from "../../../src/schemas/common";

const tags = ["API keys"];
// Keys are managed by people (owners/admins); a key cannot mint or revoke keys.
const admins = guard({ roles: STAFF_ADMINS });
const KeyParams = z.strictObject({ keyId: IdParam("keyId") });

export const createApiKey = createRoute({
  method: "post",
  path: "/v1/api-keys",
  tags,
  security: bearerAuth,
  summary: "Create an API key (the secret is shown once)",
  middleware: admins,
  request: { body: jsonBody(CreateApiKeyBody) },
  responses: { 201: jsonContent(CreatedApiKey, "Created"), ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS) },
});

export const listApiKeys = createRoute({
  method: "get",
  path: "/v1/api-keys",
  tags,
  security: bearerAuth,
  summary: "List API keys (never the secrets)",
  middleware: admins,
  request: { query: PageQuery },
  responses: { 200: jsonContent(pageOf(ApiKey, "ApiKeyPage"), "A page of keys"), ...errorResponses(...AUTH_ERRORS) },
});

export const revokeApiKey = createRoute({
  method: "delete",
  path: "/v1/api-keys/{keyId}",
  tags,
  security: bearerAuth,
  summary: "Revoke an API key; it stops working at once",
  middleware: admins,
  request: { params: KeyParams },
  responses: { 204: { description: "Revoked (idempotent)" }, ...errorResponses(...AUTH_ERRORS, "NOT_FOUND") },
});

export const apiKeyRoutes = createRouter()
  .openapi(createApiKey, async (c) => {
    const { principal, db } = tenantOf(c);
    const body = c.req.valid("json");
    const now = c.var.now();
    const expiresAt = body.expiresAt ? Date.parse(body.expiresAt) : null;
    if (expiresAt !== null && expiresAt <= now) {
      throw new AppError("VALIDATION_FAILED", "expiresAt must be in the future", {
        errors: [{ field: "body.expiresAt", message: "must be in the future" }],
      });
    }
    const { key, prefix, hash } = await generateApiKey();
    const row = {
      id: uuidv7(now),
      name: body.name,
      prefix,
      keyHash: hash,
      scopes: [...new Set(body.scopes)],
      createdBy: principal.kind === "user" ? principal.userId : principal.keyId,
      expiresAt,
      createdAt: now,
    };
    await db.apiKeys.insert(row);
    await audit(c, db, { action: "api_key.created", targetType: "api_key", targetId: row.id, details: { name: row.name, prefix, scopes: row.scopes } });
    c.header("location", `/v1/api-keys/${row.id}`);
    return c.json({ ...toApiKeyDto({ ...row, tenantId: principal.tenantId, revokedAt: null, lastUsedAt: null }), key }, 201);
  })
  .openapi(listApiKeys, async (c) => {
    const q = c.req.valid("query");
    const page = await tenantOf(c).db.apiKeys.list({ limit: q.limit, cursor: decodeCursor(q.cursor) });
    return c.json({ items: page.items.map(toApiKeyDto), nextCursor: page.nextCursor }, 200);
  })
  .openapi(revokeApiKey, async (c) => {
    const { db } = tenantOf(c);
    const { keyId } = c.req.valid("param");
    const key = await db.apiKeys.findById(keyId);
    if (!key) throw new AppError("NOT_FOUND", "No such API key");
    if (await db.apiKeys.revoke(keyId, c.var.now())) {
      await audit(c, db, { action: "api_key.revoked", targetType: "api_key", targetId: keyId, details: { prefix: key.prefix } });
    }
    return c.body(null, 204);
  });
