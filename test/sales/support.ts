import { expect } from "vitest";
import { createTenant, type TenantFixture } from "../helpers/fixtures";
import { createEvent, createVenue, transition } from "../helpers/event-fixtures";
import { call, type CallResult } from "../helpers/http";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const iso = (ms: number) => new Date(ms).toISOString();

/** A valid tier body (EUR 50.00 base, capacity 100). */
export function tierBody(overrides: Record<string, unknown> = {}) {
  return { name: "General admission", capacity: 100, currency: "EUR", priceMinor: 5000, ...overrides };
}

export const tiersPath = (eventId: string) => `/v1/events/${eventId}/tiers`;
export const holdsPath = (eventId: string) => `/v1/events/${eventId}/holds`;

export async function addTier(token: string, eventId: string, overrides: Record<string, unknown> = {}) {
  const res = await call("POST", tiersPath(eventId), { token, body: tierBody(overrides) });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; version: number; capacity: number; inForce: boolean; [k: string]: unknown };
}

/** A tenant, its owner's token and a DRAFT event at a fresh venue. */
export async function salesWorld(eventOverrides: Record<string, unknown> = {}) {
  const tenant = await createTenant();
  const owner = tenant.owner.tokens.accessToken;
  const venue = await createVenue(owner);
  const event = await createEvent(owner, venue.id, eventOverrides);
  return { tenant, owner, venue, event };
}

/** A fresh event of the tenant with one tier, moved to ON_SALE through the status route. */
export async function onSaleEvent(tenant: TenantFixture, tierOverrides: Record<string, unknown> = {}, eventOverrides: Record<string, unknown> = {}) {
  const owner = tenant.owner.tokens.accessToken;
  const venue = await createVenue(owner);
  const event = await createEvent(owner, venue.id, eventOverrides);
  const tier = await addTier(owner, event.id, tierOverrides);
  await transition(owner, event.id, "PUBLISHED", "ON_SALE");
  return { event, tier };
}

export interface HoldOptions {
  key?: string | null;
  headers?: Record<string, string>;
}

/** POST a hold with a fresh Idempotency-Key unless one is given (null: send none). */
export function placeHold(token: string, eventId: string, items: { tierId: string; quantity: number }[], opts: HoldOptions = {}): Promise<CallResult> {
  const key = opts.key === undefined ? crypto.randomUUID() : opts.key;
  const headers = { ...(key === null ? {} : { "idempotency-key": key }), ...opts.headers };
  return call("POST", holdsPath(eventId), { token, headers, body: { items } });
}

export function releaseHold(token: string, eventId: string, holdId: string, key: string = crypto.randomUUID()): Promise<CallResult> {
  return call("DELETE", `${holdsPath(eventId)}/${holdId}`, { token, headers: { "idempotency-key": key } });
}

export const availabilityPath = (slug: string, eventId: string) => `/v1/public/${slug}/events/${eventId}/availability`;

