import { describe, expect, it } from "vitest";
import { assess, HOLD_VELOCITY, ipKey, RISK_THRESHOLDS, type RiskSignals } from "../../src/fraud";

const NOW = Date.parse("2030-06-01T12:00:00Z");
const MINUTE = 60_000;
const T = RISK_THRESHOLDS;
const VELOCITY_LINE = HOLD_VELOCITY.account.limit * T.velocityShare;

describe("assess: risk flags from checkout signals", () => {
  const cases: [string, Omit<RiskSignals, "now">, string[]][] = [
    ["no signals at all", {}, []],
    ["an ordinary checkout", { accountCreatedAt: NOW - 30 * 24 * 60 * MINUTE, holdQuantity: 2, holdAttempts: 1, buyersOnIp: 1 }, []],
    // new_account: young account AND enough tickets
    ["a brand-new account buying many tickets", { accountCreatedAt: NOW - MINUTE, holdQuantity: T.newAccountMinTickets }, ["new_account"]],
    ["a brand-new account buying a few tickets", { accountCreatedAt: NOW - MINUTE, holdQuantity: T.newAccountMinTickets - 1 }, []],
    ["an account just past the age line", { accountCreatedAt: NOW - T.newAccountAgeMs, holdQuantity: T.newAccountMinTickets }, []],
    ["an account just inside the age line", { accountCreatedAt: NOW - T.newAccountAgeMs + 1, holdQuantity: T.newAccountMinTickets }, ["new_account"]],
    ["a new account whose order size is unknown", { accountCreatedAt: NOW - MINUTE }, []],
    ["a many-ticket order of an unknown account age", { holdQuantity: T.newAccountMinTickets }, []],
    // velocity: strictly above the share of the hold limit
    ["hold attempts at the velocity line", { holdAttempts: VELOCITY_LINE }, []],
    ["hold attempts above the velocity line", { holdAttempts: VELOCITY_LINE + 1 }, ["velocity"]],
    ["hold attempts at the hard limit", { holdAttempts: HOLD_VELOCITY.account.limit }, ["velocity"]],
    // bulk
    ["an order just under bulk", { holdQuantity: T.bulkTickets - 1 }, []],
    ["a bulk order", { holdQuantity: T.bulkTickets }, ["bulk"]],
    // shared_ip
    ["a few buyers behind one address", { buyersOnIp: T.sharedIpBuyers - 1 }, []],
    ["many buyers behind one address", { buyersOnIp: T.sharedIpBuyers }, ["shared_ip"]],
    // all at once, always in RISK_FLAGS order
    [
      "everything",
      { accountCreatedAt: NOW, holdQuantity: T.bulkTickets, holdAttempts: HOLD_VELOCITY.account.limit, buyersOnIp: 50 },
      ["new_account", "velocity", "bulk", "shared_ip"],
    ],
  ];
  for (const [what, signals, flags] of cases) {
    it(`${what} → [${flags.join(", ")}]`, () => {
      expect(assess({ now: NOW, ...signals })).toEqual(flags);
    });
  }

  it("takes other thresholds and hold limits", () => {
    const strict = { ...RISK_THRESHOLDS, bulkTickets: 2, sharedIpBuyers: 2 };
    expect(assess({ now: NOW, holdQuantity: 2, buyersOnIp: 2, holdAttempts: 3 }, strict, 4)).toEqual(["velocity", "bulk", "shared_ip"]);
  });

  it("keeps the flag thresholds consistent with the limits they refer to", () => {
    // velocity must fire before the hard limit refuses, and the shared-ip count is per account window.
    expect(VELOCITY_LINE).toBeLessThan(HOLD_VELOCITY.account.limit);
    expect(T.sharedIpWindowMs).toBe(HOLD_VELOCITY.account.windowMs);
    expect(T.newAccountMinTickets).toBeLessThanOrEqual(T.bulkTickets);
  });
});

describe("ipKey: what an address counts as", () => {
  const cases: [string, string][] = [
    ["203.0.113.7", "203.0.113.7"],
    [" 203.0.113.7 ", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["64:ff9b::198.51.100.1", "64:ff9b:0:0::/64"],
    ["not-an-address", "not-an-address"],
    ["1::2::3", "1::2::3"],
    ["2001:db8:zz::1", "2001:db8:zz::1"],
  ];
  for (const [ip, key] of cases) {
    it(`${JSON.stringify(ip)} → ${key}`, () => expect(ipKey(ip)).toBe(key));
  }

  it("puts one subscriber's IPv6 addresses in one bucket and neighbours in others", () => {
    expect(ipKey("2001:db8:aa:bb:1::1")).toBe(ipKey("2001:db8:aa:bb:ffff::9"));
    expect(ipKey("2001:db8:aa:bb::1")).not.toBe(ipKey("2001:db8:aa:bc::1"));
  });
});
