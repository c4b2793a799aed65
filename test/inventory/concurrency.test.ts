import { describe, expect, it } from "vitest";
import { holdReq, onSaleInventory, response, sql, tier, tierCounts } from "./support";

describe("parallel holds", () => {
  it("300 buyers race for 50 seats: exactly 50 held, 250 cleanly sold out, counters agree", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 50 }));
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) => stub.hold(holdReq(`buyer-${i}`, [{ tierId: "ga", quantity: 1 }]))),
    );
    const results = outcomes.map((o) => response(o));
    const won = results.filter((r) => r.result.ok);
    const lost = results.filter((r) => !r.result.ok);
    expect(won).toHaveLength(50);
    expect(won.every((r) => r.status === 201)).toBe(true);
    expect(lost).toHaveLength(250);
    for (const r of lost) expect(r).toMatchObject({ status: 409, result: { ok: false, code: "SOLD_OUT", extras: { tierId: "ga", available: 0 } } });

    expect(await tierCounts(stub, "ga")).toMatchObject({ tierId: "ga", capacity: 50, held: 50, sold: 0 });
    const [holds] = await sql<{ n: number; seats: number; buyers: number }>(
      stub,
      `SELECT count(*) AS n, sum(json_extract(items, '$[0].quantity')) AS seats, count(DISTINCT buyer_id) AS buyers
       FROM holds WHERE status = 'active'`,
    );
    expect(holds).toEqual({ n: 50, seats: 50, buyers: 50 });
    const [buyers] = await sql<{ held: number }>(stub, "SELECT sum(held) AS held FROM buyer_counts");
    expect(buyers).toEqual({ held: 50 });
    expect(await sql(stub, "SELECT count(*) AS n FROM idempotency")).toEqual([{ n: 300 }]);
    expect((await stub.availability(Date.now()))[0]).toMatchObject({ available: 0, soldOut: true });
  });
});
