import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { drainOutbox } from "../../src/outbox/drain";
import { createTenant, type TenantFixture } from "../helpers/fixtures";
import { callApp } from "../http/app-harness";
import { deliver, envWithQueue, failingQueue, recordingQueue, runCron } from "./queues";
import { changeStatus, eventNotifications, outboxRows, pendingOutboxCount, seedEvent, statusPath } from "./seed";

// Every request in this file goes through callApp, which waits for the response's
// waitUntil work (the drain), so no drain outlives the test that started it.

let tenant: TenantFixture;
let owner: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
});

async function cancelWith(queue: object, eventId: string, reason = "venue flooded") {
  const res = await callApp(envWithQueue(queue), "POST", statusPath(eventId), { token: owner, body: { to: "CANCELLED", reason, version: 1 } });
  expect(res.status, res.text).toBe(200);
  return res;
}

const onSale = () => seedEvent(tenant.id, tenant.owner.id, { status: "ON_SALE" });

describe("outbox drain", () => {
  it("sends the message right after the status change, carrying the outbox id, and marks it sent", async () => {
    const queue = recordingQueue();
    const event = await onSale();
    const res = await cancelWith(queue, event.id);
    const [row] = await outboxRows(event.id);
    expect(row).toMatchObject({ topic: "notifications", attempts: 1, lastError: null, sentAt: expect.any(Number) });
    expect(queue.bodies).toEqual([
      {
        kind: "event.status_changed",
        outboxId: row!.id,
        tenantId: tenant.id,
        eventId: event.id,
        from: "ON_SALE",
        to: "CANCELLED",
        reason: "venue flooded",
        at: Date.parse(res.body.statusChangedAt),
      },
    ]);
  });

  it("keeps a message the queue refused pending, with the error; the next drain sends it; the consumer acts on it once", async () => {
    const down = failingQueue();
    const event = await onSale();
    // The change itself is committed and answered even though the queue is down.
    const res = await cancelWith(down, event.id);
    expect(res.body.status).toBe("CANCELLED");
    expect(down.calls).toBe(1);
    const [pending] = await outboxRows(event.id);
    expect(pending).toMatchObject({ sentAt: null, attempts: 1, lastError: expect.stringContaining("queue unavailable (test)") });

    // Still down at the next tick: still pending, attempts counted.
    await runCron(Date.now(), envWithQueue(down));
    expect((await outboxRows(event.id))[0]).toMatchObject({ sentAt: null, attempts: 2 });

    // The queue is back: the cron's drain sends it and marks it sent.
    const up = recordingQueue();
    const tick = Date.now();
    await runCron(tick, envWithQueue(up));
    const sent = up.bodies.filter((b) => b.eventId === event.id);
    expect(sent).toEqual([expect.objectContaining({ kind: "event.status_changed", outboxId: pending!.id, to: "CANCELLED" })]);
    expect((await outboxRows(event.id))[0]).toMatchObject({ sentAt: tick, attempts: 3 });

    // Sent rows are not sent again.
    await runCron(Date.now(), envWithQueue(up));
    expect(up.bodies.filter((b) => b.eventId === event.id)).toHaveLength(1);

    // Even if the message arrives twice (a drain that died before marking it sent
    // resends it), the consumer acts on it once.
    const first = await deliver([{ id: "q-1", body: sent[0] }]);
    const second = await deliver([{ id: "q-2", body: sent[0] }]);
    expect(first.explicitAcks).toEqual(["q-1"]);
    expect(second.explicitAcks).toEqual(["q-2"]);
    expect(await eventNotifications(event.id)).toEqual([
      expect.objectContaining({ outbox_id: pending!.id, tenant_id: tenant.id, kind: "event.status_changed", to_status: "CANCELLED", recipients: 0 }),
    ]);
  });

  it("sends the oldest pending messages first, a bounded batch per drain", async () => {
    expect(await pendingOutboxCount()).toBe(0);
    const down = failingQueue();
    const events = [await onSale(), await onSale(), await onSale()];
    for (const e of events) await cancelWith(down, e.id);
    const { results } = await env.DB.prepare("SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY created_at, id").all<{ id: string }>();
    const pendingIds = results.map((r) => r.id);
    expect(pendingIds).toHaveLength(3);

    const up = recordingQueue();
    const db = createDb(env.DB);
    expect(await drainOutbox(db, { notifications: up }, Date.now(), { batchSize: 2, maxBatches: 1 })).toEqual({ sent: 2, failed: 0 });
    expect(up.bodies.map((b) => b.outboxId)).toEqual(pendingIds.slice(0, 2));
    expect(await pendingOutboxCount()).toBe(1);

    expect(await drainOutbox(db, { notifications: up }, Date.now(), { batchSize: 2 })).toEqual({ sent: 1, failed: 0 });
    expect(up.bodies.map((b) => b.outboxId)).toEqual(pendingIds);
    expect(await pendingOutboxCount()).toBe(0);
    expect(await drainOutbox(db, { notifications: up }, Date.now())).toEqual({ sent: 0, failed: 0 });
  });

  it("goes through the real queue to the consumer", async () => {
    const event = await onSale();
    // The real worker and queue: the response's drain sends, the live consumer records.
    const res = await changeStatus(owner, event.id, { to: "POSTPONED", reason: "artist ill", version: 1 });
    expect(res.status, res.text).toBe(200);
    // The local queue delivers asynchronously with no in-process trigger to flush it,
    // so wait for the consumer's record with a deadline.
    const deadline = Date.now() + 10_000;
    let rows = await eventNotifications(event.id);
    while (rows.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await eventNotifications(event.id);
    }
    const [message] = await outboxRows(event.id);
    expect(message!.sentAt).not.toBeNull();
    expect(rows).toEqual([expect.objectContaining({ outbox_id: message!.id, to_status: "POSTPONED", recipients: 0 })]);
  });
});
