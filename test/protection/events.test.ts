import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createEvent, createVenue, transition } from "../helpers/event-fixtures";
import { createApiKey, createTenant, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { callApp, envWith } from "../http/app-harness";
import { deliver, envWithQueue, recordingQueue } from "../events-status/queues";
import { outboxRows } from "../events-status/seed";
import { DAY, HOUR, iso, onSaleEvent } from "../sales/support";
import { auditOf, holderEmails, soldEvent } from "./support";

let tenant: TenantFixture;
let owner: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
});

const eventPath = (id: string) => `/v1/events/${id}`;
const statusPath = (id: string) => `/v1/events/${id}/status`;
const version = async (id: string) => (await call("GET", eventPath(id), { token: owner })).body.version as number;

/** An event with sold tickets, postponed: the state in which its schedule and venue may be edited directly. */
async function postponedSoldEvent() {
  const sold = await soldEvent(tenant);
  await transition(owner, sold.event.id, "POSTPONED");
  return sold;
}

const newTimes = () => {
  const startsAt = Date.now() + 60 * DAY;
  return { startsAt: iso(startsAt), endsAt: iso(startsAt + 3 * HOUR) };
};

const OVERRIDE = { reason: "The hall failed its fire inspection; moving next door" };

describe("sold-ticket protection of an event", () => {
  it("refuses venue, schedule and time zone changes once tickets are sold, listing the protected fields", async () => {
    const { event } = await postponedSoldEvent();
    const other = await createVenue(owner);
    const before = await call("GET", eventPath(event.id), { token: owner });

    const res = await call("PATCH", eventPath(event.id), {
      token: owner,
      body: { venueId: other.id, ...newTimes(), timezone: "Europe/London", name: "Renamed", version: before.body.version },
    });
    const problem = expectProblem(res, 409, "PROTECTED_FIELD");
    expect(problem.fields).toEqual(["venueId", "startsAt", "endsAt", "timezone"]);
    expect(problem.sold).toBe(1);
    expect(problem.errors!.map((e) => e.field)).toEqual(["body.venueId", "body.startsAt", "body.endsAt", "body.timezone"]);

    // PUT is held to the same rule.
    const put = await call("PUT", eventPath(event.id), {
      token: owner,
      body: { name: before.body.name, venueId: before.body.venueId, ...newTimes(), version: before.body.version },
    });
    expect(expectProblem(put, 409, "PROTECTED_FIELD").fields).toEqual(["startsAt", "endsAt"]);

    // Nothing was written; fields buyers did not pay for still change.
    expect((await call("GET", eventPath(event.id), { token: owner })).body).toEqual(before.body);
    const renamed = await call("PATCH", eventPath(event.id), { token: owner, body: { name: "Renamed", version: before.body.version } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(await auditOf(tenant.id, event.id, "event.protected_override")).toEqual([]);
  });

  it("allows the same changes while nothing is sold", async () => {
    const { event } = await onSaleEvent(tenant, { priceMinor: 0 });
    await transition(owner, event.id, "POSTPONED");
    const other = await createVenue(owner, { timezone: "Europe/London" });
    const res = await call("PATCH", eventPath(event.id), {
      token: owner,
      body: { venueId: other.id, ...newTimes(), timezone: "Europe/London", version: await version(event.id) },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ venueId: other.id, timezone: "Europe/London" });
  });

  it("lets an admin override with a reason: audited in the same write, and every holder is emailed once", async () => {
    const { event, buyer } = await postponedSoldEvent();
    const admin = await userWithRole(tenant, "admin");
    const other = await createVenue(owner, { name: "Hall Two", city: "Potsdam" });
    const times = newTimes();
    const queue = recordingQueue();
    const res = await callApp(envWithQueue(queue), "PATCH", eventPath(event.id), {
      token: admin.tokens.accessToken,
      body: { venueId: other.id, ...times, version: await version(event.id), override: OVERRIDE },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ venueId: other.id, startsAt: times.startsAt, endsAt: times.endsAt });

    const [entry] = await auditOf(tenant.id, event.id, "event.protected_override");
    expect(entry).toEqual({
      action: "event.protected_override",
      actorId: admin.id,
      targetId: event.id,
      details: {
        fields: ["venueId", "startsAt", "endsAt"],
        reason: OVERRIDE.reason,
        sold: 1,
        before: { venueId: event.venueId, startsAt: event.startsAt, endsAt: event.endsAt },
        after: { venueId: other.id, startsAt: times.startsAt, endsAt: times.endsAt },
      },
    });
    // The ordinary history entry is there too.
    expect((await auditOf(tenant.id, event.id, "event.updated")).at(-1)!.details).toMatchObject({ changes: { venueId: { to: other.id } } });

    // The holders' notice was committed with the change and sent right after it.
    const notice = (await outboxRows(event.id)).find((r) => r.body.kind === "event.changed_for_holders");
    expect(notice).toMatchObject({ sentAt: expect.any(Number), body: { eventId: event.id, fields: ["venueId", "startsAt", "endsAt"], reason: OVERRIDE.reason } });
    const sent = queue.bodies.filter((b) => b.eventId === event.id && b.kind === "event.changed_for_holders");
    expect(sent).toEqual([expect.objectContaining({ outboxId: notice!.id })]);

    // Delivered twice, it emails the holder once.
    expect((await deliver([{ id: "n-1", body: sent[0] }])).explicitAcks).toEqual(["n-1"]);
    expect((await deliver([{ id: "n-2", body: sent[0] }])).explicitAcks).toEqual(["n-2"]);
    const emails = await holderEmails(notice!.id);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ recipient: buyer.email.toLowerCase(), template: "event_changed" });
    expect(emails[0]!.body).toContain(OVERRIDE.reason);
    expect(emails[0]!.body).toContain("- Venue: Hall One, Berlin → Hall Two, Potsdam");
  });

  it("refuses an override from anyone but an owner or admin, even an organizer who may edit the event", async () => {
    const { event } = await postponedSoldEvent();
    const organizer = await userWithRole(tenant, "organizer");
    expect((await call("PUT", `/v1/venues/${event.venueId}/access/${organizer.id}`, { token: owner })).status).toBe(204);
    const token = organizer.tokens.accessToken;
    const v = await version(event.id);

    const refused = await call("PATCH", eventPath(event.id), { token, body: { ...newTimes(), version: v, override: OVERRIDE } });
    expect(expectProblem(refused, 403, "FORBIDDEN").detail).toBe("only tenant admins may override sold-ticket protection");
    // Without the override the organizer meets the protection itself.
    expectProblem(await call("PATCH", eventPath(event.id), { token, body: { ...newTimes(), version: v } }), 409, "PROTECTED_FIELD");
    // Keys act for the tenant but are not admins.
    const key = await createApiKey(tenant, ["events:write", "events:read"]);
    expectProblem(await call("PATCH", eventPath(event.id), { token: key.key, body: { ...newTimes(), version: v, override: OVERRIDE } }), 403, "FORBIDDEN");
    expect(await version(event.id)).toBe(v);
  });

  it("validates the override's reason", async () => {
    const { event } = await postponedSoldEvent();
    const res = await call("PATCH", eventPath(event.id), { token: owner, body: { ...newTimes(), version: await version(event.id), override: { reason: "because" } } });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([expect.objectContaining({ field: "body.override.reason" })]);
  });

  it("refuses (503) rather than guess when the inventory cannot say what is sold", async () => {
    const { event } = await onSaleEvent(tenant, { priceMinor: 0 });
    await transition(owner, event.id, "POSTPONED");
    const unreachable = {
      idFromName: (name: string) => env.EVENT_INVENTORY.idFromName(name),
      get: () => ({
        counts: async () => {
          throw new Error("inventory unreachable (test)");
        },
      }),
    };
    const v = await version(event.id);
    const res = await callApp(envWith({ EVENT_INVENTORY: unreachable }), "PATCH", eventPath(event.id), { token: owner, body: { ...newTimes(), version: v } });
    expectProblem(res, 503, "DEPENDENCY_UNAVAILABLE");
    expect(await version(event.id)).toBe(v);
  });

  it("does not ask the inventory about events that cannot have sold yet (drafts)", async () => {
    const venue = await createVenue(owner);
    const draft = await createEvent(owner, venue.id);
    let asked = 0;
    const counting = {
      idFromName: (name: string) => env.EVENT_INVENTORY.idFromName(name),
      get: () => ({
        counts: async () => {
          asked++;
          return [];
        },
        syncGate: async () => undefined,
      }),
    };
    const res = await callApp(envWith({ EVENT_INVENTORY: counting }), "PATCH", eventPath(draft.id), { token: owner, body: { ...newTimes(), version: 1 } });
    expect(res.status, res.text).toBe(200);
    expect(asked).toBe(0);
  });
});

describe("sold-ticket protection of a reschedule", () => {
  const reschedule = (times: { startsAt: string; endsAt: string }, v: number, extra: Record<string, unknown> = {}) => ({
    to: "RESCHEDULED",
    reason: "artist ill",
    schedule: times,
    version: v,
    ...extra,
  });

  it("refuses to reschedule an event with sold tickets without an override", async () => {
    const { event } = await soldEvent(tenant);
    const v = await version(event.id);
    const res = await call("POST", statusPath(event.id), { token: owner, body: reschedule(newTimes(), v) });
    const problem = expectProblem(res, 409, "PROTECTED_FIELD");
    expect(problem.fields).toEqual(["startsAt", "endsAt"]);
    expect(problem.errors!.map((e) => e.field)).toEqual(["body.schedule.startsAt", "body.schedule.endsAt"]);
    expect((await call("GET", eventPath(event.id), { token: owner })).body).toMatchObject({ status: "ON_SALE", version: v });

    // Before any sale the same reschedule goes through.
    const { event: unsold } = await onSaleEvent(tenant, { priceMinor: 0 });
    const ok = await call("POST", statusPath(unsold.id), { token: owner, body: reschedule(newTimes(), await version(unsold.id)) });
    expect(ok.status, ok.text).toBe(200);
  });

  it("reschedules with an admin's override: audited next to the status change, holders told by the reschedule notice", async () => {
    const { event, buyer } = await soldEvent(tenant);
    const times = newTimes();
    const queue = recordingQueue();
    const organizer = await userWithRole(tenant, "organizer");
    expect((await call("PUT", `/v1/venues/${event.venueId}/access/${organizer.id}`, { token: owner })).status).toBe(204);
    const refused = await call("POST", statusPath(event.id), {
      token: organizer.tokens.accessToken,
      body: reschedule(times, await version(event.id), { override: OVERRIDE }),
    });
    expect(expectProblem(refused, 403, "FORBIDDEN").detail).toBe("only tenant admins may override sold-ticket protection");

    const res = await callApp(envWithQueue(queue), "POST", statusPath(event.id), {
      token: owner,
      body: reschedule(times, await version(event.id), { override: OVERRIDE }),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: "RESCHEDULED", startsAt: times.startsAt, endsAt: times.endsAt });
    const [entry] = await auditOf(tenant.id, event.id, "event.protected_override");
    expect(entry!.details).toEqual({
      fields: ["startsAt", "endsAt"],
      reason: OVERRIDE.reason,
      sold: 1,
      before: { startsAt: event.startsAt, endsAt: event.endsAt },
      after: times,
    });
    expect((await auditOf(tenant.id, event.id, "event.status_changed")).at(-1)!.details).toMatchObject({ to: "RESCHEDULED" });

    // One notice: the reschedule's own.
    const sent = queue.bodies.filter((b) => b.eventId === event.id);
    expect(sent.map((b) => [b.kind, b.to])).toEqual([["event.status_changed", "RESCHEDULED"]]);
    await deliver([{ id: "r-1", body: sent[0] }]);
    const [email] = await holderEmails(sent[0]!.outboxId as string);
    expect(email).toMatchObject({ recipient: buyer.email.toLowerCase(), template: "event_rescheduled" });
  });

  it("takes an override only with RESCHEDULED", async () => {
    const { event } = await soldEvent(tenant);
    const res = await call("POST", statusPath(event.id), {
      token: owner,
      body: { to: "POSTPONED", reason: "artist ill", version: await version(event.id), override: OVERRIDE },
    });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "body.override", message: "only a move to RESCHEDULED takes an override" }]);
  });
});
