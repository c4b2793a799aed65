import { TenantScope, type Db, type TenantId } from "./client";
import { ApiKeysRepo } from "./repositories/api-keys";
import { AuditLogRepo } from "./repositories/audit-log";
import { EventsRepo } from "./repositories/events";
import { OrdersRepo } from "./repositories/orders";
import { OneTimeTokensRepo } from "./repositories/one-time-tokens";
import { RefreshTokensRepo } from "./repositories/refresh-tokens";
import { TiersRepo } from "./repositories/tiers";
import { UsersRepo } from "./repositories/users";
import { VenuesRepo } from "./repositories/venues";

/** Every tenant-owned table, reachable only through a scope bound to one tenant. */
export class TenantDb {
  readonly users: UsersRepo;
  readonly refreshTokens: RefreshTokensRepo;
  readonly oneTimeTokens: OneTimeTokensRepo;
  readonly apiKeys: ApiKeysRepo;
  readonly audit: AuditLogRepo;
  readonly venues: VenuesRepo;
  readonly events: EventsRepo;
  readonly tiers: TiersRepo;
  readonly orders: OrdersRepo;

  constructor(db: Db, tenantId: TenantId) {
    const scope = new TenantScope(db, tenantId);
    this.users = new UsersRepo(scope);
    this.refreshTokens = new RefreshTokensRepo(scope);
    this.oneTimeTokens = new OneTimeTokensRepo(scope);
    this.apiKeys = new ApiKeysRepo(scope);
    this.audit = new AuditLogRepo(scope);
    this.venues = new VenuesRepo(scope);
    this.events = new EventsRepo(scope);
    this.tiers = new TiersRepo(scope);
    this.orders = new OrdersRepo(scope);
  }
}
