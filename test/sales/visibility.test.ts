import { describe, expect, it } from "vitest";
import { call, expectProblem } from "../helpers/http";
import { registerUser } from "../helpers/fixtures";
import { onSaleEvent, placeHold, salesWorld } from "./support";

// Buyers reach what the public catalogue would serve by id: a PRIVATE event is for staff,
// even on sale, and looks exactly like a missing one to a customer.
describe("a PRIVATE event on sale", () => {
  it("is 404 to customers for holds and quotes, while staff still reach it", async () => {
    const w = await salesWorld();
    const { event, tier } = await onSaleEvent(w.tenant, {}, { visibility: "PRIVATE" });
    const customer = await registerUser(w.tenant);
    expectProblem(await placeHold(customer.tokens.accessToken, event.id, [{ tierId: tier.id, quantity: 1 }]), 404, "NOT_FOUND");
    expectProblem(
      await call("GET", `/v1/events/${event.id}/tiers/${tier.id}/quote?quantity=1`, { token: customer.tokens.accessToken }),
      404,
      "NOT_FOUND",
    );
    const staff = await placeHold(w.owner, event.id, [{ tierId: tier.id, quantity: 1 }]);
    expect(staff.status, staff.text).toBe(201);
  });
});
