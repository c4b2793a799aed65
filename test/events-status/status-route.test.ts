import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey, createTenant, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { expectProblem } from "../helpers/http";
import {
  changeStatus,
  DAY,
  HOUR,
  outboxRows,
  readEvent,
  seedEvent,
  statusHistory,
  tenantDb,
  walk,
} from "./seed";

let tenant: TenantFixture;
let owner: string;
let admin: string;
let organizer: { id: string; token: string };

beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
  admin = (await userWithRole(tenant, "admin")).tokens.accessToken;
  const o = await userWithRole(tenant, "organizer");
  organizer = { id: o.id, token: o.tokens.accessToken };
});

/** A DRAFT event created by the organizer. */
const draft = (opts: Parameters<typeof seedEvent>[2] = {}) => seedEvent(tenant.id, organizer.id, opts);

describe("POST /v1/events/{eventId}/status: a change", () => {
  it("stores status, reason, actor and time, bumps the version and answers the event with its ETag", async () => {
    const event = await draft();
    const before = Date.now();
    const res = await changeStatus(organizer.token, event.id, { to: "REVIEW", reason: "ready for a look", version: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("etag")).toBe('"v2"');
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toMatchObject({
      id: event.id,
      status: "REVIEW",
      statusReason: "ready for a look",
      statusChangedBy: organizer.id,
      version: 2,
    });
    const changedAt = Date.parse(res.body.statusChangedAt);
    expect(changedAt).toBeGreaterThanOrEqual(before);
    expect(changedAt).toBeLessThanOrEqual(Date.now());
    expect(res.body).not.toHaveProperty("lastChangeId");
    expect(res.body).not.toHaveProperty("tenantId");

    const stored = await readEvent(tenant.id, event.id);
    expect(stored).toMatchObject({ status: "REVIEW", statusReason: "ready for a look", statusChangedBy: organizer.id, version: 2 });
  });

  it("records the change in the event's history with from, to and reason", async () => {
    const event = await draft();
    const res = await changeStatus(organizer.token, event.id, { to: "PUBLISHED", reason: "all set", version: 1 });
    expect(res.status, res.text).toBe(200);
    const history = await statusHistory(tenant.id, event.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      actorType: "user",
      actorId: organizer.id,
      action: "event.status_changed",
      targetType: "event",
      targetId: event.id,
      requestId: res.headers.get("x-request-id"),
      // The history's time is the change's time.
      createdAt: Date.parse(res.body.statusChangedAt),
      details: { from: "DRAFT", to: "PUBLISHED", reason: "all set" },
    });
  });

  it("accepts the version as If-Match instead of in the body", async () => {
    const event = await draft();
    const res = await changeStatus(owner, event.id, { to: "REVIEW" }, { "if-match": '"v1"' });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("etag")).toBe('"v2"');
    const next = await changeStatus(owner, event.id, { to: "APPROVED" }, { "if-match": res.headers.get("etag")! });
    expect(next.status, next.text).toBe(200);
    expect(next.body.version).toBe(3);
  });

  it("records an API key as api_key:<id>", async () => {
    const key = await createApiKey(tenant, ["events:write"]);
    const event = await draft();
    const res = await changeStatus(key.key, event.id, { to: "REVIEW", version: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.statusChangedBy).toBe(`api_key:${key.id}`);
    expect((await statusHistory(tenant.id, event.id))[0]).toMatchObject({ actorType: "api_key", actorId: key.id });
  });

  it("walks an event from DRAFT to COMPLETED through every manual step", async () => {
    const event = await draft();
    const done = await walk(owner, tenant.id, event.id, "REVIEW", "APPROVED", "PUBLISHED", "ON_SALE", "SALES_PAUSED", "ON_SALE", "SOLD_OUT", "IN_PROGRESS", "COMPLETED");
    expect(done).toMatchObject({ status: "COMPLETED", version: 10 });
    const history = await statusHistory(tenant.id, event.id);
    expect(history.map((h) => `${h.details!.from}>${h.details!.to}`)).toEqual([
      "DRAFT>REVIEW",
      "REVIEW>APPROVED",
      "APPROVED>PUBLISHED",
      "PUBLISHED>ON_SALE",
      "ON_SALE>SALES_PAUSED",
      "SALES_PAUSED>ON_SALE",
      "ON_SALE>SOLD_OUT",
      "SOLD_OUT>IN_PROGRESS",
      "IN_PROGRESS>COMPLETED",
    ]);
  });
});

describe("POST /v1/events/{eventId}/status: the machine's verdict", () => {
  it("refuses an illegal move with 409 INVALID_TRANSITION, the current status and the allowed next states", async () => {
    const event = await draft();
    const res = await changeStatus(owner, event.id, { to: "ON_SALE", version: 1 });
    const problem = expectProblem(res, 409, "INVALID_TRANSITION");
    expect(problem.currentStatus).toBe("DRAFT");
    expect(problem.allowed).toEqual(["REVIEW", "PUBLISHED"]);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "DRAFT", version: 1, statusReason: null });
    expect(await statusHistory(tenant.id, event.id)).toEqual([]);
  });

  it("refuses a move to the current status", async () => {
    const event = await draft();
    const problem = expectProblem(await changeStatus(owner, event.id, { to: "DRAFT", version: 1 }), 409, "INVALID_TRANSITION");
    expect(problem.currentStatus).toBe("DRAFT");
  });

  it("keeps terminal states terminal: nothing is allowed after CANCELLED or COMPLETED", async () => {
    for (const status of ["CANCELLED", "COMPLETED"] as const) {
      const event = await draft({ status });
      for (const to of ["PUBLISHED", "ON_SALE", "DRAFT", "CANCELLED"]) {
        const problem = expectProblem(await changeStatus(owner, event.id, { to, version: 1 }), 409, "INVALID_TRANSITION");
        expect(problem).toMatchObject({ currentStatus: status, allowed: [] });
      }
    }
  });

  it("lets only owners and admins approve or reject an event under review", async () => {
    const key = await createApiKey(tenant, ["events:write"]);
    for (const to of ["APPROVED", "DRAFT"]) {
      const event = await draft({ status: "REVIEW" });
      for (const token of [organizer.token, key.key]) {
        const problem = expectProblem(await changeStatus(token, event.id, { to, version: 1 }), 403, "FORBIDDEN");
        expect(problem.detail).toMatch(/owners and admins/);
      }
      expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "REVIEW", version: 1 });
    }
    const approved = await draft({ status: "REVIEW" });
    expect((await changeStatus(admin, approved.id, { to: "APPROVED", version: 1 })).status).toBe(200);
    const rejected = await draft({ status: "REVIEW" });
    const res = await changeStatus(owner, rejected.id, { to: "DRAFT", reason: "needs a better description", version: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: "DRAFT", statusReason: "needs a better description" });
  });

  it("checks the machine against the current status, not the one the client assumed", async () => {
    const event = await draft({ status: "PUBLISHED" });
    expect((await changeStatus(owner, event.id, { to: "CANCELLED", version: 1 })).status).toBe(200);
    const problem = expectProblem(await changeStatus(owner, event.id, { to: "ON_SALE", version: 2 }), 409, "INVALID_TRANSITION");
    expect(problem).toMatchObject({ currentStatus: "CANCELLED", allowed: [] });
  });
});

describe("POST /v1/events/{eventId}/status: who may change which event", () => {
  it("forbids an organizer who neither created the event nor has access to its venue", async () => {
    const other = await userWithRole(tenant, "organizer");
    const event = await draft();
    const problem = expectProblem(await changeStatus(other.tokens.accessToken, event.id, { to: "REVIEW", version: 1 }), 403, "FORBIDDEN");
    expect(problem.detail).toMatch(/creator/);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "DRAFT", version: 1 });
  });

  it("allows an organizer with access to the event's venue", async () => {
    const other = await userWithRole(tenant, "organizer");
    const event = await draft();
    await tenantDb(tenant.id).venues.grant(event.venueId, other.id, tenant.owner.id, Date.now());
    const res = await changeStatus(other.tokens.accessToken, event.id, { to: "REVIEW", version: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.statusChangedBy).toBe(other.id);
  });

  it("answers 404 for a missing, a deleted and another tenant's event alike", async () => {
    const other = await createTenant();
    const foreign = await seedEvent(other.id, other.owner.id);
    const deleted = await draft();
    const db = tenantDb(tenant.id);
    const gone = await db.events.softDelete(deleted.id, 1, {
      id: crypto.randomUUID(),
      createdAt: Date.now(),
      entry: { actorType: "user", actorId: tenant.owner.id, action: "event.deleted", targetType: "event", targetId: deleted.id, requestId: null, ip: null, userAgent: null, details: null },
    });
    expect(gone).not.toBeNull();
    for (const id of [crypto.randomUUID(), deleted.id, foreign.id]) {
      expectProblem(await changeStatus(owner, id, { to: "REVIEW", version: 1 }), 404, "NOT_FOUND");
    }
    expect(await readEvent(other.id, foreign.id)).toMatchObject({ status: "DRAFT", version: 1 });
  });
});

describe("POST /v1/events/{eventId}/status: optimistic locking", () => {
  it("requires the version: 428 PRECONDITION_REQUIRED without If-Match or body version", async () => {
    const event = await draft();
    expectProblem(await changeStatus(owner, event.id, { to: "REVIEW" }), 428, "PRECONDITION_REQUIRED");
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "DRAFT", version: 1 });
  });

  it("refuses a stale body version with 409 VERSION_CONFLICT carrying the current version", async () => {
    const event = await draft();
    await walk(owner, tenant.id, event.id, "PUBLISHED");
    const problem = expectProblem(await changeStatus(owner, event.id, { to: "CANCELLED", version: 1 }), 409, "VERSION_CONFLICT");
    expect(problem.currentVersion).toBe(2);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "PUBLISHED", version: 2 });
  });

  it("refuses a stale If-Match with 412 PRECONDITION_FAILED and the current ETag", async () => {
    const event = await draft();
    await walk(owner, tenant.id, event.id, "PUBLISHED");
    const res = await changeStatus(owner, event.id, { to: "CANCELLED" }, { "if-match": '"v1"' });
    const problem = expectProblem(res, 412, "PRECONDITION_FAILED");
    expect(problem.currentVersion).toBe(2);
    expect(res.headers.get("etag")).toBe('"v2"');
  });

  it("refuses an If-Match that disagrees with the body version, or is not an ETag of this API", async () => {
    const event = await draft();
    const disagree = expectProblem(await changeStatus(owner, event.id, { to: "REVIEW", version: 2 }, { "if-match": '"v1"' }), 400, "VALIDATION_FAILED");
    expect(disagree.errors).toEqual([{ field: "body.version", message: expect.any(String) }]);
    const foreign = expectProblem(await changeStatus(owner, event.id, { to: "REVIEW" }, { "if-match": "*" }), 400, "VALIDATION_FAILED");
    expect(foreign.errors).toEqual([{ field: "headers.if-match", message: expect.any(String) }]);
  });

  it("lets exactly one of two concurrent changes on the same version win, with one history entry and one message", async () => {
    const event = await draft({ status: "ON_SALE" });
    const [a, b] = await Promise.all([
      changeStatus(owner, event.id, { to: "CANCELLED", reason: "venue flooded", version: 1 }),
      changeStatus(admin, event.id, { to: "POSTPONED", reason: "artist ill", version: 1 }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
    expect(expectProblem(loser, 409, "VERSION_CONFLICT").currentVersion).toBe(2);
    const stored = await readEvent(tenant.id, event.id);
    expect(stored).toMatchObject({ status: winner.body.status, version: 2 });
    const history = await statusHistory(tenant.id, event.id);
    expect(history).toHaveLength(1);
    expect(history[0]!.details).toMatchObject({ to: winner.body.status });
    const messages = await outboxRows(event.id);
    expect(messages.map((m) => m.body.to)).toEqual([winner.body.status]);
  });
});

describe("POST /v1/events/{eventId}/status: body", () => {
  it("validates the body: target, reason bounds, unknown fields", async () => {
    const event = await draft();
    const cases: [Record<string, unknown>, string][] = [
      [{ to: "LIVE", reason: "nope", version: 1 }, "body.to"],
      [{ to: "REVIEW", reason: "no", version: 1 }, "body.reason"],
      [{ to: "REVIEW", reason: "x".repeat(501), version: 1 }, "body.reason"],
      [{ to: "REVIEW", version: 1 }, "body.reason"],
      [{ to: "REVIEW", reason: "fine", version: 0 }, "body.version"],
      [{ to: "REVIEW", reason: "fine", version: 1, status: "REVIEW" }, "body.status"],
    ];
    for (const [body, field] of cases) {
      const res = await changeStatus(owner, event.id, { reason: undefined, ...body } as never);
      const problem = expectProblem(res, 400, "VALIDATION_FAILED");
      expect(problem.errors!.map((e) => e.field), JSON.stringify(body)).toContain(field);
    }
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "DRAFT", version: 1 });
  });

  it("refuses a schedule with any target but RESCHEDULED", async () => {
    const event = await draft({ status: "PUBLISHED" });
    const schedule = { startsAt: new Date(Date.now() + 40 * DAY).toISOString(), endsAt: new Date(Date.now() + 40 * DAY + HOUR).toISOString() };
    const problem = expectProblem(await changeStatus(owner, event.id, { to: "POSTPONED", version: 1, schedule }), 400, "VALIDATION_FAILED");
    expect(problem.errors).toEqual([{ field: "body.schedule", message: "only a move to RESCHEDULED takes a schedule" }]);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "PUBLISHED", version: 1 });
  });
});

describe("POST /v1/events/{eventId}/status: holders hear about postpone, reschedule and cancel", () => {
  it("commits an outbox message with the change for POSTPONED and CANCELLED", async () => {
    const event = await draft({ status: "ON_SALE" });
    const postponed = await changeStatus(owner, event.id, { to: "POSTPONED", reason: "artist ill", version: 1 });
    expect(postponed.status, postponed.text).toBe(200);
    const cancelled = await changeStatus(owner, event.id, { to: "CANCELLED", reason: "no new date", version: 2 });
    expect(cancelled.status, cancelled.text).toBe(200);
    const messages = await outboxRows(event.id);
    expect(messages.map((m) => m.body)).toEqual([
      {
        kind: "event.status_changed",
        tenantId: tenant.id,
        eventId: event.id,
        from: "ON_SALE",
        to: "POSTPONED",
        reason: "artist ill",
        at: Date.parse(postponed.body.statusChangedAt),
      },
      {
        kind: "event.status_changed",
        tenantId: tenant.id,
        eventId: event.id,
        from: "POSTPONED",
        to: "CANCELLED",
        reason: "no new date",
        at: Date.parse(cancelled.body.statusChangedAt),
      },
    ]);
    for (const m of messages) expect(m.tenantId).toBe(tenant.id);
  });

  it("commits no message for changes holders need not hear about", async () => {
    const event = await draft();
    await walk(owner, tenant.id, event.id, "REVIEW", "APPROVED", "PUBLISHED", "ON_SALE", "SALES_PAUSED", "ON_SALE", "SOLD_OUT");
    expect(await outboxRows(event.id)).toEqual([]);
  });
});

describe("POST /v1/events/{eventId}/status: RESCHEDULED", () => {
  const at = (ms: number) => new Date(ms).toISOString();

  it("requires the new schedule", async () => {
    const event = await draft({ status: "POSTPONED" });
    const problem = expectProblem(await changeStatus(owner, event.id, { to: "RESCHEDULED", version: 1 }), 400, "VALIDATION_FAILED");
    expect(problem.errors).toEqual([{ field: "body.schedule", message: "required when moving to RESCHEDULED" }]);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "POSTPONED", version: 1 });
  });

  it("moves the times, keeps the doors' lead time, records before/after and tells holders the new date", async () => {
    const starts = Date.now() + 30 * DAY;
    const event = await draft({ status: "ON_SALE", startsAt: starts, endsAt: starts + 3 * HOUR, doorsOpenAt: starts - HOUR });
    const newStart = starts + 14 * DAY;
    const res = await changeStatus(owner, event.id, {
      to: "RESCHEDULED",
      reason: "moved two weeks",
      version: 1,
      schedule: { startsAt: at(newStart), endsAt: at(newStart + 4 * HOUR) },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      status: "RESCHEDULED",
      startsAt: at(newStart),
      endsAt: at(newStart + 4 * HOUR),
      doorsOpenAt: at(newStart - HOUR),
      version: 2,
    });
    const [entry] = await statusHistory(tenant.id, event.id);
    expect(entry!.details).toEqual({
      from: "ON_SALE",
      to: "RESCHEDULED",
      reason: "moved two weeks",
      schedule: {
        before: { startsAt: at(starts), endsAt: at(starts + 3 * HOUR), doorsOpenAt: at(starts - HOUR) },
        after: { startsAt: at(newStart), endsAt: at(newStart + 4 * HOUR), doorsOpenAt: at(newStart - HOUR) },
      },
    });
    const [message] = await outboxRows(event.id);
    expect(message!.body).toMatchObject({
      kind: "event.status_changed",
      from: "ON_SALE",
      to: "RESCHEDULED",
      schedule: { startsAt: newStart, endsAt: newStart + 4 * HOUR, doorsOpenAt: newStart - HOUR },
    });
  });

  it("sets or clears the doors when the schedule says so", async () => {
    const starts = Date.now() + 30 * DAY;
    const newStart = starts + DAY;
    const set = await draft({ status: "POSTPONED", startsAt: starts, doorsOpenAt: starts - HOUR });
    const r1 = await changeStatus(owner, set.id, {
      to: "RESCHEDULED",
      version: 1,
      schedule: { startsAt: at(newStart), endsAt: at(newStart + HOUR), doorsOpenAt: at(newStart - 2 * HOUR) },
    });
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body.doorsOpenAt).toBe(at(newStart - 2 * HOUR));
    const cleared = await draft({ status: "POSTPONED", startsAt: starts, doorsOpenAt: starts - HOUR });
    const r2 = await changeStatus(owner, cleared.id, {
      to: "RESCHEDULED",
      version: 1,
      schedule: { startsAt: at(newStart), endsAt: at(newStart + HOUR), doorsOpenAt: null },
    });
    expect(r2.status, r2.text).toBe(200);
    expect(r2.body.doorsOpenAt).toBeNull();
  });

  it("refuses an inconsistent new schedule field by field, changing nothing", async () => {
    const now = Date.now();
    const starts = now + 30 * DAY;
    const event = await draft({ status: "ON_SALE", startsAt: starts, salesStartAt: now - DAY, salesEndAt: starts + HOUR });
    const cases: [Record<string, unknown>, { field: string; message: string }[]][] = [
      [{ startsAt: at(starts + DAY), endsAt: at(starts + DAY) }, [{ field: "body.schedule.endsAt", message: "must be after startsAt" }]],
      [
        { startsAt: at(starts + DAY), endsAt: at(starts + DAY + HOUR), doorsOpenAt: at(starts + DAY + 1) },
        [{ field: "body.schedule.doorsOpenAt", message: "must not be after startsAt" }],
      ],
      [
        { startsAt: at(now - HOUR), endsAt: at(starts + 2 * HOUR) },
        [{ field: "body.schedule.startsAt", message: "must be in the future" }],
      ],
      [
        { startsAt: at(now - HOUR), endsAt: at(now + HOUR) },
        [
          { field: "body.schedule.endsAt", message: "must not be before salesEndAt" },
          { field: "body.schedule.startsAt", message: "must be in the future" },
        ],
      ],
      // Earlier than the stored sales window's end: the sales window has to move first.
      [{ startsAt: at(starts - 2 * DAY), endsAt: at(starts - 2 * DAY + HOUR) }, [{ field: "body.schedule.endsAt", message: "must not be before salesEndAt" }]],
      [{ startsAt: at(starts), endsAt: at(starts + 3 * HOUR) }, [{ field: "body.schedule.startsAt", message: "a reschedule must change startsAt or endsAt" }]],
    ];
    for (const [schedule, errors] of cases) {
      const problem = expectProblem(await changeStatus(owner, event.id, { to: "RESCHEDULED", version: 1, schedule }), 400, "VALIDATION_FAILED");
      expect(problem.errors, JSON.stringify(schedule)).toEqual(errors);
    }
    const schemaCases = [{ startsAt: "tomorrow", endsAt: at(starts) }, { startsAt: at(starts + DAY) }, { startsAt: at(starts + DAY), endsAt: at(starts + DAY + HOUR), salesEndAt: at(starts) }];
    for (const schedule of schemaCases) {
      const problem = expectProblem(await changeStatus(owner, event.id, { to: "RESCHEDULED", version: 1, schedule }), 400, "VALIDATION_FAILED");
      expect(problem.errors!.every((e) => e.field.startsWith("body.schedule.")), JSON.stringify(problem.errors)).toBe(true);
    }
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "ON_SALE", version: 1, startsAt: starts });
    expect(await outboxRows(event.id)).toEqual([]);
  });
});
