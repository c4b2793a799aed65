import { beforeAll, describe, expect, it } from "vitest";
import { call, expectProblem } from "../helpers/http";
import { eventsWorld, ifMatch, patch, postEvent, validEvent } from "./support";

let world: Awaited<ReturnType<typeof eventsWorld>>;
beforeAll(async () => {
  world = await eventsWorld();
});
const fresh = (overrides: Record<string, unknown> = {}) => postEvent(world.owner, validEvent(world.venue.id, overrides));

describe("DELETE /v1/events/{eventId}", () => {
  it("soft-deletes under If-Match: 204, then 404 to reads, edits and a second delete, and gone from the list", async () => {
    const ev = await fresh();
    const res = await call("DELETE", `/v1/events/${ev.id}`, { token: world.owner, headers: ifMatch(1) });
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");
    expectProblem(await call("GET", `/v1/events/${ev.id}`, { token: world.owner }), 404, "NOT_FOUND");
    expectProblem(await patch(world.owner, ev.id, { name: "ghost" }, 2), 404, "NOT_FOUND");
    expectProblem(await call("DELETE", `/v1/events/${ev.id}`, { token: world.owner, headers: ifMatch(2) }), 404, "NOT_FOUND");
    const list = await call("GET", "/v1/events?limit=100", { token: world.owner });
    expect(list.text).not.toContain(ev.id);
  });

  it("accepts the version as ?version=", async () => {
    const ev = await fresh();
    expect((await call("DELETE", `/v1/events/${ev.id}?version=1`, { token: world.owner })).status).toBe(204);
  });

  it("requires a version: 428 PRECONDITION_REQUIRED", async () => {
    const ev = await fresh();
    expectProblem(await call("DELETE", `/v1/events/${ev.id}`, { token: world.owner }), 428, "PRECONDITION_REQUIRED");
    expect((await call("GET", `/v1/events/${ev.id}`, { token: world.owner })).status).toBe(200);
  });

  it("refuses a stale version (412 for If-Match, 409 for ?version=) with currentVersion, and deletes nothing", async () => {
    const ev = await fresh();
    expect((await patch(world.owner, ev.id, { name: "Edited" }, 1)).status).toBe(200);
    const viaHeader = await call("DELETE", `/v1/events/${ev.id}`, { token: world.owner, headers: ifMatch(1) });
    expect(expectProblem(viaHeader, 412, "PRECONDITION_FAILED").currentVersion).toBe(2);
    const viaQuery = await call("DELETE", `/v1/events/${ev.id}?version=1`, { token: world.owner });
    expect(expectProblem(viaQuery, 409, "VERSION_CONFLICT").currentVersion).toBe(2);
    expect((await call("GET", `/v1/events/${ev.id}`, { token: world.owner })).body.name).toBe("Edited");
  });

  it("refuses a malformed ?version=", async () => {
    const ev = await fresh();
    const res = await call("DELETE", `/v1/events/${ev.id}?version=latest`, { token: world.owner });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([{ field: "query.version", message: expect.any(String) }]);
  });

  it("frees the slug at the venue for a new event", async () => {
    const ev = await fresh({ slug: "reusable" });
    expectProblem(await call("POST", "/v1/events", { token: world.owner, body: validEvent(world.venue.id, { slug: "reusable" }) }), 409, "SLUG_TAKEN");
    expect((await call("DELETE", `/v1/events/${ev.id}`, { token: world.owner, headers: ifMatch(1) })).status).toBe(204);
    expect((await fresh({ slug: "reusable" })).slug).toBe("reusable");
  });

  it("races: of a delete and an edit sent at once, exactly one succeeds", async () => {
    const ev = await fresh();
    const [del, edit] = await Promise.all([
      call("DELETE", `/v1/events/${ev.id}`, { token: world.owner, headers: ifMatch(1) }),
      patch(world.owner, ev.id, { name: "Racing edit" }, 1),
    ]);
    expect([del.status, edit.status].filter((s) => s < 300)).toHaveLength(1);
    if (del.status === 204) expect([404, 412]).toContain(edit.status);
    else expectProblem(del, 412, "PRECONDITION_FAILED");
  });
});
