import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import type { EventStatus } from "../../src/db/schema";
import { advanceEvent, runAutoTransitions } from "../../src/events/auto-transitions";
import { createTenant, type TenantFixture } from "../helpers/fixtures";
import { runCron } from "./queues";
import { changeStatus, DAY, HOUR, outboxRows, readEvent, seedEvent, statusHistory, tenantDb, walk, type SeedOptions } from "./seed";

// The clock is the controller's scheduledTime, never the wall clock: each test takes its
// own stretch of (future) time, so events of earlier tests are long over by then.
let base = Date.UTC(2030, 0, 1);
const nextBase = () => (base += 60 * DAY);

let tenant: TenantFixture;
let owner: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
});

const seed = (opts: SeedOptions, t: TenantFixture = tenant) => seedEvent(t.id, t.owner.id, opts);

/** The event's status changes as "from>to by actor: reason". */
async function history(eventId: string, t: TenantFixture = tenant) {
  return (await statusHistory(t.id, eventId)).map((h) => `${h.details!.from}>${h.details!.to} by ${h.actorType}: ${h.details!.reason}`);
}

describe("cron: clock-driven transitions", () => {
  it("opens sales, starts and ends an event at its times, each step recorded with actor system", async () => {
    const T = nextBase();
    const times = { salesStartAt: T + HOUR, startsAt: T + DAY, endsAt: T + DAY + 3 * HOUR };
    const event = await seed(times);
    await walk(owner, tenant.id, event.id, "PUBLISHED");

    await runCron(T);
    await runCron(times.salesStartAt - 1);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "PUBLISHED", version: 2 });

    await runCron(times.salesStartAt);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({
      status: "ON_SALE",
      statusReason: "sales window opened",
      statusChangedBy: "system",
      statusChangedAt: times.salesStartAt,
      updatedBy: "system",
      version: 3,
    });
    const [, opened] = await statusHistory(tenant.id, event.id);
    expect(opened).toMatchObject({
      actorType: "system",
      actorId: null,
      action: "event.status_changed",
      targetType: "event",
      targetId: event.id,
      ip: null,
      createdAt: times.salesStartAt,
      details: { from: "PUBLISHED", to: "ON_SALE", reason: "sales window opened" },
    });

    await runCron(times.startsAt - 1);
    expect((await readEvent(tenant.id, event.id)).status).toBe("ON_SALE");
    await runCron(times.startsAt);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "IN_PROGRESS", statusChangedAt: times.startsAt, version: 4 });
    await runCron(times.endsAt - 1);
    expect((await readEvent(tenant.id, event.id)).status).toBe("IN_PROGRESS");
    await runCron(times.endsAt);
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "COMPLETED", statusReason: "event ended", statusChangedAt: times.endsAt, version: 5 });

    expect(await history(event.id)).toEqual([
      "DRAFT>PUBLISHED by user: moving to PUBLISHED",
      "PUBLISHED>ON_SALE by system: sales window opened",
      "ON_SALE>IN_PROGRESS by system: event started",
      "IN_PROGRESS>COMPLETED by system: event ended",
    ]);
    // None of these concern ticket holders.
    expect(await outboxRows(event.id)).toEqual([]);
  });

  it("catches up on missed ticks in one run, one recorded step at a time, in order", async () => {
    const T = nextBase();
    const onSale = await seed({ status: "ON_SALE", startsAt: T - 2 * DAY, endsAt: T - DAY });
    const soldOut = await seed({ status: "SOLD_OUT", startsAt: T - HOUR, endsAt: T + HOUR });
    const opening = await seed({ status: "PUBLISHED", salesStartAt: T - DAY, startsAt: T + DAY });

    await runCron(T);

    expect(await readEvent(tenant.id, onSale.id)).toMatchObject({ status: "COMPLETED", version: 3 });
    expect(await history(onSale.id)).toEqual(["ON_SALE>IN_PROGRESS by system: event started", "IN_PROGRESS>COMPLETED by system: event ended"]);
    // Consecutive steps of one run are recorded 1 ms apart, so history order is walk order.
    expect((await statusHistory(tenant.id, onSale.id)).map((h) => h.createdAt)).toEqual([T, T + 1]);
    expect(await readEvent(tenant.id, soldOut.id)).toMatchObject({ status: "IN_PROGRESS", version: 2 });
    expect(await history(soldOut.id)).toEqual(["SOLD_OUT>IN_PROGRESS by system: event started"]);
    expect(await readEvent(tenant.id, opening.id)).toMatchObject({ status: "ON_SALE", version: 2 });
  });

  it("starts events whose sales never opened or are paused, so nothing is stuck before IN_PROGRESS", async () => {
    const T = nextBase();
    // A 5-minute cron can miss a sales window that opens minutes before the start.
    const missedWindow = await seed({ status: "PUBLISHED", salesStartAt: T - 2 * HOUR, salesEndAt: T - HOUR, startsAt: T - 30 * 60_000, endsAt: T + HOUR });
    const paused = await seed({ status: "SALES_PAUSED", salesStartAt: T - DAY, startsAt: T - 60_000, endsAt: T + HOUR });
    await runCron(T);
    expect(await readEvent(tenant.id, missedWindow.id)).toMatchObject({ status: "IN_PROGRESS", version: 2 });
    expect(await history(missedWindow.id)).toEqual(["PUBLISHED>IN_PROGRESS by system: event started"]);
    expect(await readEvent(tenant.id, paused.id)).toMatchObject({ status: "IN_PROGRESS", version: 2 });
    await runCron(T + 2 * HOUR);
    expect(await readEvent(tenant.id, missedWindow.id)).toMatchObject({ status: "COMPLETED", version: 3 });
    expect(await readEvent(tenant.id, paused.id)).toMatchObject({ status: "COMPLETED", version: 3 });
  });

  it("is idempotent: running again at the same time changes nothing and records nothing", async () => {
    const T = nextBase();
    const events = [
      await seed({ status: "PUBLISHED", salesStartAt: T - HOUR, startsAt: T + DAY }),
      await seed({ status: "ON_SALE", startsAt: T - HOUR, endsAt: T + HOUR }),
      await seed({ status: "IN_PROGRESS", startsAt: T - 2 * HOUR, endsAt: T - HOUR }),
    ];
    await runCron(T);
    const after = await Promise.all(events.map((e) => readEvent(tenant.id, e.id)));
    expect(after.map((e) => e.status)).toEqual(["ON_SALE", "IN_PROGRESS", "COMPLETED"]);
    const entries = await Promise.all(events.map((e) => history(e.id)));

    await runCron(T);
    await runCron(T + 1);

    expect(await Promise.all(events.map((e) => readEvent(tenant.id, e.id)))).toEqual(after);
    expect(await Promise.all(events.map((e) => history(e.id)))).toEqual(entries);
  });

  it("records each step once when two runs overlap", async () => {
    const T = nextBase();
    const events = await Promise.all([1, 2, 3, 4].map(() => seed({ status: "ON_SALE", startsAt: T - 2 * HOUR, endsAt: T - HOUR })));
    await Promise.all([runCron(T), runCron(T), runCron(T)]);
    for (const e of events) {
      expect(await readEvent(tenant.id, e.id)).toMatchObject({ status: "COMPLETED", version: 3 });
      expect(await history(e.id)).toEqual(["ON_SALE>IN_PROGRESS by system: event started", "IN_PROGRESS>COMPLETED by system: event ended"]);
    }
  });

  it("leaves alone events with nothing due", async () => {
    const T = nextBase();
    const past = { startsAt: T - 2 * DAY, endsAt: T - DAY, salesStartAt: T - 3 * DAY };
    const cases: [string, SeedOptions][] = [
      ["sales not open yet", { status: "PUBLISHED", salesStartAt: T + 1, startsAt: T + DAY }],
      ["no sales window: sales open by hand", { status: "PUBLISHED", startsAt: T + DAY }],
      ["sales window already closed", { status: "PUBLISHED", salesStartAt: T - 2 * HOUR, salesEndAt: T, startsAt: T + DAY }],
      ["on sale, not started", { status: "ON_SALE", startsAt: T + 1, endsAt: T + HOUR }],
      ["in progress, not over", { status: "IN_PROGRESS", startsAt: T - HOUR, endsAt: T + 1 }],
      ...(["DRAFT", "REVIEW", "APPROVED", "POSTPONED", "RESCHEDULED", "CANCELLED", "COMPLETED"] as EventStatus[]).map(
        (status): [string, SeedOptions] => [`${status}, all times past`, { status, ...past }],
      ),
    ];
    const seeded = await Promise.all(cases.map(([, opts]) => seed(opts)));
    const deleted = await seed({ status: "ON_SALE", ...past });
    const gone = await tenantDb(tenant.id).events.softDelete(deleted.id, 1, {
      id: crypto.randomUUID(),
      createdAt: Date.now(),
      entry: { actorType: "user", actorId: tenant.owner.id, action: "event.deleted", targetType: "event", targetId: deleted.id, requestId: null, ip: null, userAgent: null, details: null },
    });
    expect(gone).not.toBeNull();

    await runCron(T);

    for (const [i, [name, opts]] of cases.entries()) {
      const e = await readEvent(tenant.id, seeded[i]!.id);
      expect({ name, status: e.status, version: e.version }).toEqual({ name, status: opts.status, version: 1 });
      expect(await history(e.id)).toEqual([]);
    }
    const { results } = await env.DB.prepare("SELECT status, version FROM events WHERE id = ?").bind(deleted.id).all();
    expect(results).toEqual([{ status: "ON_SALE", version: 2 }]);
  });

  it("moves every tenant's events, each recorded in its own tenant's history", async () => {
    const T = nextBase();
    const other = await createTenant();
    const mine = await seed({ status: "ON_SALE", startsAt: T - HOUR, endsAt: T + HOUR });
    const theirs = await seed({ status: "ON_SALE", startsAt: T - HOUR, endsAt: T + HOUR }, other);
    await runCron(T);
    expect((await readEvent(tenant.id, mine.id)).status).toBe("IN_PROGRESS");
    expect((await readEvent(other.id, theirs.id)).status).toBe("IN_PROGRESS");
    expect(await history(theirs.id, other)).toEqual(["ON_SALE>IN_PROGRESS by system: event started"]);
    expect(await history(theirs.id, tenant)).toEqual([]);
    expect(await history(mine.id, other)).toEqual([]);
  });

  it("pages through more due events than one query returns", async () => {
    const T = nextBase();
    const events = await Promise.all([1, 2, 3, 4, 5].map(() => seed({ status: "IN_PROGRESS", startsAt: T - 2 * HOUR, endsAt: T - HOUR })));
    const summary = await runAutoTransitions(createDb(env.DB), T, { pageSize: 2 });
    expect(summary.failed).toBe(0);
    expect(summary.transitions).toBeGreaterThanOrEqual(5);
    for (const e of events) expect((await readEvent(tenant.id, e.id)).status).toBe("COMPLETED");
  });
});

describe("cron: racing a manual change", () => {
  it("loses cleanly to a change made after it read the event: the manual change stands, nothing recorded for the system", async () => {
    const T = nextBase();
    const event = await seed({ status: "ON_SALE", startsAt: T - HOUR, endsAt: T + HOUR });
    const snapshot = await readEvent(tenant.id, event.id);
    // The organizer cancels between the cron's read and its write.
    const cancel = await changeStatus(owner, event.id, { to: "CANCELLED", reason: "storm warning", version: 1 });
    expect(cancel.status, cancel.text).toBe(200);

    const result = await advanceEvent(tenantDb(tenant.id), snapshot, T, "test-run");

    expect(result).toMatchObject({ steps: [], lost: 1 });
    expect(await readEvent(tenant.id, event.id)).toMatchObject({ status: "CANCELLED", statusReason: "storm warning", version: 2 });
    expect(await history(event.id)).toEqual(["ON_SALE>CANCELLED by user: storm warning"]);
  });

  it("judges the event afresh after losing, applying what is still due from the new state", async () => {
    const T = nextBase();
    const event = await seed({ status: "ON_SALE", startsAt: T - HOUR, endsAt: T + HOUR });
    const snapshot = await readEvent(tenant.id, event.id);
    await walk(owner, tenant.id, event.id, "SOLD_OUT");

    const result = await advanceEvent(tenantDb(tenant.id), snapshot, T, "test-run");

    expect(result).toMatchObject({ steps: ["IN_PROGRESS"], lost: 1 });
    expect(await history(event.id)).toEqual(["ON_SALE>SOLD_OUT by user: moving to SOLD_OUT", "SOLD_OUT>IN_PROGRESS by system: event started"]);
  });

  it("makes a manual change made after the cron's write refuse the stale version, not overwrite it", async () => {
    const T = nextBase();
    const event = await seed({ status: "ON_SALE", startsAt: T - HOUR, endsAt: T + HOUR });
    await runCron(T);
    const res = await changeStatus(owner, event.id, { to: "SALES_PAUSED", version: 1 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: "VERSION_CONFLICT", currentVersion: 2 });
    expect((await readEvent(tenant.id, event.id)).status).toBe("IN_PROGRESS");
  });
});
