import { createRoute, z } from "@hono/zod-openapi";
import { guard, tenantOf, userOf } from "../../../src/auth/authenticate";
import { ROLES } from "../../../src/db/schema";
import { findEvent } from "../../../src/domain/event-writes";
import { admitHold, HOLD_VELOCITY } from "../../../src/fraud";
import { idempotencyKeyOf, requestHash, requireIdempotencyKey, scopedIdempotencyKey } from "../../../src/http/idempotency";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody, jsonContent } from "../../../src/http/openapi";
import { inventoryFor, onVisibleEvent, rpc, settle, unwrap } from "../../../src/inventory/client";
import { DEFAULT_HOLD_TTL_MS, type HoldDto, type IdempotentOutcome, type InventoryResult, type NotVisible } from "../../../src/inventory/contract";
import { IdParam } from "../../../src/schemas/common";
import { CreateHoldBody, Hold, IdempotencyKeyHeader, toHoldDto } from "../../../src/schemas/holds";

const tags = ["Holds"];
/** Buyers are people: every signed-in user may hold tickets for themself; API keys may not. */
const buyer = guard({ roles: ROLES });

const EventParams = z.strictObject({ eventId: IdParam("eventId") });
const HoldParams = z.strictObject({ eventId: IdParam("eventId"), holdId: IdParam("holdId") });
const replayed = {
  "Idempotency-Replayed": { description: "`true` when this is the stored answer to an earlier request with the same key", schema: { type: "string" as const } },
};
const IDEMPOTENCY_ERRORS = ["IDEMPOTENCY_KEY_MISSING", "IDEMPOTENCY_KEY_MALFORMED", "IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_IN_FLIGHT"] as const;
const IDEMPOTENCY =
  "Requires an Idempotency-Key. A retry with the same key and body gets the first answer again, refusals included, with " +
  "`Idempotency-Replayed: true`; the same key with another body is 422 IDEMPOTENCY_KEY_REUSED; while the first request " +
  "is still processed, 409 IDEMPOTENCY_IN_FLIGHT with Retry-After. Keys are scoped to tenant and caller and kept 24 hours " +
  "(docs/adr/0006-event-inventory-durable-object.md). After a 503, retry with the same key.";
const VELOCITY =
  `Hold attempts are rate limited per buyer (${HOLD_VELOCITY.account.limit} per ${HOLD_VELOCITY.account.windowMs / 1000} s) ` +
  `and per client address (${HOLD_VELOCITY.ip.limit} per ${HOLD_VELOCITY.ip.windowMs / 1000} s, across the tenant's buyers): ` +
  "over either, 429 HOLD_RATE_LIMITED with Retry-After, the seconds until the window frees (`limitedBy`: account or ip). " +
  "Every attempt that reaches the inventory counts, refused ones and retries with the same key included; a 429 does not " +
  "(docs/adr/0009-fraud-signals.md).";

export const createHoldRoute = createRoute({
  method: "post",
  path: "/v1/events/{eventId}/holds",
  tags,
  security: bearerAuth,
  summary: "Hold tickets of one or more tiers, with the price quoted and locked now",
  description:
    `The hold expires after HOLD_TTL_SECONDS (default ${DEFAULT_HOLD_TTL_MS / 60_000} minutes) unless checked out, and its tickets go back on sale. ` +
    "Checked in this order, the first failing rule answering: the event is ON_SALE (409 EVENT_NOT_ON_SALE) and inside its " +
    "sales window (409 OUTSIDE_SALES_WINDOW), each tier exists (422 UNKNOWN_TIER) and is inside its own window, each " +
    "quantity is within the tier's per-order limits (422 QUANTITY_OUT_OF_RANGE), the tiers share a currency, the buyer " +
    "stays within each tier's per-buyer limit (409 BUYER_LIMIT_EXCEEDED), and enough tickets are left (409 SOLD_OUT). " +
    `Nothing is held unless every line can be. ${IDEMPOTENCY} ${VELOCITY}`,
  middleware: [...buyer, requireIdempotencyKey],
  request: { params: EventParams, headers: IdempotencyKeyHeader, body: jsonBody(CreateHoldBody) },
  responses: {
    201: {
      ...jsonContent(Hold, "Held"),
      headers: { ...replayed, Location: { description: "The hold's URL", schema: { type: "string" as const } } },
    },
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      ...IDEMPOTENCY_ERRORS,
      "NOT_FOUND",
      "EVENT_NOT_ON_SALE",
      "OUTSIDE_SALES_WINDOW",
      "UNKNOWN_TIER",
      "QUANTITY_OUT_OF_RANGE",
      "CURRENCY_MISMATCH",
      "BUYER_LIMIT_EXCEEDED",
      "SOLD_OUT",
      "HOLD_RATE_LIMITED",
      "DEPENDENCY_UNAVAILABLE",
    ),
  },
});

export const getHoldRoute = createRoute({
  method: "get",
  path: "/v1/events/{eventId}/holds/{holdId}",
  tags,
  security: bearerAuth,
  summary: "One of your holds",
  description: "Only the buyer sees a hold; anyone else's answers 404 HOLD_NOT_FOUND, like a missing one.",
  middleware: buyer,
  request: { params: HoldParams },
  responses: { 200: jsonContent(Hold, "The hold"), ...errorResponses(...AUTH_ERRORS, "NOT_FOUND", "HOLD_NOT_FOUND", "DEPENDENCY_UNAVAILABLE") },
});

export const releaseHoldRoute = createRoute({
  method: "delete",
  path: "/v1/events/{eventId}/holds/{holdId}",
  tags,
  security: bearerAuth,
  summary: "Release one of your holds: its tickets go back on sale",
  description: `Releasing a released hold answers it again; an expired one is 410 HOLD_EXPIRED. ${IDEMPOTENCY}`,
  middleware: [...buyer, requireIdempotencyKey],
  request: { params: HoldParams, headers: IdempotencyKeyHeader },
  responses: {
    200: { ...jsonContent(Hold, "The released hold"), headers: replayed },
    ...errorResponses(...AUTH_ERRORS, ...IDEMPOTENCY_ERRORS, "NOT_FOUND", "HOLD_NOT_FOUND", "HOLD_EXPIRED", "HOLD_CONVERTED", "DEPENDENCY_UNAVAILABLE"),
  },
});

export const holdRoutes = createRouter()
  .openapi(createHoldRoute, async (c) => {
    const buyerP = userOf(c, "API keys cannot hold tickets");
    const body = c.req.valid("json");
    const key = idempotencyKeyOf(c);
    const { eventId } = c.req.valid("param");
    // The velocity limit comes first: an attempt counts whatever the event and the inventory
    // answer, and a 429 wins over a 404. The event's visibility (404 for a missing, foreign
    // or, to buyers, unlisted event) is the DO's gate, or D1 when the gate cannot tell.
    await admitHold(c, buyerP);
    const path = `/v1/events/${eventId}/holds`;
    const req = {
      scopedKey: scopedIdempotencyKey(buyerP.tenantId, buyerP.userId, key),
      requestHash: await requestHash("POST", path, body),
      buyerId: buyerP.userId,
      items: body.items,
      now: c.var.now(),
      ttlMs: c.var.config.HOLD_TTL_SECONDS * 1000,
    };
    const stub = inventoryFor(c, buyerP.tenantId, eventId);
    const outcome = await onVisibleEvent(c, buyerP, eventId, {
      ifPublic: () => rpc<IdempotentOutcome<HoldDto> | NotVisible>("hold", stub.holdIfPublic(req)),
      plain: () => rpc<IdempotentOutcome<HoldDto>>("hold", stub.hold(req)),
    });
    const hold = settle(c, outcome);
    c.header("location", `${path}/${hold.holdId}`);
    return c.json(toHoldDto(hold), 201);
  })
  .openapi(getHoldRoute, async (c) => {
    const buyerP = userOf(c, "API keys cannot hold tickets");
    const { eventId, holdId } = c.req.valid("param");
    const event = await findEvent(tenantOf(c).db, eventId);
    const result = await rpc<InventoryResult<HoldDto>>("getHold", inventoryFor(c, buyerP.tenantId, event.id).getHold(holdId, buyerP.userId));
    return c.json(toHoldDto(unwrap(result)), 200);
  })
  .openapi(releaseHoldRoute, async (c) => {
    const buyerP = userOf(c, "API keys cannot hold tickets");
    const { eventId, holdId } = c.req.valid("param");
    const key = idempotencyKeyOf(c);
    const event = await findEvent(tenantOf(c).db, eventId);
    const path = `/v1/events/${event.id}/holds/${holdId}`;
    const outcome = await rpc<IdempotentOutcome<HoldDto>>(
      "release",
      inventoryFor(c, buyerP.tenantId, event.id).release({
        scopedKey: scopedIdempotencyKey(buyerP.tenantId, buyerP.userId, key),
        requestHash: await requestHash("DELETE", path, null),
        buyerId: buyerP.userId,
        holdId,
        now: c.var.now(),
      }),
    );
    return c.json(toHoldDto(settle(c, outcome)), 200);
  });
