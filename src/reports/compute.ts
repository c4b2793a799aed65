/**
 * Sales reports, computed from the committed records (D1's orders and tickets, which the
 * event's EventInventory outbox writes) and compared with the inventory's live counters.
 * Pure: the aggregates come from ReportsRepo, the counters from the DO.
 *
 * Definitions (integer minor units; never added across currencies):
 *   paid orders  = orders that were paid (a payment time) and are paid, refunded,
 *                  partially_refunded, or cancelled after payment (an event's cancellation
 *                  refunds paid orders in full and marks them cancelled); pending, expired
 *                  and unpaid cancelled orders are left out
 *   gross        = sum of paid orders' total_minor
 *   face value   = sum over their lines of (subtotal − group discount)
 *   fees         = sum over their lines of (service fees + facility fees)
 *   taxes        = sum over their lines of tax
 *                  (so gross = face value + fees + taxes, as every quote's total is)
 *   refunds      = sum of paid orders' refunded_minor
 *   net          = gross − refunds
 *   issued       = tickets issued for the tier (any status)
 *   sold         = issued − refunded − cancelled (the seats the tier has sold and kept)
 *   checked in   = tickets with a check-in time
 *   consistent   = sold (D1) equals the inventory's `sold` counter for the tier
 */
import type { LineAggregate, OrderAggregate, ReportTier, TicketAggregate } from "../db/repositories/reports";
import type { TierCounts } from "../inventory/contract";

export interface CurrencyTotals {
  currency: string;
  orders: number;
  refundedOrders: number;
  tickets: number;
  gross: number;
  faceValue: number;
  groupDiscounts: number;
  serviceFees: number;
  facilityFees: number;
  fees: number;
  taxes: number;
  refunds: number;
  net: number;
}

export interface TicketCounts {
  issued: number;
  refunded: number;
  cancelled: number;
  sold: number;
  checkedIn: number;
}

/** A tier's paid lines in one currency. */
export interface TierAmount {
  currency: string;
  tickets: number;
  gross: number;
  faceValue: number;
  groupDiscounts: number;
  fees: number;
  taxes: number;
}

export interface TierSales extends TicketCounts {
  tierId: string;
  /** Null for a tier the records name but D1's tier list does not (never expected). */
  name: string | null;
  amounts: TierAmount[];
}

export interface EventSales {
  totals: CurrencyTotals[];
  tickets: TicketCounts;
  tiers: TierSales[];
}

export interface TierReconciliation extends TierSales {
  /** The inventory's `sold` counter; null when the inventory could not be read. */
  inventorySold: number | null;
  /** sold === inventorySold; null when the inventory could not be read. */
  consistent: boolean | null;
}

export interface InventoryView {
  /** Every tier's sold agrees with the inventory. */
  consistent: boolean;
  tiers: { tierId: string; capacity: number; held: number; sold: number }[];
}

export interface EventReconciliation extends Omit<EventSales, "tiers"> {
  tiers: TierReconciliation[];
  inventory: InventoryView | null;
}

/** The aggregates of one event (or of several, filtered per event by the caller). */
export interface SalesRecords {
  orders: OrderAggregate[];
  lines: LineAggregate[];
  tickets: TicketAggregate[];
  tiers: ReportTier[];
}

const byCurrency = (a: { currency: string }, b: { currency: string }) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0);

const zeroTotals = (currency: string): CurrencyTotals => ({
  currency,
  orders: 0,
  refundedOrders: 0,
  tickets: 0,
  gross: 0,
  faceValue: 0,
  groupDiscounts: 0,
  serviceFees: 0,
  facilityFees: 0,
  fees: 0,
  taxes: 0,
  refunds: 0,
  net: 0,
});

const zeroCounts = (): TicketCounts => ({ issued: 0, refunded: 0, cancelled: 0, sold: 0, checkedIn: 0 });

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** Totals per currency, from the orders (counts, gross, refunds) and their lines (the breakdown). */
export function currencyTotals(orders: OrderAggregate[], lines: LineAggregate[]): CurrencyTotals[] {
  const out = new Map<string, CurrencyTotals>();
  for (const o of orders) {
    const t = getOr(out, o.currency, () => zeroTotals(o.currency));
    t.orders += o.orders;
    t.refundedOrders += o.refundedOrders;
    t.tickets += o.tickets;
    t.gross += o.gross;
    t.refunds += o.refunds;
  }
  for (const l of lines) {
    const t = getOr(out, l.currency, () => zeroTotals(l.currency));
    t.faceValue += l.subtotal - l.groupDiscount;
    t.groupDiscounts += l.groupDiscount;
    t.serviceFees += l.serviceFees;
    t.facilityFees += l.facilityFees;
    t.taxes += l.tax;
  }
  for (const t of out.values()) {
    t.fees = t.serviceFees + t.facilityFees;
    t.net = t.gross - t.refunds;
  }
  return [...out.values()].sort(byCurrency);
}

/** Adds per-currency totals (several events' into a venue's), currency by currency. */
export function addTotals(lists: CurrencyTotals[][]): CurrencyTotals[] {
  const out = new Map<string, CurrencyTotals>();
  for (const list of lists) {
    for (const t of list) {
      const sum = getOr(out, t.currency, () => zeroTotals(t.currency));
      for (const k of Object.keys(sum) as (keyof CurrencyTotals)[]) {
        if (k !== "currency") sum[k] += t[k];
      }
    }
  }
  return [...out.values()].sort(byCurrency);
}

export function addCounts(list: TicketCounts[]): TicketCounts {
  const sum = zeroCounts();
  for (const c of list) {
    sum.issued += c.issued;
    sum.refunded += c.refunded;
    sum.cancelled += c.cancelled;
    sum.sold += c.sold;
    sum.checkedIn += c.checkedIn;
  }
  return sum;
}

function tierAmounts(lines: LineAggregate[]): TierAmount[] {
  return lines
    .map((l) => ({
      currency: l.currency,
      tickets: l.quantity,
      gross: l.total,
      faceValue: l.subtotal - l.groupDiscount,
      groupDiscounts: l.groupDiscount,
      fees: l.serviceFees + l.facilityFees,
      taxes: l.tax,
    }))
    .sort(byCurrency);
}

/**
 * One event's sales. Tiers come in D1's order (creation), then any tier only the records
 * or `extraTierIds` (the inventory's) name. A deleted tier is listed only if it has records
 * or is in `extraTierIds`.
 */
export function eventSales(r: SalesRecords, extraTierIds: string[] = []): EventSales {
  const ticketsByTier = new Map(r.tickets.map((t) => [t.tierId, t]));
  const linesByTier = new Map<string, LineAggregate[]>();
  for (const l of r.lines) getOr(linesByTier, l.tierId, () => []).push(l);
  const names = new Map(r.tiers.map((t) => [t.tierId, t.name]));

  const order: string[] = [];
  const seen = new Set<string>();
  const add = (id: string) => {
    if (!seen.has(id)) {
      seen.add(id);
      order.push(id);
    }
  };
  const active = new Set([...ticketsByTier.keys(), ...linesByTier.keys(), ...extraTierIds]);
  for (const t of r.tiers) if (!t.deleted || active.has(t.tierId)) add(t.tierId);
  for (const id of [...extraTierIds, ...linesByTier.keys(), ...ticketsByTier.keys()]) add(id);

  const tiers = order.map((tierId): TierSales => {
    const t = ticketsByTier.get(tierId);
    const issued = t?.issued ?? 0;
    const refunded = t?.refunded ?? 0;
    const cancelled = t?.cancelled ?? 0;
    return {
      tierId,
      name: names.get(tierId) ?? null,
      issued,
      refunded,
      cancelled,
      sold: issued - refunded - cancelled,
      checkedIn: t?.checkedIn ?? 0,
      amounts: tierAmounts(linesByTier.get(tierId) ?? []),
    };
  });
  return { totals: currencyTotals(r.orders, r.lines), tickets: addCounts(tiers), tiers };
}

/**
 * The event's sales next to the inventory's counters. D1 follows the inventory through its
 * outbox, so `consistent` may be false for the moments after a sale; lasting disagreement
 * means the outbox is stuck. `counts` null: the inventory could not be read.
 */
export function reconcile(r: SalesRecords, counts: TierCounts[] | null): EventReconciliation {
  // A tier the inventory counts anything for is listed even if D1 has no record of it yet.
  const sales = eventSales(r, (counts ?? []).filter((c) => c.sold > 0 || c.held > 0).map((c) => c.tierId));
  if (counts === null) {
    return { ...sales, tiers: sales.tiers.map((t) => ({ ...t, inventorySold: null, consistent: null })), inventory: null };
  }
  const inventory = new Map(counts.map((c) => [c.tierId, c]));
  const tiers = sales.tiers.map((t): TierReconciliation => {
    const inventorySold = inventory.get(t.tierId)?.sold ?? 0;
    return { ...t, inventorySold, consistent: t.sold === inventorySold };
  });
  return {
    ...sales,
    tiers,
    inventory: {
      consistent: tiers.every((t) => t.consistent),
      tiers: counts.map((c) => ({ tierId: c.tierId, capacity: c.capacity, held: c.held, sold: c.sold })),
    },
  };
}

/** Splits multi-event aggregates by event id. */
export function recordsByEvent(r: SalesRecords): Map<string, SalesRecords> {
  const out = new Map<string, SalesRecords>();
  const of = (eventId: string) => getOr(out, eventId, () => ({ orders: [], lines: [], tickets: [], tiers: [] }));
  for (const o of r.orders) of(o.eventId).orders.push(o);
  for (const l of r.lines) of(l.eventId).lines.push(l);
  for (const t of r.tickets) of(t.eventId).tickets.push(t);
  for (const t of r.tiers) of(t.eventId).tiers.push(t);
  return out;
}
