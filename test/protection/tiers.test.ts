import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, registerUser, userWithRole, type TenantFixture } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { deliver, envWithQueue, recordingQueue } from "../events-status/queues";
import { outboxRows } from "../events-status/seed";
import { callApp } from "../http/app-harness";
import { buy, drainInventory } from "../orders/support";
import { addTier, DAY, iso, onSaleEvent, tiersPath } from "../sales/support";
import { auditOf, holderEmails, soldEvent } from "./support";

let tenant: TenantFixture;
let owner: string;
beforeAll(async () => {
  tenant = await createTenant();
  owner = tenant.owner.tokens.accessToken;
});

const tierPath = (eventId: string, tierId: string) => `${tiersPath(eventId)}/${tierId}`;
const tierNow = async (eventId: string, tierId: string) => (await call("GET", tierPath(eventId, tierId), { token: owner })).body;
const OVERRIDE = { reason: "Tax rate changed by law on the first of the month" };

describe("sold-ticket protection of a tier", () => {
  it("refuses currency and price-rule changes of a tier with sold tickets, listing the fields", async () => {
    const { event, tier } = await soldEvent(tenant, 2);
    const cases: [Record<string, unknown>, string[]][] = [
      [{ priceMinor: 100 }, ["priceMinor"]],
      [{ currency: "USD" }, ["currency"]],
      [{ serviceFeeMinor: 50, facilityFeeMinor: 25, taxBps: 1900 }, ["serviceFeeMinor", "facilityFeeMinor", "taxBps"]],
      [
        {
          earlyBird: { priceMinor: 0, until: iso(Date.now() + DAY) },
          lastMinute: { priceMinor: 0, from: iso(Date.now() + 2 * DAY) },
          groupDiscount: { minQuantity: 4, bps: 1000 },
        },
        ["earlyBird", "lastMinute", "groupDiscount"],
      ],
    ];
    for (const [change, fields] of cases) {
      const res = await call("PATCH", tierPath(event.id, tier.id), { token: owner, body: { ...change, name: "Renamed", version: 1 } });
      const problem = expectProblem(res, 409, "PROTECTED_FIELD");
      expect(problem.fields, JSON.stringify(change)).toEqual(fields);
      expect(problem.sold).toBe(2);
    }
    expect(await tierNow(event.id, tier.id)).toMatchObject({ version: 1, priceMinor: 0, currency: "EUR", name: "General admission" });

    // What buyers did not pay for still changes; capacity below what is sold stays the inventory's refusal.
    const renamed = await call("PATCH", tierPath(event.id, tier.id), { token: owner, body: { name: "Renamed", capacity: 60, version: 1 } });
    expect(renamed.status, renamed.text).toBe(200);
    expectProblem(await call("PATCH", tierPath(event.id, tier.id), { token: owner, body: { capacity: 1, version: 2 } }), 409, "CAPACITY_BELOW_COMMITTED");
    expect(await auditOf(tenant.id, tier.id, "tier.protected_override")).toEqual([]);
  });

  it("leaves unsold tiers free, also on an event with sales elsewhere, and any tier before its first sale", async () => {
    const { event } = await soldEvent(tenant);
    const other = await addTier(owner, event.id, { name: "Balcony", priceMinor: 0 });
    const res = await call("PATCH", tierPath(event.id, other.id), { token: owner, body: { priceMinor: 2500, taxBps: 700, version: 1 } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ priceMinor: 2500, taxBps: 700 });

    const { event: unsold, tier } = await onSaleEvent(tenant, { priceMinor: 1000 });
    const ok = await call("PATCH", tierPath(unsold.id, tier.id), { token: owner, body: { priceMinor: 1200, version: 1 } });
    expect(ok.status, ok.text).toBe(200);
  });

  it("lets an admin override: audited in the same write, and only that tier's holders are emailed, once", async () => {
    const { event, tier, buyer } = await soldEvent(tenant);
    // A holder of another tier of the same event is not told about this tier's price.
    const balcony = await addTier(owner, event.id, { name: "Balcony", priceMinor: 0 });
    const other = await registerUser(tenant);
    expect((await buy(other.tokens.accessToken, event.id, balcony.id, 1)).status).toBe(201);
    await drainInventory(tenant.id, event.id);

    const organizer = await userWithRole(tenant, "organizer");
    expect((await call("PUT", `/v1/venues/${event.venueId}/access/${organizer.id}`, { token: owner })).status).toBe(204);
    const refused = await call("PATCH", tierPath(event.id, tier.id), {
      token: organizer.tokens.accessToken,
      body: { taxBps: 700, version: 1, override: OVERRIDE },
    });
    expect(expectProblem(refused, 403, "FORBIDDEN").detail).toBe("only tenant admins may override sold-ticket protection");

    const queue = recordingQueue();
    const res = await callApp(envWithQueue(queue), "PATCH", tierPath(event.id, tier.id), {
      token: owner,
      body: { priceMinor: 1500, taxBps: 700, version: 1, override: OVERRIDE },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ priceMinor: 1500, taxBps: 700, version: 2, inForce: true });

    const [entry] = await auditOf(tenant.id, tier.id, "tier.protected_override");
    expect(entry).toEqual({
      action: "tier.protected_override",
      actorId: tenant.owner.id,
      targetId: tier.id,
      details: {
        eventId: event.id,
        fields: ["priceMinor", "taxBps"],
        reason: OVERRIDE.reason,
        sold: 1,
        before: { priceMinor: 0, taxBps: 0 },
        after: { priceMinor: 1500, taxBps: 700 },
      },
    });
    expect(await auditOf(tenant.id, tier.id, "tier.updated")).toEqual([expect.objectContaining({ details: expect.objectContaining({ version: 2 }) })]);

    const notice = (await outboxRows(event.id)).find((r) => r.body.kind === "event.changed_for_holders");
    expect(notice).toMatchObject({ sentAt: expect.any(Number), body: { tierId: tier.id, fields: ["priceMinor", "taxBps"] } });
    const sent = queue.bodies.filter((b) => b.eventId === event.id);
    expect(sent).toEqual([expect.objectContaining({ kind: "event.changed_for_holders", outboxId: notice!.id })]);
    await deliver([
      { id: "t-1", body: sent[0] },
      { id: "t-2", body: sent[0] },
    ]);
    const emails = await holderEmails(notice!.id);
    expect(emails.map((e) => [e.recipient, e.template])).toEqual([[buyer.email.toLowerCase(), "event_changed"]]);
    expect(emails[0]!.body).toContain("- Price: €0.00 → €15.00");
    expect(emails[0]!.body).toContain("- Tax: 0% → 7%");
  });
});
