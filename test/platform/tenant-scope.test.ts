import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb, verifiedTenantId, type TenantId } from "../../src/db/client";
import { TenantDb } from "../../src/db/tenant-db";
import { createApiKey, createTenant, registerUser } from "../helpers/fixtures";

describe("tenant-scoped data layer", () => {
  it("cannot be built without a tenant id", () => {
    const db = createDb(env.DB);
    expect(() => new TenantDb(db, "" as TenantId)).toThrow(/tenant id/);
    expect(() => new TenantDb(db, undefined as unknown as TenantId)).toThrow(/tenant id/);
    expect(() => verifiedTenantId("")).toThrow();
  });

  it("never returns another tenant's rows, even by exact id", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const userInA = await registerUser(a);
    const keyInA = await createApiKey(a, ["users:read"]);
    const db = createDb(env.DB);
    const scopedA = new TenantDb(db, verifiedTenantId(a.id));
    const scopedB = new TenantDb(db, verifiedTenantId(b.id));

    expect((await scopedA.users.findById(userInA.id))?.email).toBe(userInA.email);
    expect(await scopedB.users.findById(userInA.id)).toBeUndefined();
    expect(await scopedB.users.findByEmail(userInA.email)).toBeUndefined();
    expect(await scopedB.apiKeys.findById(keyInA.id)).toBeUndefined();
    expect((await scopedB.users.list({ limit: 100 })).items.map((u) => u.id)).toEqual([b.owner.id]);

    // Writes through B's scope cannot touch A's rows either.
    await scopedB.users.ban(userInA.id, "cross-tenant attempt", Date.now());
    expect(await scopedB.apiKeys.revoke(keyInA.id, Date.now())).toBe(false);
    expect((await scopedA.users.findById(userInA.id))?.status).toBe("active");
    expect((await scopedA.apiKeys.findById(keyInA.id))?.revokedAt).toBeNull();
  });

  it("rejects a child row pointing at a user of another tenant (composite foreign key)", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const insert = env.DB.prepare(
      "INSERT INTO refresh_tokens (id, tenant_id, user_id, family_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).bind(crypto.randomUUID(), b.id, a.owner.id, crypto.randomUUID(), crypto.randomUUID(), 2, 1);
    await expect(insert.run()).rejects.toThrow(/FOREIGN KEY/);
  });

  it("enforces CHECK constraints in the schema", async () => {
    const a = await createTenant();
    const badRole = env.DB.prepare("UPDATE users SET role = 'superuser' WHERE id = ?").bind(a.owner.id);
    await expect(badRole.run()).rejects.toThrow(/CHECK/);
    const upperEmail = env.DB.prepare("UPDATE users SET email = 'Owner@X.test' WHERE id = ?").bind(a.owner.id);
    await expect(upperEmail.run()).rejects.toThrow(/CHECK/);
  });
});

describe("live-venue rule (migration 0003)", () => {
  it("refuses an event at, or moved to, a soft-deleted venue even when the API check is bypassed", async () => {
    const a = await createTenant();
    const venue = (id: string, deletedAt: number | null) =>
      env.DB.prepare(
        "INSERT INTO venues (id, tenant_id, name, address_line1, city, country, timezone, capacity, created_by, created_at, updated_at, deleted_at) VALUES (?, ?, 'V', 'A', 'C', 'DE', 'Europe/Berlin', 10, 'x', 1, 1, ?)",
      )
        .bind(id, a.id, deletedAt)
        .run();
    const live = crypto.randomUUID();
    const gone = crypto.randomUUID();
    await venue(live, null);
    await venue(gone, 5);
    const insertEvent = (id: string, venueId: string) =>
      env.DB.prepare(
        "INSERT INTO events (id, tenant_id, venue_id, slug, name, timezone, starts_at, ends_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'E', 'Europe/Berlin', 10, 20, 'x', 1, 1)",
      )
        .bind(id, a.id, venueId, id.slice(0, 8))
        .run();

    await expect(insertEvent(crypto.randomUUID(), gone)).rejects.toThrow(/venue is deleted/);
    const eventId = crypto.randomUUID();
    await insertEvent(eventId, live);
    await expect(env.DB.prepare("UPDATE events SET venue_id = ? WHERE id = ?").bind(gone, eventId).run()).rejects.toThrow(/venue is deleted/);
    // Other edits of an event whose venue is live are untouched by the rule.
    await env.DB.prepare("UPDATE events SET name = 'renamed' WHERE id = ?").bind(eventId).run();
  });
});
