import { beforeAll, expect, it } from "vitest";
import { call } from "../helpers/http";
import { eventsWorld, patch, postEvent, validEvent } from "./support";

let world: Awaited<ReturnType<typeof eventsWorld>>;
beforeAll(async () => {
  world = await eventsWorld();
});

// Event metadata is the tenant's own data: history must record it as sent, even under
// keys the log redactor treats as secret ("token", "d", "password").
it("records metadata changes verbatim in the history diff", async () => {
  const ev = await postEvent(world.owner, validEvent(world.venue.id));
  const res = await patch(world.owner, ev.id, { metadata: { token: "gate-7", d: "side-door" } }, 1);
  expect(res.status, res.text).toBe(200);
  const history = await call("GET", `/v1/events/${ev.id}/history`, { token: world.owner });
  expect(history.status, history.text).toBe(200);
  const update = history.body.items.find((e: { action: string }) => e.action === "event.updated");
  expect(update.details.changes.metadata.to).toEqual({ token: "gate-7", d: "side-door" });
});
