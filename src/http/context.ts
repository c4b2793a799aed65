import type { ApiConfig } from "../config/env";
import type { Db } from "../db/client";
import type { TenantDb } from "../db/tenant-db";
import type { Principal, TenantPrincipal } from "../auth/principal";

export interface AppVariables {
  requestId: string;
  config: ApiConfig;
  db: Db;
  /** The clock; tests and domain code read time only through this. */
  now: () => number;
  principal?: Principal;
  /** Set by tenant authentication together with `principal`. */
  tenant?: { principal: TenantPrincipal; db: TenantDb };
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
