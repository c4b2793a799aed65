import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createDb, verifiedTenantId } from "../../src/db/client";
import type { NewEvent } from "../../src/db/repositories/events";
import type { AuditRow, EventRow, OutboxRow } from "../../src/db/schema";
import { TenantDb } from "../../src/db/tenant-db";
import { uuidv7 } from "../../src/lib/ids";
import { call, type CallResult } from "../helpers/http";

/**
 * Events for the status tests, written through the tenant-scoped repositories so a test
 * can start an event in any status with any times (the routes only reach most states
 * through a sequence of changes, and only at the real time).
 */

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const tenantDb = (tenantId: string) => new TenantDb(createDb(env.DB), verifiedTenantId(tenantId));

export async function seedVenue(tenantId: string, createdBy: string) {
  const now = Date.now();
  return tenantDb(tenantId).venues.create({
    id: uuidv7(now),
    name: "Hall One",
    addressLine1: "1 Main Street",
    addressLine2: null,
    city: "Berlin",
    region: null,
    postalCode: null,
    country: "DE",
    timezone: "Europe/Berlin",
    capacity: 500,
    createdBy,
    createdAt: now,
  });
}

export interface SeedOptions extends Partial<Omit<NewEvent, "id" | "createdBy">> {
  /** An existing venue of the tenant; a new one otherwise. */
  venueId?: string;
}

/** An event created by `createdBy`, by default a DRAFT starting in 30 days and lasting 3 hours. */
export async function seedEvent(tenantId: string, createdBy: string, opts: SeedOptions = {}): Promise<EventRow> {
  const now = Date.now();
  const venueId = opts.venueId ?? (await seedVenue(tenantId, createdBy)).id;
  const id = uuidv7(now);
  const startsAt = opts.startsAt ?? now + 30 * DAY;
  const row: NewEvent = {
    id,
    venueId,
    slug: `event-${id.slice(-12)}`,
    name: "Concert",
    description: null,
    shortDescription: null,
    status: "DRAFT",
    visibility: "PUBLIC",
    isFeatured: false,
    priorityScore: 0,
    bannerImageUrl: null,
    thumbnailImageUrl: null,
    tags: [],
    primaryCategoryId: null,
    ageRestriction: null,
    dressCode: null,
    cancellationPolicy: null,
    refundPolicy: null,
    metaTitle: null,
    metaDescription: null,
    metadata: {},
    timezone: "Europe/Berlin",
    endsAt: startsAt + 3 * HOUR,
    doorsOpenAt: null,
    salesStartAt: null,
    salesEndAt: null,
    royaltyBps: 0,
    createdAt: now,
    ...opts,
    startsAt,
    createdBy,
  };
  return tenantDb(tenantId).events.create(row, {
    id: uuidv7(now),
    createdAt: now,
    entry: {
      actorType: "user",
      actorId: createdBy,
      action: "event.created",
      targetType: "event",
      targetId: id,
      requestId: null,
      ip: null,
      userAgent: null,
      details: null,
    },
  });
}

export async function readEvent(tenantId: string, eventId: string): Promise<EventRow> {
  const row = await tenantDb(tenantId).events.findById(eventId);
  expect(row, `event ${eventId}`).toBeDefined();
  return row!;
}

/** The event's status changes in the audit log, oldest first. */
export async function statusHistory(tenantId: string, eventId: string): Promise<AuditRow[]> {
  const page = await tenantDb(tenantId).audit.list({ limit: 100, targetId: eventId, action: "event.status_changed" });
  return page.items.reverse();
}

export async function outboxRows(eventId: string): Promise<OutboxRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM outbox WHERE json_extract(body, '$.eventId') = ? ORDER BY created_at, id")
    .bind(eventId)
    .all<Record<string, unknown>>();
  return results.map((r) => ({
    id: r.id as string,
    tenantId: r.tenant_id as string,
    topic: r.topic as OutboxRow["topic"],
    body: JSON.parse(r.body as string),
    attempts: r.attempts as number,
    lastError: r.last_error as string | null,
    createdAt: r.created_at as number,
    sentAt: r.sent_at as number | null,
  }));
}

export async function pendingOutboxCount(): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL").first<{ n: number }>();
  return row!.n;
}

export async function eventNotifications(eventId: string) {
  const { results } = await env.DB.prepare("SELECT * FROM event_notifications WHERE event_id = ? ORDER BY processed_at").bind(eventId).all();
  return results;
}

export interface StatusBody {
  to: string;
  reason?: string;
  version?: number;
  schedule?: Record<string, unknown>;
}

export const statusPath = (eventId: string) => `/v1/events/${eventId}/status`;

/** POST /v1/events/{id}/status through the real worker. */
export function changeStatus(token: string, eventId: string, body: StatusBody, headers: Record<string, string> = {}): Promise<CallResult> {
  return call("POST", statusPath(eventId), { token, headers, body: { reason: `moving to ${body.to}`, ...body } });
}

/** Walks an event through statuses with the route, each change on the version it just got. */
export async function walk(token: string, tenantId: string, eventId: string, ...path: string[]): Promise<EventRow> {
  for (const to of path) {
    const { version } = await readEvent(tenantId, eventId);
    const res = await changeStatus(token, eventId, { to, version });
    expect(res.status, res.text).toBe(200);
  }
  return readEvent(tenantId, eventId);
}
