import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { handleHolderNotice } from "../../src/notifications/event-status-changed";
import type { HolderNoticeMessage } from "../../src/notifications/messages";
import { createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { call } from "../helpers/http";
import { callApp } from "../http/app-harness";
import { buy, drainInventory } from "../orders/support";
import { holderEmails } from "../protection/support";
import { HOUR, iso, onSaleEvent } from "../sales/support";
import { deliver, envWithQueue, recordingQueue } from "./queues";
import { eventNotifications, statusPath } from "./seed";

let tenant: TenantFixture;
let owner: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
});

/**
 * An on-sale event with holders: `a` bought 2 tickets (one of which was then given to a
 * not-yet-registered friend, a pending transfer), `b` bought 1, `c` bought 1 that was
 * refunded. Ticket rows are adjusted in D1 directly: the transfer and refund flows are
 * not what is under test here.
 */
async function eventWithHolders() {
  const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 50 });
  const [a, b, c] = [await registerUser(tenant), await registerUser(tenant), await registerUser(tenant)];
  const orders = [];
  for (const [u, qty] of [[a, 2], [b, 1], [c, 1]] as const) {
    const res = await buy(u.tokens.accessToken, event.id, tier.id, qty);
    expect(res.status, res.text).toBe(201);
    orders.push(res.body as { tickets: { id: string }[] });
  }
  await drainInventory(tenant.id, event.id);
  const friend = `friend-${crypto.randomUUID().slice(0, 8)}@example.test`;
  await env.DB.prepare("UPDATE tickets SET holder_id = ? WHERE id = ?").bind(`email:${friend}`, orders[0]!.tickets[1]!.id).run();
  await env.DB.prepare("UPDATE tickets SET status = 'refunded' WHERE id = ?").bind(orders[2]!.tickets[0]!.id).run();
  return { event, tier, a, b, c, friend };
}

async function changeStatus(eventId: string, body: Record<string, unknown>) {
  const queue = recordingQueue();
  const current = await call("GET", `/v1/events/${eventId}`, { token: owner });
  const res = await callApp(envWithQueue(queue), "POST", statusPath(eventId), { token: owner, body: { version: current.body.version, ...body } });
  expect(res.status, res.text).toBe(200);
  const [message] = queue.bodies.filter((m) => m.eventId === eventId);
  expect(message).toBeDefined();
  return message as HolderNoticeMessage;
}

describe("telling ticket holders about postponement, rescheduling and cancellation", () => {
  it("emails every holder of an active ticket once, even when the message is delivered twice", async () => {
    const { event, a, b, c, friend } = await eventWithHolders();
    const m = await changeStatus(event.id, { to: "POSTPONED", reason: "The artist is ill" });

    const first = await deliver([
      { id: "p-1", body: m },
      { id: "p-2", body: m },
    ]);
    expect(first.explicitAcks.sort()).toEqual(["p-1", "p-2"]);
    expect((await deliver([{ id: "p-3", body: m, attempts: 2 }])).explicitAcks).toEqual(["p-3"]);

    const emails = await holderEmails(m.outboxId);
    expect(emails.map((e) => e.recipient).sort()).toEqual([a.email, b.email, friend].map((e) => e.toLowerCase()).sort());
    expect(emails.map((e) => e.recipient)).not.toContain(c.email.toLowerCase());
    for (const e of emails) {
      expect(e.template).toBe("event_postponed");
      expect(e.subject).toMatch(/^Postponed: /);
      expect(e.body).toContain("The artist is ill");
    }
    expect(await eventNotifications(event.id)).toEqual([
      expect.objectContaining({ outbox_id: m.outboxId, kind: "event.status_changed", to_status: "POSTPONED", recipients: 3 }),
    ]);
  });

  it("tells holders the new date of a reschedule and the reason of a cancellation", async () => {
    const { event, b } = await eventWithHolders();
    const startsAt = Date.UTC(2031, 5, 14, 18, 30);
    const rescheduled = await changeStatus(event.id, {
      to: "RESCHEDULED",
      reason: "Bigger hall",
      schedule: { startsAt: iso(startsAt), endsAt: iso(startsAt + 3 * HOUR) },
      override: { reason: "Moving to a bigger date, holders agreed" },
    });
    await deliver([{ id: "r", body: rescheduled }]);
    const [toB] = (await holderEmails(rescheduled.outboxId)).filter((e) => e.recipient === b.email.toLowerCase());
    expect(toB).toMatchObject({ template: "event_rescheduled", subject: expect.stringMatching(/^New date: /) });
    // In the event's time zone (Europe/Berlin: UTC+2 in June).
    expect(toB!.body).toMatch(/Saturday,? 14 June 2031,? (at )?20:30 \(Europe\/Berlin\)/);

    const cancelled = await changeStatus(event.id, { to: "CANCELLED", reason: "The venue flooded" });
    await deliver([{ id: "x", body: cancelled }]);
    const emails = await holderEmails(cancelled.outboxId);
    expect(emails).toHaveLength(3);
    expect(emails.every((e) => e.template === "event_cancelled" && e.body.includes("The venue flooded"))).toBe(true);
  });

  it("continues a fan-out too large for one delivery in further messages, and still emails each holder once", async () => {
    const { event, a, b, friend } = await eventWithHolders();
    const m = await changeStatus(event.id, { to: "POSTPONED", reason: "Storm warning" });
    const db = createDb(env.DB);
    const continuations: HolderNoticeMessage[] = [];
    const deps = {
      delivery: "sink" as const,
      appUrl: "https://app.example.test",
      now: Date.now(),
      continueWith: async (next: HolderNoticeMessage) => {
        continuations.push(next);
      },
      // Three active tickets, one per page, two pages per delivery.
      pageSize: 1,
      pagesPerDelivery: 2,
    };

    const first = await handleHolderNotice(db, m, deps);
    expect(first).toEqual({ processed: true, recipients: 0, continued: true });
    expect(continuations).toHaveLength(1);
    expect(continuations[0]).toEqual({ ...m, resume: { afterNumber: expect.any(Number) } });
    expect(await eventNotifications(event.id)).toEqual([]);
    expect(await holderEmails(m.outboxId)).toHaveLength(2);

    // The first delivery is retried (it died before its ack): it hands on again, sends nothing new.
    await handleHolderNotice(db, m, deps);
    expect(continuations).toHaveLength(2);
    expect(continuations[1]).toEqual(continuations[0]);
    expect(await holderEmails(m.outboxId)).toHaveLength(2);

    // The continuation (through the real consumer this time) finishes and records the change.
    const done = await deliver([{ id: "c-1", body: continuations[0] }]);
    expect(done.explicitAcks).toEqual(["c-1"]);
    const emails = await holderEmails(m.outboxId);
    expect(emails.map((e) => e.recipient).sort()).toEqual([a.email, b.email, friend].map((e) => e.toLowerCase()).sort());
    expect(await eventNotifications(event.id)).toEqual([expect.objectContaining({ outbox_id: m.outboxId, recipients: 3 })]);

    // Once recorded, any further copy is a no-op.
    expect(await handleHolderNotice(db, continuations[1]!, deps)).toEqual({ processed: false, recipients: 3, continued: false });
    expect(await handleHolderNotice(db, m, deps)).toEqual({ processed: false, recipients: 3, continued: false });
    expect(continuations).toHaveLength(2);
  });

  it("acks and drops a continuation whose resume point is malformed", async () => {
    const { event } = await onSaleEvent(tenant, { priceMinor: 0 });
    const m = await changeStatus(event.id, { to: "POSTPONED", reason: "Storm warning" });
    const result = await deliver([{ id: "bad", body: { ...m, resume: { afterNumber: -1 } } }]);
    expect(result.explicitAcks).toEqual(["bad"]);
    expect(result.retryMessages).toEqual([]);
    expect(await holderEmails(m.outboxId)).toEqual([]);
  });
});
