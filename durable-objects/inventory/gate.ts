import type { EventStatus } from "../../src/db/schema";
import type { GateState } from "../../src/inventory/contract";
import type { Db } from "./sql";

/**
 * The sales gate: what the event's D1 row says about selling, pushed on every status
 * change. Pushes carry events.version and only a newer one replaces the stored gate, so
 * two pushes arriving out of order (a retry overtaking a later change) settle on the
 * newest.
 */
type GateRow = {
  status: string;
  event_version: number;
  sales_start_at: number | null;
  sales_end_at: number | null;
  starts_at: number;
  visibility: string | null;
};

export function readGate(db: Db): GateState | null {
  const row = db.first<GateRow>`SELECT status, event_version, sales_start_at, sales_end_at, starts_at, visibility FROM gate WHERE id = 1`;
  if (!row) return null;
  return {
    status: row.status as EventStatus,
    eventVersion: row.event_version,
    salesStartAt: row.sales_start_at,
    salesEndAt: row.sales_end_at,
    startsAt: row.starts_at,
    visibility: row.visibility as GateState["visibility"],
  };
}

/** Stores the gate unless the stored one is as new or newer; true when it was applied. */
export function writeGate(db: Db, gate: GateState, now: number): boolean {
  const written = db.run`
    INSERT INTO gate (id, status, event_version, sales_start_at, sales_end_at, starts_at, visibility, updated_at)
    VALUES (1, ${gate.status}, ${gate.eventVersion}, ${gate.salesStartAt}, ${gate.salesEndAt}, ${gate.startsAt}, ${gate.visibility ?? null}, ${now})
    ON CONFLICT (id) DO UPDATE SET
      status = excluded.status, event_version = excluded.event_version,
      sales_start_at = excluded.sales_start_at, sales_end_at = excluded.sales_end_at,
      starts_at = excluded.starts_at, visibility = excluded.visibility, updated_at = excluded.updated_at
    WHERE excluded.event_version > gate.event_version`;
  return written > 0;
}

export interface Window {
  opensAt: number | null;
  closesAt: number | null;
}

export const isOpen = (w: Window, now: number) =>
  (w.opensAt === null || now >= w.opensAt) && (w.closesAt === null || now < w.closesAt);

/**
 * The event's own sales window. Sales also stop when the event starts: the clock moves
 * an ON_SALE event to IN_PROGRESS at startsAt, and until that push arrives the DO must
 * not keep selling on its own.
 */
export function eventWindow(gate: GateState): Window {
  const closesAt = gate.salesEndAt === null ? gate.startsAt : Math.min(gate.salesEndAt, gate.startsAt);
  return { opensAt: gate.salesStartAt, closesAt };
}

/** Gate status says ON_SALE and the event window is open at `now`. */
export const gateSelling = (gate: GateState | null, now: number): gate is GateState =>
  gate !== null && gate.status === "ON_SALE" && isOpen(eventWindow(gate), now);

/**
 * Whether a buyer's sale call may be served without the API's D1 lookup (contract
 * `Audience`): the gate shows ON_SALE (never deletable, always publicly listed) and a
 * visibility the public catalogue serves by id. Anything else, including an unknown
 * visibility, sends the caller back to D1.
 */
export const servesPublic = (gate: GateState | null): boolean =>
  gate !== null && gate.status === "ON_SALE" && (gate.visibility === "PUBLIC" || gate.visibility === "UNLISTED");
