import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createDb, verifiedTenantId } from "../../src/db/client";
import type { EventStatus, VenueRow } from "../../src/db/schema";
import { TenantDb } from "../../src/db/tenant-db";
import { uuidv7 } from "../../src/lib/ids";
import { createApp } from "../../workers/api/app";
import { createTenant, type TenantFixture } from "../helpers/fixtures";
import { BASE_URL, call, readResult, requestInit, type CallOptions, type CallResult } from "../helpers/http";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const iso = (ms: number) => new Date(ms).toISOString();

export const tenantDb = (tenantId: string) => new TenantDb(createDb(env.DB), verifiedTenantId(tenantId));

/**
 * A venue written straight to D1. The events tests do not depend on the venue routes
 * (a sibling's work); they only need a row the event routes can point at.
 */
export async function seedVenue(tenantId: string, createdBy: string, overrides: Partial<VenueRow> = {}): Promise<VenueRow> {
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
    ...overrides,
  });
}

export async function grantVenueAccess(tenant: TenantFixture, venueId: string, userId: string) {
  await tenantDb(tenant.id).venues.grant(venueId, userId, tenant.owner.id, Date.now());
}

export async function revokeVenueAccess(tenant: TenantFixture, venueId: string, userId: string) {
  await tenantDb(tenant.id).venues.revoke(venueId, userId);
}

/** Puts an event into a status without the status route (another issue's work); bumps the version like any write. */
export async function forceStatus(eventId: string, status: EventStatus) {
  await env.DB.prepare("UPDATE events SET status = ?, version = version + 1 WHERE id = ?").bind(status, eventId).run();
}

/** A tenant with its owner logged in and one venue. */
export async function eventsWorld() {
  const tenant = await createTenant();
  const venue = await seedVenue(tenant.id, tenant.owner.id);
  return { tenant, owner: tenant.owner.tokens.accessToken, venue };
}

/** A valid create body: starts `startsInDays` from now, 3 hours long. */
export function validEvent(venueId: string, overrides: Record<string, unknown> = {}, startsInDays = 30) {
  const starts = Date.UTC(2030, 0, 1, 19) + startsInDays * DAY;
  return { name: `Concert ${Math.random().toString(36).slice(2, 8)}`, venueId, startsAt: iso(starts), endsAt: iso(starts + 3 * HOUR), ...overrides };
}

export async function postEvent(token: string, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/events", { token, body });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; version: number; slug: string; startsAt: string; endsAt: string; [field: string]: any };
}

export const ifMatch = (version: number) => ({ "if-match": `"v${version}"` });

export const patch = (token: string, id: string, body: Record<string, unknown>, version?: number) =>
  call("PATCH", `/v1/events/${id}`, { token, body, headers: version === undefined ? {} : ifMatch(version) });

export const put = (token: string, id: string, body: Record<string, unknown>, version?: number) =>
  call("PUT", `/v1/events/${id}`, { token, body, headers: version === undefined ? {} : ifMatch(version) });

/**
 * A fresh app whose clock the test moves: requests made through it are stamped with
 * distinct, increasing times, so ordering by time (history) is deterministic.
 */
export function clockedApi(start = Date.now()) {
  let now = start;
  const app = createApp({ clock: () => now });
  return {
    advance(ms = 1000) {
      now += ms;
    },
    now: () => now,
    async call(method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
      const ctx = createExecutionContext();
      const res = await app.request(`${BASE_URL}${path}`, requestInit(method, opts), env, ctx);
      const result = await readResult(res);
      await waitOnExecutionContext(ctx);
      return result;
    },
  };
}
