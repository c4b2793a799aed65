import { beforeAll, describe, expect, it } from "vitest";
import type { EventStatusChangedMessage } from "../../src/notifications/messages";
import { createTenant, type TenantFixture } from "../helpers/fixtures";
import { deliver } from "./queues";
import { eventNotifications, seedEvent } from "./seed";

let tenant: TenantFixture;
beforeAll(async () => {
  tenant = await createTenant();
});

async function message(overrides: Partial<EventStatusChangedMessage> = {}): Promise<EventStatusChangedMessage> {
  const event = await seedEvent(tenant.id, tenant.owner.id, { status: "CANCELLED" });
  return {
    kind: "event.status_changed",
    outboxId: crypto.randomUUID(),
    tenantId: tenant.id,
    eventId: event.id,
    from: "ON_SALE",
    to: "CANCELLED",
    reason: "venue flooded",
    at: Date.now(),
    ...overrides,
  };
}

describe("notification consumer: event.status_changed", () => {
  it("records the change once per outbox id, however often and however batched it arrives", async () => {
    const m = await message();
    const first = await deliver([
      { id: "a", body: m },
      { id: "b", body: m },
    ]);
    expect(first.explicitAcks.sort()).toEqual(["a", "b"]);
    expect(first.retryMessages).toEqual([]);
    const again = await deliver([{ id: "c", body: m, attempts: 2 }]);
    expect(again.explicitAcks).toEqual(["c"]);
    const rows = await eventNotifications(m.eventId);
    expect(rows).toEqual([
      {
        outbox_id: m.outboxId,
        tenant_id: tenant.id,
        event_id: m.eventId,
        kind: "event.status_changed",
        to_status: "CANCELLED",
        recipients: 0,
        processed_at: expect.any(Number),
      },
    ]);
  });

  it("records each outbox message of the same event separately", async () => {
    const postponed = await message({ to: "POSTPONED" });
    const rescheduled = { ...postponed, outboxId: crypto.randomUUID(), from: "POSTPONED" as const, to: "RESCHEDULED" as const, schedule: { startsAt: Date.now() + 1e9, endsAt: Date.now() + 1e9 + 3_600_000, doorsOpenAt: null } };
    const result = await deliver([
      { id: "p", body: postponed },
      { id: "r", body: rescheduled },
    ]);
    expect(result.explicitAcks.sort()).toEqual(["p", "r"]);
    expect((await eventNotifications(postponed.eventId)).map((r) => r.to_status).sort()).toEqual(["POSTPONED", "RESCHEDULED"]);
  });

  it("acks malformed domain events without recording or retrying them", async () => {
    const m = await message();
    const invalid = [
      { ...m, outboxId: undefined },
      { ...m, outboxId: "not-a-uuid" },
      { ...m, to: "ABANDONED" },
      { ...m, at: "yesterday" },
      { ...m, reason: "x".repeat(501) },
      { ...m, recipients: ["everyone@example.test"] },
    ];
    const result = await deliver(invalid.map((body, i) => ({ id: `bad-${i}`, body })));
    expect(result.explicitAcks).toHaveLength(invalid.length);
    expect(result.retryMessages).toEqual([]);
    expect(await eventNotifications(m.eventId)).toEqual([]);
  });

  it("retries a message it could not record instead of losing it", async () => {
    // An event id no tenant has: the record's foreign key refuses it.
    const m = await message();
    const orphan = { ...m, eventId: crypto.randomUUID() };
    const result = await deliver([{ id: "orphan", body: orphan }]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: "orphan" }]);
    expect(await eventNotifications(orphan.eventId)).toEqual([]);
  });
});
