import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, registerUser, type TenantFixture } from "../helpers/fixtures";
import { expectProblem } from "../helpers/http";
import { buy, checkout } from "../orders/support";
import { onSaleEvent, placeHold } from "../sales/support";

let tenant: TenantFixture;
beforeAll(async () => {
  tenant = await createTenant();
});

const buyer = async () => (await registerUser(tenant)).tokens.accessToken;
const items = (tierId: string, quantity: number) => [{ tierId, quantity }];

describe("per-buyer limits across orders", () => {
  it("counts tickets the buyer already bought: a second order over the tier's limit is 409 BUYER_LIMIT_EXCEEDED", async () => {
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 0, capacity: 50, maxPerOrder: 5, maxPerBuyer: 3 });
    const token = await buyer();
    const first = await buy(token, event.id, tier.id, 2);
    expect([first.status, first.body.status, first.body.tickets.length]).toEqual([201, "paid", 2]);

    const over = expectProblem(await placeHold(token, event.id, items(tier.id, 2)), 409, "BUYER_LIMIT_EXCEEDED");
    expect(over).toMatchObject({ tierId: tier.id, maxPerBuyer: 3, remaining: 1 });

    // Exactly up to the limit is fine, in a second order...
    const second = await buy(token, event.id, tier.id, 1);
    expect([second.status, second.body.status]).toEqual([201, "paid"]);
    // ...and then nothing more, while another buyer is not affected.
    expect(expectProblem(await placeHold(token, event.id, items(tier.id, 1)), 409, "BUYER_LIMIT_EXCEEDED")).toMatchObject({ remaining: 0 });
    expect((await buy(await buyer(), event.id, tier.id, 3)).status).toBe(201);
  });

  it("counts unpaid (pending) orders and open holds too", async () => {
    const { event, tier } = await onSaleEvent(tenant, { priceMinor: 2500, capacity: 50, maxPerOrder: 5, maxPerBuyer: 4 });
    const token = await buyer();
    const pending = await buy(token, event.id, tier.id, 2);
    expect([pending.status, pending.body.status]).toEqual([201, "pending"]);
    const open = await placeHold(token, event.id, items(tier.id, 1));
    expect(open.status, open.text).toBe(201);
    expect(expectProblem(await placeHold(token, event.id, items(tier.id, 2)), 409, "BUYER_LIMIT_EXCEEDED")).toMatchObject({ remaining: 1 });
    expect((await checkout(token, event.id, open.body.id)).status).toBe(201);
    expect((await placeHold(token, event.id, items(tier.id, 1))).status).toBe(201);
  });
});
