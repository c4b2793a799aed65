import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectProblem, type CallResult } from "../helpers/http";
import { eventsWorld, patch, postEvent, validEvent } from "./support";

let world: Awaited<ReturnType<typeof eventsWorld>>;
beforeAll(async () => {
  world = await eventsWorld();
});

const updateEntries = async (eventId: string) =>
  (
    await env.DB.prepare("SELECT details FROM audit_log WHERE target_type = 'event' AND target_id = ? AND action = 'event.updated'")
      .bind(eventId)
      .all<{ details: string }>()
  ).results.map((r) => JSON.parse(r.details));

/** Sends the patches at once and checks that exactly one won; returns the winner's index. */
async function race(eventId: string, bodies: Record<string, unknown>[], viaHeader: boolean) {
  const results: CallResult[] = await Promise.all(
    bodies.map((b) => (viaHeader ? patch(world.owner, eventId, b, 1) : patch(world.owner, eventId, { ...b, version: 1 }))),
  );
  const winners = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
  expect(winners, results.map((r) => r.text).join("\n")).toHaveLength(1);
  for (const [i, r] of results.entries()) {
    if (i === winners[0]) continue;
    const problem = viaHeader ? expectProblem(r, 412, "PRECONDITION_FAILED") : expectProblem(r, 409, "VERSION_CONFLICT");
    expect(problem.currentVersion).toBe(2);
  }
  return winners[0]!;
}

describe("concurrent updates with the same version", () => {
  it("If-Match: exactly one 200, the other 412 with currentVersion; the row and history hold only the winner", async () => {
    const ev = await postEvent(world.owner, validEvent(world.venue.id, { name: "Original" }));
    const bodies = [{ name: "Alice's edit", description: "from Alice" }, { name: "Bob's edit", ageRestriction: 21 }];
    const w = await race(ev.id, bodies, true);

    const final = await call("GET", `/v1/events/${ev.id}`, { token: world.owner });
    expect(final.body.version).toBe(2);
    expect(final.body).toMatchObject(bodies[w]!);
    // Nothing of the loser's edit leaked into the row.
    const loser = bodies[1 - w]!;
    for (const [field, value] of Object.entries(loser)) if (!(field in bodies[w]!)) expect(final.body[field]).not.toEqual(value);

    const entries = await updateEntries(ev.id);
    expect(entries).toHaveLength(1);
    expect(entries[0].changes.name).toEqual({ from: "Original", to: bodies[w]!.name });
  });

  it("body version: exactly one 200, the other 409 VERSION_CONFLICT with currentVersion", async () => {
    const ev = await postEvent(world.owner, validEvent(world.venue.id));
    const bodies = [{ name: "First" }, { name: "Second" }];
    const w = await race(ev.id, bodies, false);
    const final = await call("GET", `/v1/events/${ev.id}`, { token: world.owner });
    expect(final.body).toMatchObject({ name: bodies[w]!.name, version: 2 });
    expect(await updateEntries(ev.id)).toHaveLength(1);
  });

  it("eight writers at once: still exactly one wins and one history entry is written", async () => {
    const ev = await postEvent(world.owner, validEvent(world.venue.id));
    const bodies = Array.from({ length: 8 }, (_, i) => ({ name: `Writer ${i}`, priorityScore: i + 1 }));
    const w = await race(ev.id, bodies, true);
    const final = await call("GET", `/v1/events/${ev.id}`, { token: world.owner });
    expect(final.body).toMatchObject({ ...bodies[w], version: 2 });
    expect(await updateEntries(ev.id)).toHaveLength(1);
  });

  it("a retry with the current version after losing goes through", async () => {
    const ev = await postEvent(world.owner, validEvent(world.venue.id));
    const w = await race(ev.id, [{ name: "A" }, { name: "B" }], true);
    const retry = await patch(world.owner, ev.id, { name: w === 0 ? "B" : "A" }, 2);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body.version).toBe(3);
  });
});
