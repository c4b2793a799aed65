import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { EventStatus } from "../../src/db/schema";
import { createApp } from "../../workers/api/app";
import { createTenant, platformKey, type TenantFixture } from "../helpers/fixtures";
import { createEvent, createVenue, transition } from "../helpers/event-fixtures";
import { BASE_URL, call, readResult, type CallResult } from "../helpers/http";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/**
 * The real app with a clock the test sets. Requests wait for the response's waitUntil work
 * (the cache write), so "the next request is a HIT" is deterministic, not a race.
 */
let clockOffset = 0;
const app = createApp({ clock: () => Date.now() + clockOffset });

export async function getPublic(path: string, opts: { headers?: Record<string, string>; at?: number } = {}): Promise<CallResult> {
  clockOffset = opts.at === undefined ? 0 : opts.at - Date.now();
  const ctx = createExecutionContext();
  try {
    const res = await app.request(`${BASE_URL}${path}`, { method: "GET", headers: opts.headers ?? {} }, env, ctx);
    const result = await readResult(res);
    await waitOnExecutionContext(ctx);
    return result;
  } finally {
    clockOffset = 0;
  }
}

/** Lists a tenant's catalogue and returns the event ids in order. */
export async function listedIds(slug: string, query = ""): Promise<string[]> {
  const res = await getPublic(`/v1/public/${slug}/events${query ? `?${query}` : ""}`);
  expect(res.status, res.text).toBe(200);
  return (res.body.items as { id: string }[]).map((e) => e.id);
}

export interface CatalogueWorld {
  tenant: TenantFixture;
  /** The owner's access token. */
  token: string;
  venueId: string;
}

/** A fresh tenant with one venue, made through the API. */
export async function catalogueWorld(): Promise<CatalogueWorld> {
  const tenant = await createTenant();
  const token = tenant.owner.tokens.accessToken;
  return { tenant, token, venueId: (await createVenue(token)).id };
}

export interface SeedOptions {
  name?: string;
  startsInHours?: number;
  durationHours?: number;
  visibility?: "PUBLIC" | "UNLISTED" | "PRIVATE";
  tags?: string[];
  venueId?: string;
  /** Statuses to walk through from DRAFT with POST /v1/events/{id}/status (default: published). */
  path?: EventStatus[];
  deleted?: boolean;
}

export interface SeededEvent {
  id: string;
  name: string;
  version: number;
}

/** An event created through the API (DRAFT), moved along `path`, optionally deleted. */
export async function seedEvent(w: CatalogueWorld, o: SeedOptions = {}): Promise<SeededEvent> {
  const startsAt = Date.now() + (o.startsInHours ?? 24 * 30) * HOUR;
  const created = await createEvent(w.token, o.venueId ?? w.venueId, {
    ...(o.name ? { name: o.name } : {}),
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(startsAt + (o.durationHours ?? 3) * HOUR).toISOString(),
    visibility: o.visibility ?? "PUBLIC",
    tags: o.tags ?? [],
    description: "A night out",
    metadata: { internalNote: "do-not-leak" },
    royaltyBps: 500,
    priorityScore: 7,
  });
  let event: SeededEvent = { id: created.id, name: created.name as string, version: created.version };
  const path = o.path ?? ["PUBLISHED"];
  if (path.length > 0) {
    const moved = await transition(w.token, created.id, ...path);
    event = { ...event, version: moved.version };
  }
  if (o.deleted) {
    const res = await call("DELETE", `/v1/events/${created.id}?version=${event.version}`, { token: w.token });
    expect(res.status, res.text).toBe(204);
  }
  return event;
}

/** PATCH /v1/events/{id}: an ordinary staff edit. */
export async function editEvent(w: CatalogueWorld, eventId: string, changes: { name?: string; visibility?: "PUBLIC" | "UNLISTED" | "PRIVATE" }) {
  const current = await call("GET", `/v1/events/${eventId}`, { token: w.token });
  expect(current.status, current.text).toBe(200);
  const res = await call("PATCH", `/v1/events/${eventId}`, { token: w.token, body: { ...changes, version: current.body.version } });
  expect(res.status, res.text).toBe(200);
  return res.body as SeededEvent;
}

export async function setTenantStatus(tenant: TenantFixture, action: "suspend" | "reactivate") {
  const res = await call("POST", `/v1/platform/tenants/${tenant.id}/${action}`, {
    token: platformKey(),
    ...(action === "suspend" ? { body: { reason: "catalogue test" } } : {}),
  });
  expect(res.status, res.text).toBe(200);
}

/** The problem body minus what legitimately differs per request. */
export function comparable(body: Record<string, unknown>) {
  const { requestId: _r, instance: _i, ...rest } = body;
  return rest;
}
