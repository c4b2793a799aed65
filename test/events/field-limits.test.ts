import { beforeAll, describe, expect, it } from "vitest";
import { call, expectProblem } from "../helpers/http";
import { eventsWorld, ifMatch, postEvent, validEvent } from "./support";

/**
 * Seed 002's editable-field table (plus schedule, time zone and royalty), each limit
 * broken once. Every violation must come back as 400 naming exactly that field, whether
 * it arrives in a create or in a PATCH.
 */
const tooManyKeys = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
const tooBig = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, "x".repeat(1000)]));

const VIOLATIONS: [string, Record<string, unknown>, string][] = [
  ["name of 301 chars", { name: "n".repeat(301) }, "body.name"],
  ["blank name", { name: "   " }, "body.name"],
  ["description of 10001 chars", { description: "d".repeat(10001) }, "body.description"],
  ["shortDescription of 501 chars", { shortDescription: "s".repeat(501) }, "body.shortDescription"],
  ["priorityScore 1001", { priorityScore: 1001 }, "body.priorityScore"],
  ["negative priorityScore", { priorityScore: -1 }, "body.priorityScore"],
  ["fractional priorityScore", { priorityScore: 1.5 }, "body.priorityScore"],
  ["http:// banner image", { bannerImageUrl: "http://img.example/banner.png" }, "body.bannerImageUrl"],
  ["thumbnail that is no URL", { thumbnailImageUrl: "not a url" }, "body.thumbnailImageUrl"],
  ["banner URL of 2001 chars", { bannerImageUrl: `https://img.example/${"a".repeat(2001 - 20)}` }, "body.bannerImageUrl"],
  ["21 tags", { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) }, "body.tags"],
  ["a 51-char tag", { tags: ["t".repeat(51)] }, "body.tags.0"],
  ["duplicate tags", { tags: ["rock", "rock"] }, "body.tags"],
  ["ageRestriction 101", { ageRestriction: 101 }, "body.ageRestriction"],
  ["dressCode of 101 chars", { dressCode: "d".repeat(101) }, "body.dressCode"],
  ["cancellationPolicy of 5001 chars", { cancellationPolicy: "p".repeat(5001) }, "body.cancellationPolicy"],
  ["refundPolicy of 5001 chars", { refundPolicy: "p".repeat(5001) }, "body.refundPolicy"],
  ["metaTitle of 71 chars", { metaTitle: "m".repeat(71) }, "body.metaTitle"],
  ["metaDescription of 161 chars", { metaDescription: "m".repeat(161) }, "body.metaDescription"],
  ["metadata with 51 keys", { metadata: tooManyKeys }, "body.metadata"],
  ["metadata over 8 KiB", { metadata: tooBig }, "body.metadata"],
  ["metadata with a nested object", { metadata: { nested: { a: 1 } } }, "body.metadata.nested"],
  ["royaltyBps 10001", { royaltyBps: 10001 }, "body.royaltyBps"],
  ["negative royaltyBps", { royaltyBps: -1 }, "body.royaltyBps"],
  ["unknown time zone", { timezone: "Mars/Olympus_Mons" }, "body.timezone"],
  ["unknown visibility", { visibility: "SECRET" }, "body.visibility"],
  ["venueId that is no UUID", { venueId: "hall-one" }, "body.venueId"],
  ["primaryCategoryId that is no UUID", { primaryCategoryId: "music" }, "body.primaryCategoryId"],
  ["startsAt that is no instant", { startsAt: "next friday" }, "body.startsAt"],
  ["startsAt without an offset", { startsAt: "2030-01-01 19:00" }, "body.startsAt"],
  ["status (not editable here)", { status: "PUBLISHED" }, "body.status"],
  ["an unknown field", { organizerNotes: "hi" }, "body.organizerNotes"],
];

/** Every error names `field` (a URL that is neither a URL nor https may say both). */
function expectOnly(errors: { field: string; message: string }[] | undefined, field: string) {
  expect(errors?.length).toBeGreaterThan(0);
  expect(errors!.map((e) => e.field)).toEqual(errors!.map(() => field));
}

let world: Awaited<ReturnType<typeof eventsWorld>>;
let event: { id: string; version: number };
beforeAll(async () => {
  world = await eventsWorld();
  event = await postEvent(world.owner, validEvent(world.venue.id));
});

describe("field limits on create", () => {
  it.each(VIOLATIONS)("%s → 400 naming only that field", async (_name, field, expected) => {
    const res = await call("POST", "/v1/events", { token: world.owner, body: validEvent(world.venue.id, field) });
    expectOnly(expectProblem(res, 400, "VALIDATION_FAILED").errors, expected);
  });
});

describe("field limits on PATCH", () => {
  it.each(VIOLATIONS)("%s → 400 naming only that field", async (_name, field, expected) => {
    // A valid change alongside, so the violation is the only thing wrong with the patch.
    const body = { isFeatured: true, ...field };
    const res = await call("PATCH", `/v1/events/${event.id}`, { token: world.owner, body, headers: ifMatch(event.version) });
    expectOnly(expectProblem(res, 400, "VALIDATION_FAILED").errors, expected);
  });

  it("left the event untouched by all those refusals", async () => {
    const res = await call("GET", `/v1/events/${event.id}`, { token: world.owner });
    expect(res.body.version).toBe(event.version);
  });
});

describe("limits are inclusive", () => {
  it("accepts every field exactly at its limit", async () => {
    const atLimit = {
      name: "n".repeat(300),
      description: "d".repeat(10000),
      shortDescription: "s".repeat(500),
      priorityScore: 1000,
      bannerImageUrl: `https://img.example/${"a".repeat(2000 - 20)}`,
      tags: [...Array.from({ length: 19 }, (_, i) => `tag${i}`), "t".repeat(50)],
      ageRestriction: 100,
      dressCode: "d".repeat(100),
      cancellationPolicy: "p".repeat(5000),
      refundPolicy: "r".repeat(5000),
      metaTitle: "m".repeat(70),
      metaDescription: "m".repeat(160),
      metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v".repeat(100)])),
      royaltyBps: 10000,
    };
    expect(JSON.stringify(atLimit.metadata).length).toBeLessThanOrEqual(8192);
    const created = await postEvent(world.owner, validEvent(world.venue.id, atLimit));
    expect(created).toMatchObject(atLimit);
  });
});
