import { describe, expect, it } from "vitest";
import { EVENT_STATUSES, type EventStatus } from "../../src/db/schema";
import { checkTransition, dueTransition, isTerminal, TRANSITIONS } from "../../src/domain/event-status";

// The expected machine, written out independently of the module under test.
const EXPECTED: Record<EventStatus, EventStatus[]> = {
  DRAFT: ["REVIEW", "PUBLISHED"],
  REVIEW: ["APPROVED", "DRAFT"],
  APPROVED: ["PUBLISHED"],
  PUBLISHED: ["ON_SALE", "IN_PROGRESS", "CANCELLED", "POSTPONED", "RESCHEDULED"],
  ON_SALE: ["SOLD_OUT", "SALES_PAUSED", "IN_PROGRESS", "CANCELLED", "POSTPONED", "RESCHEDULED"],
  SALES_PAUSED: ["ON_SALE", "IN_PROGRESS", "CANCELLED", "POSTPONED", "RESCHEDULED"],
  SOLD_OUT: ["ON_SALE", "IN_PROGRESS", "CANCELLED", "POSTPONED", "RESCHEDULED"],
  IN_PROGRESS: ["COMPLETED", "CANCELLED"],
  POSTPONED: ["PUBLISHED", "RESCHEDULED", "CANCELLED"],
  RESCHEDULED: ["PUBLISHED", "ON_SALE", "CANCELLED"],
  COMPLETED: [],
  CANCELLED: [],
};
const ADMIN_ONLY = new Set(["REVIEW>APPROVED", "REVIEW>DRAFT"]);

describe("every (from, to) pair", () => {
  const pairs = EVENT_STATUSES.flatMap((from) => EVENT_STATUSES.map((to) => [from, to] as const));
  it.each(pairs)("%s → %s", (from, to) => {
    const legal = EXPECTED[from].includes(to);
    const admin = checkTransition(from, to, { isAdmin: true });
    const organizer = checkTransition(from, to, { isAdmin: false });
    expect(admin.ok).toBe(legal);
    if (!legal) {
      expect(admin).toEqual({ ok: false, code: "INVALID_TRANSITION", allowed: EXPECTED[from] });
      expect(organizer).toEqual(admin);
    } else if (ADMIN_ONLY.has(`${from}>${to}`)) {
      expect(organizer).toEqual({ ok: false, code: "FORBIDDEN", allowed: EXPECTED[from] });
    } else {
      expect(organizer.ok).toBe(true);
    }
  });

  it("has exactly the expected table and two terminal states", () => {
    expect(TRANSITIONS).toEqual(EXPECTED);
    expect(EVENT_STATUSES.filter(isTerminal)).toEqual(["COMPLETED", "CANCELLED"]);
    for (const s of EVENT_STATUSES) expect(TRANSITIONS[s]).not.toContain(s);
  });
});

describe("dueTransition (the cron's clock rules)", () => {
  const H = 3_600_000;
  const base = { salesStartAt: 10 * H, salesEndAt: 20 * H, startsAt: 24 * H, endsAt: 27 * H };
  it.each([
    ["PUBLISHED", 9 * H, null],
    ["PUBLISHED", 10 * H, "ON_SALE"],
    ["PUBLISHED", 20 * H, null], // sales window already over: do not open it
    ["PUBLISHED", 24 * H, "IN_PROGRESS"], // sales never opened (missed ticks, door sales): the event still starts
    ["ON_SALE", 23 * H, null],
    ["ON_SALE", 24 * H, "IN_PROGRESS"],
    ["SOLD_OUT", 25 * H, "IN_PROGRESS"],
    ["SALES_PAUSED", 23 * H, null],
    ["SALES_PAUSED", 25 * H, "IN_PROGRESS"],
    ["POSTPONED", 30 * H, null],
    ["RESCHEDULED", 30 * H, null],
    ["IN_PROGRESS", 26 * H, null],
    ["IN_PROGRESS", 27 * H, "COMPLETED"],
    ["DRAFT", 25 * H, null],
    ["CANCELLED", 30 * H, null],
    ["COMPLETED", 30 * H, null],
  ] as const)("%s at %d ms → %s", (status, now, expected) => {
    expect(dueTransition({ ...base, status }, now)).toBe(expected);
  });

  it("never opens sales without a sales start", () => {
    expect(dueTransition({ ...base, salesStartAt: null, status: "PUBLISHED" }, 15 * H)).toBeNull();
  });

  it("every clock transition is a legal transition", () => {
    for (const status of EVENT_STATUSES) {
      for (const now of [0, 10 * 3_600_000, 24 * 3_600_000, 27 * 3_600_000, 99 * 3_600_000]) {
        const to = dueTransition({ ...base, status }, now);
        if (to) expect(checkTransition(status, to, { isAdmin: true }).ok).toBe(true);
      }
    }
  });
});
