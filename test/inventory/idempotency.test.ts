import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventInventory } from "../../durable-objects/event-inventory";
import { IDEMPOTENCY_TTL_MS } from "../../src/inventory/contract";
import { DAY, held, holdReq, idem, NOW, onSaleInventory, refused, response, sql, tier, tierCounts } from "./support";

describe("idempotent holds", () => {
  it("replays the stored response for the same key and body, holding nothing twice", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const req = holdReq("b1", [{ tierId: "ga", quantity: 2 }]);
    const first = response(await stub.hold(req));
    const second = response(await stub.hold(req));
    expect(first.replayed).toBe(false);
    expect(second).toEqual({ ...first, replayed: true });
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 2 });
    expect(await sql(stub, "SELECT count(*) AS n FROM holds")).toEqual([{ n: 1 }]);
  });

  it("replays a refusal too, even after the world changed; a new key tries afresh", async () => {
    const { stub } = await onSaleInventory(tier("ga", { capacity: 1 }));
    held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])));
    const req = holdReq("b2", [{ tierId: "ga", quantity: 1 }]);
    refused(await stub.hold(req), "SOLD_OUT", 409);
    await stub.upsertTier(tier("ga", { capacity: 2 }), NOW);
    const replay = response(await stub.hold(req));
    expect(replay).toMatchObject({ replayed: true, status: 409, result: { ok: false, code: "SOLD_OUT" } });
    held(await stub.hold({ ...req, ...idem("b2") }));
  });

  it("answers key_reused for the same key with another body, whatever the key was used for", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const req = holdReq("b1", [{ tierId: "ga", quantity: 1 }]);
    const hold = held(await stub.hold(req));
    expect(await stub.hold({ ...req, requestHash: "another body", items: [{ tierId: "ga", quantity: 2 }] })).toEqual({ kind: "key_reused" });
    expect(await stub.release({ scopedKey: req.scopedKey, requestHash: "release body", buyerId: "b1", holdId: hold.holdId, now: NOW })).toEqual({
      kind: "key_reused",
    });
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 1 });
  });

  it("answers in_flight while the first call with the key has not finished", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const req = holdReq("b1", [{ tierId: "ga", quantity: 1 }]);
    // A first call that claimed the key and is still running (checkout awaiting a payment provider).
    await sql(
      stub,
      "INSERT INTO idempotency (scoped_key, request_hash, state, created_at, expires_at) VALUES (?, ?, 'in_flight', ?, ?)",
      req.scopedKey,
      req.requestHash,
      Date.now(),
      Date.now() + IDEMPOTENCY_TTL_MS,
    );
    expect(await stub.hold(req)).toEqual({ kind: "in_flight" });
    expect(await stub.hold({ ...req, requestHash: "another body" })).toEqual({ kind: "key_reused" });
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 0 });
  });

  it("replays a release", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const hold = held(await stub.hold(holdReq("b1", [{ tierId: "ga", quantity: 1 }])));
    const req = { ...idem("b1"), buyerId: "b1", holdId: hold.holdId, now: NOW };
    const first = response(await stub.release(req));
    expect(response(await stub.release(req))).toEqual({ ...first, replayed: true });
  });

  it("stores no outcome when the call fails unexpectedly, and rolls back everything it did", async () => {
    const { stub } = await onSaleInventory(tier("ga"), tier("bad"));
    // A corrupt price (negative total) trips the holds table's CHECK after ga was counted.
    await sql(stub, "UPDATE tiers SET price_rules = json_set(price_rules, '$.priceMinor', -100000) WHERE tier_id = 'bad'");
    const req = holdReq("b1", [{ tierId: "ga", quantity: 2 }, { tierId: "bad", quantity: 1 }]);
    // Called in the object rather than over RPC, so the thrown error stays with this test.
    const thrown = await runInDurableObject(stub, (instance: EventInventory) => instance.hold(req).then(() => null, (e: unknown) => e));
    expect(String(thrown)).toMatch(/CHECK constraint failed: total_minor >= 0/);
    expect(await tierCounts(stub, "ga")).toMatchObject({ held: 0 });
    expect(await sql(stub, "SELECT * FROM idempotency")).toEqual([]);
    expect(await sql(stub, "SELECT * FROM buyer_counts WHERE held > 0")).toEqual([]);

    await stub.upsertTier(tier("bad"), NOW);
    const retry = response(await stub.hold(req));
    expect(retry).toMatchObject({ replayed: false, status: 201, result: { ok: true } });
  });
});

describe("idempotency record retention", () => {
  it("keeps records 24 h, then the alarm purges them; an expired key starts afresh", async () => {
    const { stub } = await onSaleInventory(tier("ga"));
    const fresh = holdReq("b1", [{ tierId: "ga", quantity: 1 }]);
    held(await stub.hold(fresh));
    const [rec] = await sql<{ created_at: number; expires_at: number }>(stub, "SELECT created_at, expires_at FROM idempotency");
    expect(rec!.expires_at - rec!.created_at).toBe(IDEMPOTENCY_TTL_MS);

    // Records written more than 24 h ago (not yet purged), one of them for a key used again now.
    const old = holdReq("b2", [{ tierId: "ga", quantity: 1 }]);
    const seed = "INSERT INTO idempotency (scoped_key, request_hash, state, status, result, created_at, expires_at) VALUES (?, ?, 'done', 201, '{}', ?, ?)";
    const wrote = Date.now() - DAY - 60_000;
    await sql(stub, seed, old.scopedKey, old.requestHash, wrote, wrote + IDEMPOTENCY_TTL_MS);
    await sql(stub, seed, "tenant:b3:stale", "h", wrote, wrote + IDEMPOTENCY_TTL_MS);
    const again = response(await stub.hold(old));
    expect(again).toMatchObject({ replayed: false, status: 201, result: { ok: true } });

    await runDurableObjectAlarm(stub); // the next alarm is the hold expiry; every alarm also purges
    const keys = (await sql<{ scoped_key: string }>(stub, "SELECT scoped_key FROM idempotency ORDER BY scoped_key")).map((r) => r.scoped_key);
    expect(keys.sort()).toEqual([fresh.scopedKey, old.scopedKey].sort());
    // The purge stays scheduled for the oldest surviving record.
    const purge = await sql<{ due_at: number }>(stub, "SELECT due_at FROM schedule WHERE kind = 'idempotency_purge'");
    expect(purge).toEqual([{ due_at: rec!.expires_at }]);
  });
});
