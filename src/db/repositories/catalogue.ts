import { and, asc, eq, gte, inArray, isNull, lte, sql, type SQL } from "drizzle-orm";
import { PUBLICLY_LISTED } from "../../domain/event-status";
import type { Db } from "../client";
import { afterCursor, toPage, type Cursor } from "../pagination";
import { events, tenants, type EventRow } from "../schema";

declare const catalogueTenantBrand: unique symbol;

/**
 * A tenant as the public catalogue knows it: found by its public slug and active. Only
 * `CatalogueRepo.activeTenant` makes one, so the event reads below cannot be pointed at a
 * tenant id that did not come from that lookup.
 */
export interface CatalogueTenant {
  readonly id: string;
  /** Bumped in the same D1 batch as every event write of the tenant (EventsRepo). */
  readonly catalogVersion: number;
  readonly [catalogueTenantBrand]: true;
}

export interface CatalogueFilters {
  venueId?: string;
  /** Lower bound on startsAt; when absent the catalogue shows events not yet ended at `now`. */
  from?: number;
  to?: number;
  tag?: string;
  q?: string;
  cursor?: Cursor;
  limit: number;
}

/**
 * Only the columns the public may see are ever read, so an internal field cannot leak
 * through a forgotten line in the DTO mapping.
 */
const publicColumns = {
  id: events.id,
  venueId: events.venueId,
  slug: events.slug,
  name: events.name,
  description: events.description,
  shortDescription: events.shortDescription,
  status: events.status,
  isFeatured: events.isFeatured,
  bannerImageUrl: events.bannerImageUrl,
  thumbnailImageUrl: events.thumbnailImageUrl,
  tags: events.tags,
  primaryCategoryId: events.primaryCategoryId,
  ageRestriction: events.ageRestriction,
  dressCode: events.dressCode,
  cancellationPolicy: events.cancellationPolicy,
  refundPolicy: events.refundPolicy,
  metaTitle: events.metaTitle,
  metaDescription: events.metaDescription,
  timezone: events.timezone,
  startsAt: events.startsAt,
  endsAt: events.endsAt,
  doorsOpenAt: events.doorsOpenAt,
  salesStartAt: events.salesStartAt,
  salesEndAt: events.salesEndAt,
};

export type PublicEventRow = Pick<EventRow, keyof typeof publicColumns>;

/**
 * Platform-level, read-only access for the anonymous public catalogue. It starts from a
 * tenant slug (public information) rather than a verified credential, which is why it is
 * not part of TenantDb; every event read is still bound to the one tenant found.
 */
export class CatalogueRepo {
  constructor(private readonly db: Db) {}

  /**
   * One indexed point read (tenants_slug_unique). Suspended and unknown tenants are both
   * undefined: the public cannot tell them apart.
   */
  async activeTenant(slug: string): Promise<CatalogueTenant | undefined> {
    const row = await this.db
      .select({ id: tenants.id, status: tenants.status, catalogVersion: tenants.catalogVersion })
      .from(tenants)
      .where(eq(tenants.slug, slug))
      .get();
    if (!row || row.status !== "active") return undefined;
    return { id: row.id, catalogVersion: row.catalogVersion } as CatalogueTenant;
  }

  private live(tenant: CatalogueTenant): SQL {
    return and(eq(events.tenantId, tenant.id), isNull(events.deletedAt), inArray(events.status, [...PUBLICLY_LISTED]))!;
  }

  /** Listed events: PUBLIC visibility only, ordered by (startsAt, id). */
  async listEvents(tenant: CatalogueTenant, f: CatalogueFilters, now: number) {
    const rows = await this.db
      .select(publicColumns)
      .from(events)
      .where(
        and(
          this.live(tenant),
          eq(events.visibility, "PUBLIC"),
          f.from !== undefined ? gte(events.startsAt, f.from) : gte(events.endsAt, now),
          f.to !== undefined ? lte(events.startsAt, f.to) : undefined,
          f.venueId ? eq(events.venueId, f.venueId) : undefined,
          f.tag ? sql`exists (select 1 from json_each(${events.tags}) where value = ${f.tag})` : undefined,
          f.q ? sql`instr(lower(${events.name}), lower(${f.q})) > 0` : undefined,
          afterCursor(f.cursor, events.startsAt, events.id, "asc"),
        ),
      )
      .orderBy(asc(events.startsAt), asc(events.id))
      .limit(f.limit + 1)
      .all();
    return toPage<PublicEventRow>(rows, f.limit, (r) => r.startsAt);
  }

  /** One event by id: PUBLIC or UNLISTED (reachable by link, never listed). */
  async findEvent(tenant: CatalogueTenant, id: string): Promise<PublicEventRow | undefined> {
    return this.db
      .select(publicColumns)
      .from(events)
      .where(and(this.live(tenant), eq(events.id, id), inArray(events.visibility, ["PUBLIC", "UNLISTED"])))
      .get();
  }
}
