import { describe, expect, it } from "vitest";
import {
  MAX_TICKET_NUMBER,
  dammCheckDigit,
  formatTicketNumber,
  parseTicketNumber,
} from "../../src/tickets/number";

// Numbers to sweep: the small ones every event has, then some spread up to the limit.
const SAMPLE = [
  ...Array.from({ length: 1500 }, (_, i) => i + 1),
  99_999, 100_000, 999_999, 1_000_000, 1_234_567, 98_765_432, MAX_TICKET_NUMBER,
];

/** Printed form without the hyphen: the string a door agent actually types digit by digit. */
const typed = (n: number) => formatTicketNumber(n).replace("-", "");

describe("formatTicketNumber", () => {
  it("zero-pads to six digits and appends a Damm check digit", () => {
    // Damm's worked example: 572 -> check digit 4.
    expect(dammCheckDigit("572")).toBe(4);
    expect(formatTicketNumber(572)).toBe("000572-4");
    expect(formatTicketNumber(1)).toMatch(/^000001-\d$/);
    expect(formatTicketNumber(123)).toBe(`000123-${dammCheckDigit("123")}`);
    // Wider numbers are not truncated or padded further.
    expect(formatTicketNumber(1_234_567)).toMatch(/^1234567-\d$/);
    expect(formatTicketNumber(MAX_TICKET_NUMBER)).toMatch(/^4294967295-\d$/);
  });

  it("leading zeros do not change the check digit", () => {
    expect(dammCheckDigit("000123")).toBe(dammCheckDigit("123"));
  });

  it("refuses values that are not ticket numbers", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_TICKET_NUMBER + 1]) {
      expect(() => formatTicketNumber(bad)).toThrow(RangeError);
    }
    expect(() => dammCheckDigit("12a")).toThrow(TypeError);
  });
});

describe("parseTicketNumber", () => {
  it("round-trips the printed form", () => {
    for (const n of SAMPLE) expect(parseTicketNumber(formatTicketNumber(n))).toEqual({ ok: true, number: n });
  });

  it("ignores spaces and hyphens", () => {
    const printed = formatTicketNumber(123);
    const check = printed.at(-1);
    for (const variant of [printed, `000123${check}`, ` 000 123 ${check} `, `000-123-${check}`]) {
      expect(parseTicketNumber(variant)).toEqual({ ok: true, number: 123 });
    }
  });

  it("catches every single-digit error, the check digit included", () => {
    let tried = 0;
    for (const n of SAMPLE) {
      const s = typed(n);
      for (let i = 0; i < s.length; i++) {
        for (const d of "0123456789") {
          if (d === s[i]) continue;
          const wrong = s.slice(0, i) + d + s.slice(i + 1);
          const r = parseTicketNumber(wrong);
          expect(r.ok, `${s} mistyped as ${wrong}`).toBe(false);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(90_000);
  });

  it("catches every transposition of two adjacent different digits, across the hyphen too", () => {
    let tried = 0;
    for (const n of SAMPLE) {
      const s = typed(n);
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === s[i + 1]) continue;
        const swapped = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
        expect(parseTicketNumber(swapped).ok, `${s} typed as ${swapped}`).toBe(false);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(1_000);
  });

  it("refuses a dropped or doubled digit in a padded number", () => {
    const s = typed(4321); // 0043217-like
    expect(parseTicketNumber(s.slice(1)).ok).toBe(false); // one leading zero dropped
    expect(parseTicketNumber(`0${s}`).ok).toBe(false); // an extra zero
  });

  it("names why a number was refused", () => {
    const check = dammCheckDigit("000123");
    expect(parseTicketNumber(`000123-${(check + 1) % 10}`)).toEqual({ ok: false, reason: "bad_check_digit" });
    expect(parseTicketNumber(`000000-${dammCheckDigit("000000")}`)).toEqual({ ok: false, reason: "out_of_range" });
    expect(parseTicketNumber(`4294967296-${dammCheckDigit("4294967296")}`)).toEqual({ ok: false, reason: "out_of_range" });
    expect(parseTicketNumber(`123-${dammCheckDigit("123")}`)).toEqual({ ok: false, reason: "malformed" });
    for (const bad of ["", "-", "7", "00012a-3", "000123+7", "0".repeat(40), "１２３４５６-７"]) {
      expect(parseTicketNumber(bad)).toEqual({ ok: false, reason: "malformed" });
    }
    expect(parseTicketNumber(undefined as unknown as string)).toEqual({ ok: false, reason: "malformed" });
  });
});
