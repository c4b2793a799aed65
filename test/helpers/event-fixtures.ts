import { expect } from "vitest";
import { call } from "./http";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Creates a venue through the API (owner/admin token or a venues:write key). */
export async function createVenue(token: string, overrides: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/venues", {
    token,
    body: {
      name: "Hall One",
      addressLine1: "1 Main Street",
      city: "Berlin",
      country: "DE",
      timezone: "Europe/Berlin",
      capacity: 500,
      ...overrides,
    },
  });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; version: number; timezone: string };
}

/** A valid create-event body starting `startsInDays` from now, 3 hours long. */
export function eventBody(venueId: string, overrides: Record<string, unknown> = {}, startsInDays = 30) {
  const starts = Date.now() + startsInDays * DAY;
  return {
    name: `Concert ${Math.random().toString(36).slice(2, 8)}`,
    venueId,
    startsAt: new Date(starts).toISOString(),
    endsAt: new Date(starts + 3 * HOUR).toISOString(),
    ...overrides,
  };
}

export async function createEvent(token: string, venueId: string, overrides: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/events", { token, body: eventBody(venueId, overrides) });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; version: number; status: string; slug: string; [k: string]: unknown };
}

/** Moves an event through statuses with POST /v1/events/{id}/status, returning the last body. */
export async function transition(token: string, eventId: string, ...path: string[]) {
  let body: any;
  for (const to of path) {
    const current = await call("GET", `/v1/events/${eventId}`, { token });
    expect(current.status, current.text).toBe(200);
    const res = await call("POST", `/v1/events/${eventId}/status`, {
      token,
      body: { to, reason: `test moves to ${to}`, version: current.body.version },
    });
    expect(res.status, res.text).toBe(200);
    body = res.body;
  }
  return body;
}
