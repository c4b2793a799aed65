import { z } from "@hono/zod-openapi";
import type { AuditRow } from "../db/schema";
import { iso, PageQuery } from "./common";

export const EventHistoryQuery = PageQuery;

/**
 * One entry of an event's history: an audit entry without the request's network details
 * (ip, user agent), which scanners and organizers have no business seeing; the full
 * entry stays in the tenant audit log for admins.
 */
export const EventHistoryEntry = z
  .object({
    id: z.string(),
    action: z.string().openapi({ example: "event.updated" }),
    actorType: z.string(),
    actorId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable().openapi({
      description: "event.updated: { changes: { <field>: { from, to } } } listing only the fields that changed",
    }),
    createdAt: z.string(),
  })
  .openapi("EventHistoryEntry");

export function toHistoryDto(r: AuditRow): z.infer<typeof EventHistoryEntry> {
  return { id: r.id, action: r.action, actorType: r.actorType, actorId: r.actorId, details: r.details ?? null, createdAt: iso(r.createdAt)! };
}
