import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { tenants, users, type TenantRow } from "../schema";

/**
 * Platform-level repository: only the platform admin routes and the login/
 * registration entry (which names a tenant by slug) use it. It is the one place
 * that reads across tenants, and it never returns tenant-owned rows.
 */
export class TenantsRepo {
  constructor(private readonly db: Db) {}

  async findById(id: string): Promise<TenantRow | undefined> {
    return this.db.select().from(tenants).where(eq(tenants.id, id)).get();
  }

  async findBySlug(slug: string): Promise<TenantRow | undefined> {
    return this.db.select().from(tenants).where(eq(tenants.slug, slug)).get();
  }

  /** Tenant and its owner in one D1 batch (atomic). False when the slug is taken. */
  async createWithOwner(
    tenant: { id: string; slug: string; name: string },
    owner: { id: string; email: string; name: string; passwordHash: string },
    now: number,
  ): Promise<boolean> {
    if (await this.findBySlug(tenant.slug)) return false;
    try {
      await this.db.batch([
        this.db.insert(tenants).values({ ...tenant, status: "active", createdAt: now, updatedAt: now }),
        this.db.insert(users).values({
          ...owner,
          email: owner.email.toLowerCase(),
          tenantId: tenant.id,
          role: "owner",
          // The platform operator vouches for the owner's address.
          emailVerifiedAt: now,
          createdAt: now,
          updatedAt: now,
        }),
      ]);
      return true;
    } catch (err) {
      if (String((err as Error).message).includes("UNIQUE constraint failed: tenants.slug")) return false;
      throw err;
    }
  }

  async list(opts: { cursor?: Cursor; limit: number; status?: "active" | "suspended" }) {
    const rows = await this.db
      .select()
      .from(tenants)
      .where(
        and(
          opts.status ? eq(tenants.status, opts.status) : undefined,
          afterCursor(opts.cursor, tenants.createdAt, tenants.id, "asc"),
        ),
      )
      .orderBy(asc(tenants.createdAt), asc(tenants.id))
      .limit(opts.limit + 1)
      .all();
    return toPage(rows, opts.limit);
  }

  async setStatus(id: string, status: "active" | "suspended", reason: string | null, now: number) {
    return this.db
      .update(tenants)
      .set({
        status,
        suspendedReason: status === "suspended" ? reason : null,
        suspendedAt: status === "suspended" ? now : null,
        updatedAt: now,
      })
      .where(eq(tenants.id, id))
      .returning()
      .get();
  }
}
