import { describe, expect, it } from "vitest";
import { createTenant, registerUser } from "../helpers/fixtures";
import { call, expectProblem } from "../helpers/http";
import { availabilityPath, onSaleEvent, placeHold } from "./support";

const CAPACITY = 20;
const ATTEMPTS = 200;
/** Registration hashes a password; batches keep the machine responsive. */
const REGISTER_BATCH = 25;

describe("concurrent holds through the HTTP API", () => {
  it(`${ATTEMPTS} parallel holds against capacity ${CAPACITY}: exactly ${CAPACITY} held, every other a clean SOLD_OUT`, async () => {
    const tenant = await createTenant();
    const { event, tier } = await onSaleEvent(tenant, { capacity: CAPACITY, maxPerOrder: 1, maxPerBuyer: 1 });

    const tokens: string[] = [];
    for (let i = 0; i < ATTEMPTS; i += REGISTER_BATCH) {
      const batch = await Promise.all(Array.from({ length: Math.min(REGISTER_BATCH, ATTEMPTS - i) }, () => registerUser(tenant)));
      tokens.push(...batch.map((u) => u.tokens.accessToken));
    }

    const results = await Promise.all(tokens.map((token) => placeHold(token, event.id, [{ tierId: tier.id, quantity: 1 }])));

    const held = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(held).toHaveLength(CAPACITY);
    expect(refused).toHaveLength(ATTEMPTS - CAPACITY);
    for (const r of refused) expect(expectProblem(r, 409, "SOLD_OUT")).toMatchObject({ tierId: tier.id, available: 0 });
    expect(new Set(held.map((r) => r.body.id)).size).toBe(CAPACITY);
    expect(held.reduce((n, r) => n + r.body.items[0].quantity, 0)).toBe(CAPACITY);

    const availability = await call("GET", availabilityPath(tenant.slug, event.id));
    expect(availability.status, availability.text).toBe(200);
    expect(availability.body.items).toEqual([{ tierId: tier.id, name: tier.name, available: 0, soldOut: true, onSale: true }]);
  });
});
