import { describe, expect, it } from "vitest";
import type { EventRow } from "../../src/db/schema";
import { diffEvents, patched, replaced } from "../../src/domain/event-edit";
import { assertValidSchedule, scheduleErrors, type Schedule } from "../../src/domain/event-schedule";
import { AppError } from "../../src/http/errors";

// Pure modules: no worker, no D1.
const H = 3_600_000;
const T = Date.UTC(2030, 0, 1, 19);
const ok: Schedule = { startsAt: T, endsAt: T + 3 * H, doorsOpenAt: T - H, salesStartAt: T - 30 * 24 * H, salesEndAt: T };

describe("scheduleErrors", () => {
  it("passes a consistent schedule, and one with every optional time unset", () => {
    expect(scheduleErrors(ok)).toEqual([]);
    expect(scheduleErrors({ startsAt: T, endsAt: T + 1, doorsOpenAt: null, salesStartAt: null, salesEndAt: null })).toEqual([]);
  });

  it("accepts the inclusive boundaries: doors at the start, sales ending at the end", () => {
    expect(scheduleErrors({ ...ok, doorsOpenAt: T, salesEndAt: T + 3 * H })).toEqual([]);
  });

  const broken: [string, Partial<Schedule>, string][] = [
    ["ends at the start", { endsAt: T }, "body.endsAt"],
    ["ends before the start", { endsAt: T - 1, salesEndAt: null }, "body.endsAt"],
    ["doors open after the start", { doorsOpenAt: T + 1 }, "body.doorsOpenAt"],
    ["sales end at the sales start", { salesEndAt: ok.salesStartAt! }, "body.salesEndAt"],
    ["sales end before the sales start", { salesEndAt: ok.salesStartAt! - 1 }, "body.salesEndAt"],
    ["sales end after the end", { salesEndAt: T + 3 * H + 1 }, "body.salesEndAt"],
    ["sales start at the end with no sales end", { salesEndAt: null, salesStartAt: T + 3 * H }, "body.salesStartAt"],
  ];
  it.each(broken)("names the field when the event %s", (_name, change, field) => {
    expect(scheduleErrors({ ...ok, ...change })).toEqual([{ field, message: expect.any(String) }]);
  });

  it("reports every broken rule once per field", () => {
    const errors = scheduleErrors({ startsAt: T, endsAt: T - H, doorsOpenAt: T + H, salesStartAt: T + 2 * H, salesEndAt: T + H });
    expect(errors.map((e) => e.field).sort()).toEqual(["body.doorsOpenAt", "body.endsAt", "body.salesEndAt"]);
  });

  it("uses the prefix, e.g. for a reschedule body", () => {
    expect(scheduleErrors({ ...ok, endsAt: T }, { prefix: "body.schedule" })).toEqual([{ field: "body.schedule.endsAt", message: expect.any(String) }]);
  });

  it("names the field that was sent when only the other side of a rule was", () => {
    const late = { ...ok, startsAt: T + 4 * H, doorsOpenAt: null };
    expect(scheduleErrors(late, { sent: ["startsAt"] })).toEqual([{ field: "body.startsAt", message: "must be before endsAt" }]);
    // Both sent, or neither: the rule's own field.
    expect(scheduleErrors(late, { sent: ["startsAt", "endsAt"] })).toEqual([{ field: "body.endsAt", message: "must be after startsAt" }]);
    expect(scheduleErrors(late, { sent: ["name"] })).toEqual([{ field: "body.endsAt", message: "must be after startsAt" }]);
  });

  it("assertValidSchedule throws VALIDATION_FAILED carrying the errors", () => {
    expect(() => assertValidSchedule(ok)).not.toThrow();
    try {
      assertValidSchedule({ ...ok, endsAt: T });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("VALIDATION_FAILED");
      expect((err as AppError).extras.errors).toEqual([{ field: "body.endsAt", message: expect.any(String) }]);
    }
  });
});

const row: EventRow = {
  id: "e1",
  tenantId: "t1",
  venueId: "v1",
  slug: "gala",
  allowTransfers: true,
  name: "Gala",
  description: "desc",
  shortDescription: null,
  status: "DRAFT",
  statusReason: null,
  statusChangedBy: null,
  statusChangedAt: null,
  visibility: "PRIVATE",
  isFeatured: true,
  priorityScore: 5,
  bannerImageUrl: null,
  thumbnailImageUrl: null,
  tags: ["x"],
  primaryCategoryId: null,
  ageRestriction: 18,
  dressCode: null,
  cancellationPolicy: null,
  refundPolicy: null,
  metaTitle: null,
  metaDescription: null,
  metadata: { a: 1, b: 2 },
  timezone: "America/New_York",
  startsAt: T,
  endsAt: T + 3 * H,
  doorsOpenAt: null,
  salesStartAt: null,
  salesEndAt: null,
  royaltyBps: 100,
  version: 4,
  gateVersion: null,
      lastChangeId: null,
  createdBy: "u1",
  updatedBy: null,
  createdAt: 1,
  updatedAt: 2,
  deletedAt: null,
};

describe("event edits", () => {
  it("patched() changes only the fields sent, converting instants to ms", () => {
    const next = patched(row, { name: "New", endsAt: new Date(T + 4 * H).toISOString(), version: 4 });
    expect(next).toEqual({ ...row, name: "New", endsAt: T + 4 * H });
  });

  it("replaced() resets omitted optionals, takes the venue's time zone, keeps slug and bookkeeping", () => {
    const next = replaced(row, { name: "R", venueId: "v2", startsAt: new Date(T).toISOString(), endsAt: new Date(T + H).toISOString() }, { timezone: "Asia/Tokyo" });
    expect(next).toMatchObject({ name: "R", venueId: "v2", slug: "gala", timezone: "Asia/Tokyo", description: null, visibility: "PUBLIC" });
    expect(next).toMatchObject({ isFeatured: false, tags: [], metadata: {}, royaltyBps: 0, ageRestriction: null, endsAt: T + H });
    expect(next).toMatchObject({ id: "e1", status: "DRAFT", version: 4, createdBy: "u1", createdAt: 1 });
  });

  it("diffEvents() lists only changed fields, API-shaped, and ignores key order in metadata", () => {
    const next = { ...row, name: "New", startsAt: T - H, metadata: { b: 2, a: 1 }, tags: ["x"] };
    expect(diffEvents(row, next)).toEqual({
      changes: { name: "New", startsAt: T - H },
      diff: { name: { from: "Gala", to: "New" }, startsAt: { from: new Date(T).toISOString(), to: new Date(T - H).toISOString() } },
    });
    expect(diffEvents(row, { ...row })).toEqual({ changes: {}, diff: {} });
  });

  it("diffEvents() never reports status or bookkeeping fields", () => {
    const next = { ...row, status: "PUBLISHED" as const, version: 9, updatedAt: 99 };
    expect(diffEvents(row, next).diff).toEqual({});
  });
});
