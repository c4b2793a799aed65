import type { z } from "@hono/zod-openapi";
import type { EventRow, VenueRow } from "../db/schema";
import { type CreateEventBody, eventFieldShape, type PatchEventBody, toEventDto } from "../schemas/events";

/**
 * Pure shaping of event edits: request bodies → row values, PUT's defaults, PATCH's
 * merge, and the before/after diff recorded in the history. No bindings, no clock.
 */

export type CreateEventInput = z.infer<typeof CreateEventBody>;
export type PatchEventInput = z.infer<typeof PatchEventBody>;

/** The fields a client edits. Status, version and bookkeeping are not among them. */
export type EditableField = keyof typeof eventFieldShape;
export const EDITABLE_FIELDS = Object.keys(eventFieldShape) as EditableField[];
export type EditableValues = Pick<EventRow, EditableField>;

const INSTANT_FIELDS = new Set<string>(["startsAt", "endsAt", "doorsOpenAt", "salesStartAt", "salesEndAt"]);

/** API values → row values: instants (ISO strings with offset) become epoch ms; undefined keys are dropped. */
export function toRowValues(input: Record<string, unknown>): Partial<EditableValues> {
  const out: Record<string, unknown> = {};
  for (const field of EDITABLE_FIELDS) {
    const v = input[field];
    if (v === undefined) continue;
    out[field] = INSTANT_FIELDS.has(field) && typeof v === "string" ? Date.parse(v) : v;
  }
  return out as Partial<EditableValues>;
}

/** What an optional field is when a create or PUT omits it. */
export function defaultValues(venue: Pick<VenueRow, "timezone">): Omit<EditableValues, "name" | "slug" | "venueId" | "startsAt" | "endsAt"> {
  return {
    description: null,
    shortDescription: null,
    visibility: "PUBLIC",
    isFeatured: false,
    allowTransfers: true,
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
    timezone: venue.timezone,
    doorsOpenAt: null,
    salesStartAt: null,
    salesEndAt: null,
    royaltyBps: 0,
  };
}

/**
 * The row a PUT asks for: every omitted optional field back to its default (the time
 * zone to the — possibly new — venue's). The slug is the exception: omitted, it stays,
 * because it is the event's address and regenerating it would break links.
 */
export function replaced(current: EventRow, body: CreateEventInput, venue: Pick<VenueRow, "timezone">): EventRow {
  return { ...current, ...defaultValues(venue), slug: current.slug, ...toRowValues(body) };
}

/** The row a PATCH asks for: the fields present, over the current row. */
export function patched(current: EventRow, body: PatchEventInput): EventRow {
  return { ...current, ...toRowValues(body as Record<string, unknown>) };
}

/** JSON with object keys sorted, so {a,b} and {b,a} compare equal. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val !== null && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : val,
  );
}

export interface EventDiff {
  /** Row values of the changed fields only, ready for EventsRepo.update. */
  changes: Partial<EditableValues>;
  /** The same fields as clients see them (instants as ISO strings), for the history. */
  diff: Record<string, { from: unknown; to: unknown }>;
}

/** The editable fields that differ between two rows. */
export function diffEvents(before: EventRow, after: EventRow): EventDiff {
  const from = toEventDto(before) as Record<string, unknown>;
  const to = toEventDto(after) as Record<string, unknown>;
  const changes: Record<string, unknown> = {};
  const diff: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of EDITABLE_FIELDS) {
    if (canonical(from[field]) === canonical(to[field])) continue;
    changes[field] = after[field];
    diff[field] = { from: from[field], to: to[field] };
  }
  return { changes: changes as Partial<EditableValues>, diff };
}

/** The instants of a row, for the schedule checks. */
export const scheduleOf = (e: EventRow) => ({
  startsAt: e.startsAt,
  endsAt: e.endsAt,
  doorsOpenAt: e.doorsOpenAt,
  salesStartAt: e.salesStartAt,
  salesEndAt: e.salesEndAt,
});
