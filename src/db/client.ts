import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

/**
 * One drizzle instance per D1 binding object: building it walks the whole schema (relations
 * config), which per request cost more CPU than a query. The binding object is the key, so a
 * test's wrapped or failing D1 gets its own instance.
 */
const instances = new WeakMap<D1Database, Db>();

export function createDb(d1: D1Database): Db {
  let db = instances.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    instances.set(d1, db);
  }
  return db;
}

declare const tenantIdBrand: unique symbol;
/**
 * A tenant id that came from verified credentials (a JWT we signed, a hashed API
 * key, the platform key acting on a named tenant). Only src/auth creates these,
 * and every tenant-scoped repository requires one, so data access cannot be
 * written without saying whose data it is.
 */
export type TenantId = string & { readonly [tenantIdBrand]: true };

/** Only for code that has just verified a credential naming this tenant. */
export function verifiedTenantId(id: string): TenantId {
  if (!id) throw new Error("verifiedTenantId: empty tenant id");
  return id as TenantId;
}

export class TenantScope {
  constructor(
    readonly db: Db,
    readonly tenantId: TenantId,
  ) {
    // Defence in depth against an `as TenantId` cast of undefined slipping through.
    if (typeof tenantId !== "string" || tenantId.length === 0) throw new Error("TenantScope requires a tenant id");
  }
}
