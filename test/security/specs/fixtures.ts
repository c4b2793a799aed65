import { env } from "cloudflare:workers";
import { createDb, verifiedTenantId } from "../../../src/db/client";
import { TenantDb } from "../../../src/db/tenant-db";
import { uuidv7 } from "../../../src/lib/ids";
import type { SecurityWorld } from "../../helpers/route-security";

export /**
 * A fresh venue in tenant A whose organizer has access to it, written straight to D1 so
 * these specs do not depend on the venue routes.
 */
async function venueInA(w: SecurityWorld) {
  const db = new TenantDb(createDb(env.DB), verifiedTenantId(w.a.id));
  const now = Date.now();
  const owner = await w.a.userId("owner");
  const venue = await db.venues.create({
    id: uuidv7(now),
    name: "Security Hall",
    addressLine1: "1 Test Street",
    addressLine2: null,
    city: "Berlin",
    region: null,
    postalCode: null,
    country: "DE",
    timezone: "Europe/Berlin",
    capacity: 100,
    createdBy: owner,
    createdAt: now,
  });
  await db.venues.grant(venue.id, await w.a.userId("organizer"), owner, now);
  return { venueId: venue.id };
}
