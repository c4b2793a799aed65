import { beforeAll, describe, expect, it } from "vitest";
import { transition } from "../helpers/event-fixtures";
import { call, expectProblem } from "../helpers/http";
import { eventsWorld, ifMatch, patch, postEvent, validEvent } from "./support";

// Once an event is public, holders may exist: its date, time zone and venue change only
// through RESCHEDULED (which notifies them), and it is cancelled rather than deleted.
let world: Awaited<ReturnType<typeof eventsWorld>>;
beforeAll(async () => {
  world = await eventsWorld();
});
const fresh = () => postEvent(world.owner, validEvent(world.venue.id));

describe("schedule and venue of a published event", () => {
  it("refuses a PATCH of startsAt/endsAt with 409 SCHEDULE_LOCKED naming the fields, and changes nothing", async () => {
    const ev = await fresh();
    const published = await transition(world.owner, ev.id, "PUBLISHED");
    const later = (iso: string) => new Date(Date.parse(iso) + 86_400_000).toISOString();
    const res = await patch(world.owner, ev.id, { startsAt: later(published.startsAt), endsAt: later(published.endsAt) }, published.version);
    const problem = expectProblem(res, 409, "SCHEDULE_LOCKED");
    expect(problem.errors!.map((e) => e.field).sort()).toEqual(["body.endsAt", "body.startsAt"]);
    const now = await call("GET", `/v1/events/${ev.id}`, { token: world.owner });
    expect(now.body).toMatchObject({ startsAt: published.startsAt, version: published.version });
  });

  it("still allows other fields on a published event", async () => {
    const ev = await fresh();
    const published = await transition(world.owner, ev.id, "PUBLISHED");
    const res = await patch(world.owner, ev.id, { name: "Renamed while on sale", tags: ["late-show"] }, published.version);
    expect(res.status, res.text).toBe(200);
  });

  it("allows schedule edits again once the event is postponed", async () => {
    const ev = await fresh();
    const postponed = await transition(world.owner, ev.id, "PUBLISHED", "POSTPONED");
    const res = await patch(world.owner, ev.id, { timezone: "Europe/Paris" }, postponed.version);
    expect(res.status, res.text).toBe(200);
    expect(res.body.timezone).toBe("Europe/Paris");
  });
});

describe("deleting a published event", () => {
  it("is refused with 409 EVENT_NOT_DELETABLE; after cancelling it, delete works", async () => {
    const ev = await fresh();
    const published = await transition(world.owner, ev.id, "PUBLISHED");
    const refused = await call("DELETE", `/v1/events/${ev.id}`, { token: world.owner, headers: ifMatch(published.version) });
    expect(expectProblem(refused, 409, "EVENT_NOT_DELETABLE").currentStatus).toBe("PUBLISHED");
    expect((await call("GET", `/v1/events/${ev.id}`, { token: world.owner })).status).toBe(200);

    const cancelled = await transition(world.owner, ev.id, "CANCELLED");
    const res = await call("DELETE", `/v1/events/${ev.id}`, { token: world.owner, headers: ifMatch(cancelled.version) });
    expect(res.status, res.text).toBe(204);
  });
});
