import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { prepareAudit, type PreparedAudit } from "../../../src/audit/audit";
import { guard, tenantOf } from "../../../src/auth/authenticate";
import { assertCanManageEvent, isTenantAdmin, principalId } from "../../../src/domain/event-access";
import { planStatusChange, type StatusChangeRequest } from "../../../src/domain/event-transitions";
import { commitStatusChange, recordGateIn, retryGatePush } from "../../../src/events/status-change";
import type { AppEnv } from "../../../src/http/context";
import { inBackground } from "../../../src/http/background";
import { AppError } from "../../../src/http/errors";
import { AUTH_ERRORS, BODY_ERRORS, bearerAuth, createRouter, errorResponses, jsonBody } from "../../../src/http/openapi";
import { etagOf, expectedVersion, staleVersion } from "../../../src/http/preconditions";
import { inventoryFor } from "../../../src/inventory/client";
import { drainOutbox } from "../../../src/outbox/drain";
import {
  assertMayOverride,
  EVENT_PROTECTED_FIELDS,
  judgeProtectedChange,
  overrideRecord,
  protectedIn,
  soldByTier,
  totalSold,
} from "../../../src/protection/sold-tickets";
import { IdParam } from "../../../src/schemas/common";
import { Event, StatusChangeBody, toEventDto } from "../../../src/schemas/events";

const EventIdParams = z.strictObject({ eventId: IdParam("eventId") });

export type StatusChangeInput = z.infer<typeof StatusChangeBody>;

export const changeEventStatus = createRoute({
  method: "post",
  path: "/v1/events/{eventId}/status",
  tags: ["Events"],
  security: bearerAuth,
  summary: "Move an event to another status",
  description: [
    "Moves the event along its status machine. Send the version you saw as `If-Match` (its ETag) or `version`.",
    "An illegal move answers 409 INVALID_TRANSITION with `currentStatus` and the `allowed` next states.",
    "Approving or rejecting an event under review (REVIEW → APPROVED / DRAFT) is for owners and admins only; API keys count as non-admins.",
    "RESCHEDULED requires `schedule` (the new times); no other target accepts one.",
    "POSTPONED, RESCHEDULED and CANCELLED email every holder of a valid or checked-in ticket (once per change, however often the message is delivered).",
    "Sold-ticket protection: once tickets are sold (as the event's inventory counts them), a reschedule is refused with",
    "409 PROTECTED_FIELD listing the `fields` it would change, unless a tenant owner or admin sends `override: { reason }`",
    "(10-500 characters), which is audited as event.protected_override next to the status change; the reschedule notice tells the holders.",
    "An override from anyone else is 403 FORBIDDEN; only RESCHEDULED takes one (400 otherwise).",
    "503 DEPENDENCY_UNAVAILABLE when the inventory cannot say what is sold (nothing is changed).",
  ].join(" "),
  middleware: guard({ roles: ["owner", "admin", "organizer"], scopes: ["events:write"] }),
  request: {
    params: EventIdParams,
    headers: z.object({ "if-match": z.string().max(64).optional().openapi({ example: '"v3"' }) }),
    body: jsonBody(StatusChangeBody),
  },
  responses: {
    200: {
      description: "The event after the change",
      headers: z.object({ ETag: z.string().openapi({ example: '"v4"' }) }),
      content: { "application/json": { schema: Event } },
    },
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      "NOT_FOUND",
      "INVALID_TRANSITION",
      "PROTECTED_FIELD",
      "DEPENDENCY_UNAVAILABLE",
      "VERSION_CONFLICT",
      "PRECONDITION_FAILED",
      "PRECONDITION_REQUIRED",
    ),
  },
});

function toRequest(body: StatusChangeInput): StatusChangeRequest {
  const s = body.schedule;
  return {
    to: body.to,
    reason: body.reason,
    override: body.override,
    schedule: s && {
      startsAt: Date.parse(s.startsAt),
      endsAt: Date.parse(s.endsAt),
      doorsOpenAt: s.doorsOpenAt === undefined ? undefined : s.doorsOpenAt === null ? null : Date.parse(s.doorsOpenAt),
    },
  };
}

/** Sends the committed domain event now rather than at the next cron tick. */
const drainAfterResponse = (c: Context<AppEnv>) =>
  inBackground(c, drainOutbox(c.var.db, { notifications: c.var.config.NOTIFICATIONS }, c.var.now()));

export const eventStatusRoutes = createRouter().openapi(changeEventStatus, async (c) => {
  const { principal, db } = tenantOf(c);
  const eventId = c.req.valid("param").eventId;
  const body = c.req.valid("json");
  const version = expectedVersion(c, body.version);

  const event = await db.events.findById(eventId);
  if (!event) throw new AppError("NOT_FOUND", "No such event");
  await assertCanManageEvent(principal, db, event);
  assertMayOverride(principal, body.override);
  if (event.version !== version) throw staleVersion(c, event.version);

  const now = c.var.now();
  const actor = { isAdmin: isTenantAdmin(principal), id: principalId(principal) };
  const planned = planStatusChange(event, toRequest(body), actor, now);
  if (!planned.ok) {
    if (planned.code === "VALIDATION_FAILED") throw new AppError("VALIDATION_FAILED", "The status change is invalid", { errors: planned.errors });
    if (planned.code === "FORBIDDEN") throw new AppError("FORBIDDEN", "Only owners and admins approve or reject an event under review");
    throw new AppError("INVALID_TRANSITION", `An event in ${event.status} cannot move to ${body.to}`, {
      currentStatus: event.status,
      allowed: planned.allowed,
    });
  }

  const plan = planned.plan;

  // Sold-ticket protection: a reschedule moves what holders bought. The reschedule's own
  // notice tells them, so an override adds only its audit entry.
  const extraAudits: PreparedAudit[] = [];
  const protectedFields = protectedIn(EVENT_PROTECTED_FIELDS, plan.scheduleChanges);
  if (protectedFields.length) {
    const sold = totalSold(await soldByTier(inventoryFor(c, principal.tenantId, event.id), event.status));
    const verdict = judgeProtectedChange(protectedFields, sold, body.override, { what: "event", prefix: "body.schedule" });
    if (verdict.overridden) {
      const target = { type: "event" as const, id: event.id, tenantId: principal.tenantId, eventId: event.id };
      extraAudits.push(overrideRecord(c, target, verdict, plan.scheduleChanges, now, { notify: false }).audit);
    }
  }

  const audit = prepareAudit(c, { action: "event.status_changed", targetType: "event", targetId: event.id, details: plan.details }, now);
  const committed = await commitStatusChange(db, event, version, plan, audit, c.var.config.EVENT_INVENTORY, extraAudits);
  if (!committed.row) {
    const current = await db.events.findById(eventId);
    if (!current) throw new AppError("NOT_FOUND", "No such event");
    throw staleVersion(c, current.version);
  }
  if (committed.messages > 0) await drainAfterResponse(c);
  if (committed.gatePushed === false) await inBackground(c, retryGatePush(c.var.config.EVENT_INVENTORY, committed.row, recordGateIn(db)));

  c.header("etag", etagOf(committed.row.version));
  return c.json(toEventDto(committed.row), 200);
});
