import { createRoute, z } from "@hono/zod-openapi";
import { guard, STAFF_ADMINS, tenantOf } from "../../../src/auth/authenticate";
import { decodeCursor } from "../../../src/db/pagination";
import { AUTH_ERRORS, bearerAuth, createRouter, errorResponses, jsonContent } from "../../../src/http/openapi";
import { UUID_PATTERN } from "../../../src/lib/ids";
import { PageQuery, pageOf } from "../../../src/schemas/common";
import { orderRowOut, StaffOrder } from "../../../src/schemas/orders";

const FlaggedOrdersQuery = PageQuery.extend({
  eventId: z.string().regex(UUID_PATTERN, "must be a lowercase UUID").optional(),
});

export const listFlaggedOrdersRoute = createRoute({
  method: "get",
  path: "/v1/orders/flagged",
  tags: ["Orders"],
  security: bearerAuth,
  summary: "Orders flagged for review at checkout, newest first",
  description:
    "Tenant owners and admins, and API keys with `orders:read`. An order is flagged when checkout raised risk signals " +
    "(`flags`: new_account, velocity, bulk, shared_ip; docs/adr/0009-fraud-signals.md). Flags never block a sale: " +
    "they ask a person to look, and refunds or bans are theirs to decide. From the order records, which follow the " +
    "inventory within moments of each sale.",
  middleware: guard({ roles: STAFF_ADMINS, scopes: ["orders:read"] }),
  request: { query: FlaggedOrdersQuery },
  responses: {
    200: jsonContent(pageOf(StaffOrder, "FlaggedOrderPage"), "A page of flagged orders"),
    ...errorResponses(...AUTH_ERRORS, "VALIDATION_FAILED"),
  },
});

export const fraudRoutes = createRouter().openapi(listFlaggedOrdersRoute, async (c) => {
  const { db } = tenantOf(c);
  const q = c.req.valid("query");
  const page = await db.orders.listFlagged({
    limit: q.limit,
    cursor: decodeCursor(q.cursor),
    ...(q.eventId ? { eventId: q.eventId } : {}),
  });
  const items = await db.orders.withTickets(page.items);
  return c.json({ items: items.map((o) => ({ ...orderRowOut(o), buyerId: o.buyerId, flags: o.flags })), nextCursor: page.nextCursor }, 200);
});
