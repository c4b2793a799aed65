import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import { afterCursor, toPage, type Cursor } from "../pagination";
import type { TenantScope } from "../client";
import { users, type Role, type UserRow } from "../schema";

export interface NewUser {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  emailVerifiedAt?: number | null;
}

export class UsersRepo {
  constructor(private readonly s: TenantScope) {}

  private mine() {
    return eq(users.tenantId, this.s.tenantId);
  }

  async findById(id: string): Promise<UserRow | undefined> {
    return this.s.db.select().from(users).where(and(this.mine(), eq(users.id, id))).get();
  }

  /** Names and addresses of several users at once (at most 90 ids: D1 binds 100 parameters). */
  async contactsOf(ids: readonly string[]): Promise<{ id: string; email: string; name: string }[]> {
    if (ids.length === 0) return [];
    if (ids.length > 90) throw new RangeError("contactsOf: at most 90 ids per call");
    return this.s.db.select({ id: users.id, email: users.email, name: users.name }).from(users).where(and(this.mine(), inArray(users.id, [...ids]))).all();
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    return this.s.db
      .select()
      .from(users)
      .where(and(this.mine(), eq(users.email, email.toLowerCase())))
      .get();
  }

  /** Returns false when the email is already registered in this tenant. */
  async create(u: NewUser, now: number): Promise<boolean> {
    const res = await this.s.db
      .insert(users)
      .values({ ...u, email: u.email.toLowerCase(), tenantId: this.s.tenantId, createdAt: now, updatedAt: now })
      .onConflictDoNothing({ target: [users.tenantId, users.email] })
      .run();
    return res.meta.changes === 1;
  }

  async list(opts: { cursor?: Cursor; limit: number; role?: Role; status?: "active" | "banned" }) {
    const rows = await this.s.db
      .select()
      .from(users)
      .where(
        and(
          this.mine(),
          opts.role ? eq(users.role, opts.role) : undefined,
          opts.status ? eq(users.status, opts.status) : undefined,
          afterCursor(opts.cursor, users.createdAt, users.id, "asc"),
        ),
      )
      .orderBy(asc(users.createdAt), asc(users.id))
      .limit(opts.limit + 1)
      .all();
    return toPage(rows, opts.limit);
  }

  async countActiveOwners(): Promise<number> {
    const row = await this.s.db
      .select({ n: count() })
      .from(users)
      .where(and(this.mine(), eq(users.role, "owner"), eq(users.status, "active")))
      .get();
    return row?.n ?? 0;
  }

  async setRole(id: string, role: Role, now: number): Promise<void> {
    await this.s.db
      .update(users)
      .set({ role, updatedAt: now })
      .where(and(this.mine(), eq(users.id, id)))
      .run();
  }

  async ban(id: string, reason: string, now: number): Promise<void> {
    await this.s.db
      .update(users)
      // The version bump keeps tokens issued before the ban dead even after an unban.
      .set({ status: "banned", bannedAt: now, bannedReason: reason, updatedAt: now, tokenVersion: sql`${users.tokenVersion} + 1` })
      .where(and(this.mine(), eq(users.id, id)))
      .run();
  }

  async unban(id: string, now: number): Promise<void> {
    await this.s.db
      .update(users)
      .set({ status: "active", bannedAt: null, bannedReason: null, updatedAt: now })
      .where(and(this.mine(), eq(users.id, id)))
      .run();
  }

  /** New password; bumps token_version so every access token issued before dies. */
  async setPassword(id: string, passwordHash: string, now: number, bumpTokenVersion: boolean): Promise<number> {
    const row = await this.s.db
      .update(users)
      .set({
        passwordHash,
        updatedAt: now,
        ...(bumpTokenVersion ? { tokenVersion: sql`${users.tokenVersion} + 1` } : {}),
      })
      .where(and(this.mine(), eq(users.id, id)))
      .returning({ tokenVersion: users.tokenVersion })
      .get();
    return row?.tokenVersion ?? 0;
  }

  async markEmailVerified(id: string, now: number): Promise<void> {
    await this.s.db
      .update(users)
      .set({ emailVerifiedAt: now, updatedAt: now })
      .where(and(this.mine(), eq(users.id, id)))
      .run();
  }

  async recordLogin(id: string, now: number): Promise<void> {
    await this.s.db
      .update(users)
      .set({ lastLoginAt: now })
      .where(and(this.mine(), eq(users.id, id)))
      .run();
  }
}
