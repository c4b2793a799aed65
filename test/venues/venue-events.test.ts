import { describe, expect, it } from "vitest";
import { createEvent, eventBody } from "../helpers/event-fixtures";
import { createTenant, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { OWNER_BODY } from "./support";

// End to end through POST /v1/events: what venue access and venue deletion mean to the
// people creating events. The rules themselves live in src/domain/event-access.ts.

async function venueOf(t: TenantFixture) {
  const res = await call("POST", "/v1/venues", { token: t.owner.tokens.accessToken, body: OWNER_BODY });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; version: number };
}

describe("venue access as organizers meet it", () => {
  it("an organizer can create events at a venue only while granted access", async () => {
    const t = await createTenant();
    const owner = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const organizer = await userWithRole(t, "organizer");
    const token = organizer.tokens.accessToken;

    expectProblem(await call("POST", "/v1/events", { token, body: eventBody(v.id) }), 403, "VENUE_ACCESS_DENIED");
    expect((await call("PUT", `/v1/venues/${v.id}/access/${organizer.id}`, { token: owner })).status).toBe(204);
    const created = await call("POST", "/v1/events", { token, body: eventBody(v.id) });
    expect(created.status, created.text).toBe(201);
    expect(created.body.venueId).toBe(v.id);
    expect((await call("DELETE", `/v1/venues/${v.id}/access/${organizer.id}`, { token: owner })).status).toBe(204);
    expectProblem(await call("POST", "/v1/events", { token, body: eventBody(v.id) }), 403, "VENUE_ACCESS_DENIED");
  });
});

describe("deleting a venue that has events", () => {
  it("is refused while an event there is live, allowed once it is deleted; then no event can be created there", async () => {
    const t = await createTenant();
    const owner = t.owner.tokens.accessToken;
    const v = await venueOf(t);
    const event = await createEvent(owner, v.id);

    const refused = expectProblem(await call("DELETE", `/v1/venues/${v.id}?version=1`, { token: owner }), 409, "CONFLICT");
    expect(refused.liveEvents).toBe(1);

    const eventGone = await call("DELETE", `/v1/events/${event.id}`, { token: owner, headers: { "if-match": `"v${event.version}"` } });
    expect(eventGone.status, eventGone.text).toBe(204);
    expect((await call("DELETE", `/v1/venues/${v.id}?version=1`, { token: owner })).status).toBe(204);

    const res = await call("POST", "/v1/events", { token: owner, body: eventBody(v.id) });
    expect(expectProblem(res, 400, "VALIDATION_FAILED").errors).toEqual([expect.objectContaining({ field: "body.venueId" })]);
  });
});
