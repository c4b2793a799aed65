/**
 * Printed ticket numbers: the per-event sequence number (1, 2, 3… counted by the
 * event's Durable Object), zero-padded to at least six digits, then a hyphen and a
 * Damm check digit: ticket 123 prints as `000123-7`.
 *
 * Damm (rather than Luhn) because it catches every single-digit error and every
 * transposition of two adjacent digits, including the check digit itself
 * (Luhn misses 09 <-> 90). The fixed width also catches a dropped or doubled digit
 * in numbers below a million. Pure functions, no I/O (docs/adr/0007-ticket-codes.md).
 */

/** Ticket numbers travel as an unsigned 32-bit field in signed codes. */
export const MAX_TICKET_NUMBER = 0xffff_ffff;
export const TICKET_NUMBER_WIDTH = 6;

// The weakly totally anti-symmetric quasigroup of order 10 from Damm (2004).
const DAMM: readonly (readonly number[])[] = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

function dammInterim(digits: string): number {
  let interim = 0;
  for (const ch of digits) interim = DAMM[interim]![ch.charCodeAt(0) - 48]!;
  return interim;
}

/** The Damm check digit of a string of decimal digits (leading zeros do not change it). */
export function dammCheckDigit(digits: string): number {
  if (!/^[0-9]+$/.test(digits)) throw new TypeError("dammCheckDigit expects decimal digits");
  return dammInterim(digits);
}

export function isValidTicketNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_TICKET_NUMBER;
}

/** `123` → `"000123-7"`. Throws RangeError for anything that is not a valid ticket number. */
export function formatTicketNumber(n: number): string {
  if (!isValidTicketNumber(n)) throw new RangeError(`not a ticket number: ${n}`);
  const digits = String(n).padStart(TICKET_NUMBER_WIDTH, "0");
  return `${digits}-${dammInterim(digits)}`;
}

export type ParsedTicketNumber =
  | { ok: true; number: number }
  | { ok: false; reason: "malformed" | "bad_check_digit" | "out_of_range" };

/**
 * Reads a number typed at a door. Spaces and hyphens are ignored wherever they are (the
 * last digit is always the check digit), so `000123-7`, `000 123 7` and `0001237` are the
 * same ticket. Anything else, a wrong check digit, or a width other than the printed one
 * (six digits, more only when the number needs them) is refused.
 */
export function parseTicketNumber(input: string): ParsedTicketNumber {
  if (typeof input !== "string" || input.length > 32) return { ok: false, reason: "malformed" };
  const all = input.replace(/[\s-]/g, "");
  if (!/^[0-9]{2,11}$/.test(all)) return { ok: false, reason: "malformed" };
  if (dammInterim(all) !== 0) return { ok: false, reason: "bad_check_digit" };
  const digits = all.slice(0, -1);
  const n = Number(digits);
  if (!isValidTicketNumber(n)) return { ok: false, reason: "out_of_range" };
  // Only the canonical width: a dropped or doubled digit changes it.
  if (digits !== String(n).padStart(TICKET_NUMBER_WIDTH, "0")) return { ok: false, reason: "malformed" };
  return { ok: true, number: n };
}
