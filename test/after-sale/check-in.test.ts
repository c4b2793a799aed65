import { describe, expect, it } from "vitest";
import { call, expectProblem } from "../helpers/http";
import { onSaleEvent } from "../sales/support";
import { buy, createTenant, inventoryStub, refund, registerUser, scan, scannerOf, soldWorld } from "./support";

describe("check-in", () => {
  it("admits a ticket exactly once when many doors scan it at the same moment", async () => {
    const w = await soldWorld(1);
    const scanner = await scannerOf(w.tenant);
    const code = w.order.tickets[0]!.code;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => scan(scanner, w.event.id, code, `gate-${i % 5}`)));
    const admitted = results.filter((r) => r.status === 200);
    expect(admitted).toHaveLength(1);
    const first = admitted[0]!.body;
    for (const r of results.filter((x) => x.status !== 200)) {
      expectProblem(r, 409, "TICKET_ALREADY_CHECKED_IN");
      expect(r.body.firstGate).toBe(first.gate);
      expect(r.body.firstCheckedInAt).toBe(first.checkedInAt);
    }
    const counts = await call("GET", `/v1/events/${w.event.id}/check-ins`, { token: scanner });
    expect(counts.body.items).toEqual([{ tierId: w.tier.id, sold: 1, checkedIn: 1 }]);
  });

  it("refuses refunded tickets, codes of another event or tenant, and forged codes", async () => {
    const w = await soldWorld(2);
    const scanner = await scannerOf(w.tenant);
    const [a, b] = w.order.tickets;
    expect((await refund(w.tenant.owner.tokens.accessToken, w.event.id, w.order.id, { ticketIds: [a!.id] })).status).toBe(201);
    expectProblem(await scan(scanner, w.event.id, a!.code), 409, "TICKET_REFUNDED");

    // Same tenant, other event.
    const { event: other } = await onSaleEvent(w.tenant, { priceMinor: 0 });
    expectProblem(await scan(scanner, other.id, b!.code), 422, "TICKET_WRONG_EVENT");
    // Other tenant: its scanner cannot see the event at all, and its own event refuses the code.
    const t2 = await createTenant();
    const scanner2 = await scannerOf(t2);
    expectProblem(await scan(scanner2, w.event.id, b!.code), 404, "NOT_FOUND");
    const { event: foreign } = await onSaleEvent(t2, { priceMinor: 0 });
    expectProblem(await scan(scanner2, foreign.id, b!.code), 422, "TICKET_WRONG_EVENT");
    // Tampered and garbage codes.
    const [h, p, s] = b!.code.split(".");
    // Change one character in the middle of the payload (always to a different one).
    const mid = Math.floor(p!.length / 2);
    const tampered = `${h}.${p!.slice(0, mid)}${p![mid] === "A" ? "B" : "A"}${p!.slice(mid + 1)}.${s}`;
    expect(tampered).not.toBe(b!.code);
    expectProblem(await scan(scanner, w.event.id, tampered), 422, "TICKET_CODE_INVALID");
    expectProblem(await scan(scanner, w.event.id, "not-a-code"), 422, "TICKET_CODE_INVALID");
    // The untouched ticket still gets in.
    expect((await scan(scanner, w.event.id, b!.code, "north")).status).toBe(200);
  });

  it("only scanners and tenant admins check in", async () => {
    const w = await soldWorld(1);
    const customer = await registerUser(w.tenant);
    expectProblem(await scan(customer.tokens.accessToken, w.event.id, w.order.tickets[0]!.code), 403, "FORBIDDEN");
    expect((await scan(w.tenant.owner.tokens.accessToken, w.event.id, w.order.tickets[0]!.code)).status).toBe(200);
  });

  it("counts check-ins per tier from the inventory", async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0 });
    const buyer = await registerUser(tenant);
    const order = (await buy(buyer.tokens.accessToken, event.id, tier.id, 3)).body;
    const scanner = await scannerOf(tenant);
    await scan(scanner, event.id, order.tickets[0].code);
    await scan(scanner, event.id, order.tickets[1].code);
    expect(await inventoryStub(tenant.id, event.id).checkInCounts()).toEqual([{ tierId: tier.id, sold: 3, checkedIn: 2 }]);
  });
});
