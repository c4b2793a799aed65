import { CompactSign, SignJWT, base64url, compactVerify, createLocalJWKSet, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/lib/ids";
import {
  MAX_TICKET_CODE_LENGTH,
  TICKET_CODE_TYPE,
  decodeTicketPayload,
  encodeTicketPayload,
  publicTicketKeys,
  signTicketCode,
  verifyTicketCode,
  type TicketClaims,
  type TicketSigningJwk,
} from "../../src/tickets/code";

async function ticketKey(kid: string): Promise<TicketSigningJwk> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, d: jwk.d!, kid };
}

function claims(overrides: Partial<TicketClaims> = {}): TicketClaims {
  const now = Date.now();
  return {
    v: 1,
    tid: uuidv7(now),
    eid: uuidv7(now),
    tkt: uuidv7(now),
    n: 1234,
    tier: uuidv7(now),
    cv: 1,
    iat: Math.floor(now / 1000),
    ...overrides,
  };
}

const enc = new TextEncoder();
const b64json = (v: unknown) => base64url.encode(JSON.stringify(v));
const segments = (code: string) => code.split(".") as [string, string, string];

describe("signTicketCode / verifyTicketCode", () => {
  it("round-trips the claims, with the header scanners expect", async () => {
    const keys = [await ticketKey("tk-2026-01")];
    const c = claims({ n: 4_294_967_295, cv: 7 });
    const code = await signTicketCode(keys, c);
    expect(await verifyTicketCode(code, publicTicketKeys(keys))).toEqual({ ok: true, claims: c });
    // The signing keys themselves also work as the verifying set (the DO has them).
    expect(await verifyTicketCode(code, keys)).toEqual({ ok: true, claims: c });
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(segments(code)[0])));
    expect(header).toEqual({ alg: "EdDSA", kid: "tk-2026-01", typ: TICKET_CODE_TYPE });
  });

  it("is a standard JWS: a stock JOSE verifier with the published JWKS accepts it", async () => {
    const keys = [await ticketKey("tk-a")];
    const c = claims();
    const code = await signTicketCode(keys, c);
    const { payload, protectedHeader } = await compactVerify(code, createLocalJWKSet({ keys: publicTicketKeys(keys) }), {
      algorithms: ["EdDSA"],
    });
    expect(protectedHeader.typ).toBe(TICKET_CODE_TYPE);
    expect(decodeTicketPayload(payload)).toEqual({ ok: true, claims: c });
  });

  it("stays under 300 characters with realistic UUIDv7 ids", async () => {
    const keys = [await ticketKey("tickets-2026-01")];
    const lengths: number[] = [];
    for (let i = 0; i < 20; i++) {
      const code = await signTicketCode(keys, claims({ n: 1 + i * 99_991, cv: 1 + i }));
      lengths.push(code.length);
    }
    // With UUID ids the record is 78 bytes whatever the numbers, so the length depends only
    // on the kid: header 82 + record 104 + signature 86 + two dots.
    expect(new Set(lengths).size).toBe(1);
    expect(lengths[0]).toBe(274);

    // The longest kid the ADR allows for ticket keys (32 characters) still fits.
    const longKid = [await ticketKey("k".repeat(32))];
    expect((await signTicketCode(longKid, claims())).length).toBe(296);
  });

  it("carries ids that are not lowercase UUIDs in text form", async () => {
    const keys = [await ticketKey("k1")];
    const c = claims({ tier: "ga", tkt: uuidv7().toUpperCase(), eid: "x".repeat(64) });
    const code = await signTicketCode(keys, c);
    expect(await verifyTicketCode(code, publicTicketKeys(keys))).toEqual({ ok: true, claims: c });
  });

  it("refuses a tampered payload", async () => {
    const keys = [await ticketKey("k1")];
    const code = await signTicketCode(keys, claims({ n: 5 }));
    const [h, p, s] = segments(code);
    const bytes = base64url.decode(p);
    bytes[5] = 6; // n: 5 -> 6
    const tampered = `${h}.${base64url.encode(bytes)}.${s}`;
    expect(await verifyTicketCode(tampered, publicTicketKeys(keys))).toEqual({ ok: false, reason: "bad_signature" });
    // Same for a flipped signature bit.
    const sig = base64url.decode(s);
    sig[10]! ^= 1;
    expect(await verifyTicketCode(`${h}.${p}.${base64url.encode(sig)}`, publicTicketKeys(keys))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("refuses a code signed by another key under a known kid", async () => {
    const ours = [await ticketKey("k1")];
    const theirs = [await ticketKey("k1")];
    const code = await signTicketCode(theirs, claims());
    expect(await verifyTicketCode(code, publicTicketKeys(ours))).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses an unknown kid", async () => {
    const code = await signTicketCode([await ticketKey("elsewhere")], claims());
    expect(await verifyTicketCode(code, publicTicketKeys([await ticketKey("k1")]))).toEqual({
      ok: false,
      reason: "unknown_key",
    });
    expect(await verifyTicketCode(code, [])).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("refuses alg none and HS256 forgeries before touching a key", async () => {
    const keys = [await ticketKey("k1")];
    const pub = publicTicketKeys(keys);
    const p = segments(await signTicketCode(keys, claims()))[1];

    const none = b64json({ alg: "none", kid: "k1", typ: TICKET_CODE_TYPE });
    expect(await verifyTicketCode(`${none}.${p}.`, pub)).toEqual({ ok: false, reason: "malformed" });
    expect(await verifyTicketCode(`${none}.${p}.AAAA`, pub)).toEqual({ ok: false, reason: "malformed" });

    // HS256 "signed" with the public key, the classic algorithm-confusion forgery.
    for (const secret of [base64url.decode(pub[0]!.x), enc.encode(JSON.stringify(pub[0]))]) {
      const forged = await new CompactSign(base64url.decode(p))
        .setProtectedHeader({ alg: "HS256", kid: "k1", typ: TICKET_CODE_TYPE })
        .sign(secret);
      expect(await verifyTicketCode(forged, pub)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("refuses other token types signed with the right key", async () => {
    const keys = [await ticketKey("k1")];
    const pub = publicTicketKeys(keys);
    const priv = await importJWK({ kty: "OKP", crv: "Ed25519", x: keys[0]!.x, d: keys[0]!.d }, "EdDSA");
    const payload = encodeTicketPayload(claims());

    // An access-token type, or no typ at all.
    for (const header of [{ alg: "EdDSA", kid: "k1", typ: "at+jwt" }, { alg: "EdDSA", kid: "k1" }]) {
      const code = await new CompactSign(payload).setProtectedHeader(header).sign(priv);
      expect(await verifyTicketCode(code, pub)).toEqual({ ok: false, reason: "malformed" });
    }
    // Extra header members (an embedded key, crit) are not part of the format.
    const embedded = await new CompactSign(payload)
      .setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: TICKET_CODE_TYPE, jwk: { kty: "OKP", crv: "Ed25519", x: pub[0]!.x } })
      .sign(priv);
    expect(await verifyTicketCode(embedded, pub)).toEqual({ ok: false, reason: "malformed" });

    // A JWT with JSON claims, even with the ticket typ, is not a v1 record.
    const jwt = await new SignJWT({ v: 1, tid: "x" })
      .setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: TICKET_CODE_TYPE })
      .sign(priv);
    expect(await verifyTicketCode(jwt, pub)).toEqual({ ok: false, reason: "unsupported_version" });

    // A future format version, validly signed.
    const v2 = new Uint8Array(payload);
    v2[0] = 2;
    const future = await new CompactSign(v2).setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: TICKET_CODE_TYPE }).sign(priv);
    expect(await verifyTicketCode(future, pub)).toEqual({ ok: false, reason: "unsupported_version" });

    // A v1 record of the wrong size, validly signed.
    const short = await new CompactSign(payload.slice(0, 76))
      .setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: TICKET_CODE_TYPE })
      .sign(priv);
    expect(await verifyTicketCode(short, pub)).toEqual({ ok: false, reason: "malformed" });
  });

  it("rotation: codes signed with the old first key keep verifying after a new key is put first", async () => {
    const oldKey = await ticketKey("tk-old");
    const newKey = await ticketKey("tk-new");
    const before = [oldKey];
    const during = [newKey, oldKey];
    const after = [newKey];

    const oldCode = await signTicketCode(before, claims());
    const newCode = await signTicketCode(during, claims());
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(segments(newCode)[0]))).kid).toBe("tk-new");

    expect((await verifyTicketCode(oldCode, publicTicketKeys(during))).ok).toBe(true);
    expect((await verifyTicketCode(newCode, publicTicketKeys(during))).ok).toBe(true);
    // Scanners that have not synced the new key yet cannot verify new codes…
    expect(await verifyTicketCode(newCode, publicTicketKeys(before))).toEqual({ ok: false, reason: "unknown_key" });
    // …and once the old key is retired, its codes stop verifying.
    expect(await verifyTicketCode(oldCode, publicTicketKeys(after))).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("checks the expected tenant and event", async () => {
    const keys = [await ticketKey("k1")];
    const pub = publicTicketKeys(keys);
    const c = claims();
    const code = await signTicketCode(keys, c);
    expect((await verifyTicketCode(code, pub, { tenantId: c.tid, eventId: c.eid })).ok).toBe(true);
    expect((await verifyTicketCode(code, pub, { eventId: c.eid })).ok).toBe(true);
    expect(await verifyTicketCode(code, pub, { eventId: uuidv7() })).toEqual({ ok: false, reason: "wrong_event" });
    expect(await verifyTicketCode(code, pub, { tenantId: uuidv7(), eventId: c.eid })).toEqual({
      ok: false,
      reason: "wrong_tenant",
    });
    // Case matters: ids are compared exactly as issued (lowercase).
    expect(await verifyTicketCode(code, pub, { eventId: c.eid.toUpperCase() })).toEqual({
      ok: false,
      reason: "wrong_event",
    });
  });

  it("refuses oversize and malformed input without parsing it", async () => {
    const keys = [await ticketKey("k1")];
    const pub = publicTicketKeys(keys);
    const code = await signTicketCode(keys, claims());
    const cases: unknown[] = [
      "",
      "x".repeat(MAX_TICKET_CODE_LENGTH + 1),
      `${code}${"A".repeat(MAX_TICKET_CODE_LENGTH)}`,
      `${code}.`,
      code.split(".").slice(0, 2).join("."),
      `${code}.AAAA`,
      ` ${code}`,
      `${code}\n`,
      code.replace(".", ".."),
      `!!!!.${segments(code)[1]}.${segments(code)[2]}`,
      `${base64url.encode("not json")}.${segments(code)[1]}.${segments(code)[2]}`,
      `${b64json([1, 2])}.${segments(code)[1]}.${segments(code)[2]}`,
      `${base64url.encode(new Uint8Array([0xff, 0xfe, 0x7b]))}.${segments(code)[1]}.${segments(code)[2]}`,
      `${b64json({ alg: "EdDSA", kid: "k".repeat(65), typ: TICKET_CODE_TYPE })}.${segments(code)[1]}.${segments(code)[2]}`,
      undefined,
      null,
      42,
    ];
    for (const input of cases) {
      expect(await verifyTicketCode(input as string, pub), String(input).slice(0, 60)).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
  });

  it("skips entries of a key set that are not Ed25519 signature keys", async () => {
    const keys = [await ticketKey("k1")];
    const code = await signTicketCode(keys, claims());
    const x = keys[0]!.x;
    const set = [
      { kty: "EC", crv: "P-256", kid: "k1", x, y: "AAAA" },
      { kty: "OKP", crv: "Ed25519", kid: "k1", x, use: "enc" },
      { kty: "OKP", crv: "Ed25519", kid: "k1", x: "not-a-key" },
    ];
    expect(await verifyTicketCode(code, set)).toEqual({ ok: false, reason: "unknown_key" });
    expect((await verifyTicketCode(code, [...set, { kty: "OKP", crv: "Ed25519", kid: "k1", x }])).ok).toBe(true);
  });

  it("refuses to sign claims that are not well-formed", async () => {
    const keys = [await ticketKey("k1")];
    const bad: Partial<TicketClaims>[] = [
      { n: 0 },
      { n: 1.5 },
      { n: 2 ** 32 },
      { cv: 0 },
      { iat: -1 },
      { iat: 2 ** 32 },
      { tid: "" },
      { tid: "two words" },
      { eid: "événement" },
      { tkt: "x".repeat(65) },
      { v: 2 as 1 },
    ];
    for (const o of bad) await expect(signTicketCode(keys, claims(o)), JSON.stringify(o)).rejects.toThrow();
    await expect(signTicketCode(keys, { ...claims(), email: "a@b.c" } as TicketClaims)).rejects.toThrow();
    await expect(signTicketCode([], claims())).rejects.toThrow(/no ticket signing key/);
  });
});

describe("ticket record", () => {
  const record = () => encodeTicketPayload(claims({ n: 42, cv: 3 }));

  it("is 78 bytes with UUID ids: version, id kinds, n, cv, iat, then the ids", () => {
    const c = claims({ n: 42, cv: 3, iat: 1_767_225_600 });
    const r = encodeTicketPayload(c);
    expect(r.byteLength).toBe(78);
    const view = new DataView(r.buffer);
    expect([r[0], r[1], view.getUint32(2), view.getUint32(6), view.getUint32(10)]).toEqual([1, 0x0f, 42, 3, 1_767_225_600]);
    expect(Array.from(r.subarray(14, 30), (b) => b.toString(16).padStart(2, "0")).join("")).toBe(c.tid.replaceAll("-", ""));
    expect(decodeTicketPayload(r)).toEqual({ ok: true, claims: c });
  });

  it("has one encoding per claims set and no slack", () => {
    const good = record();
    expect(decodeTicketPayload(good).ok).toBe(true);
    expect(decodeTicketPayload(new Uint8Array())).toEqual({ ok: false, reason: "malformed" });
    expect(decodeTicketPayload(good.slice(0, 13))).toEqual({ ok: false, reason: "malformed" });
    expect(decodeTicketPayload(good.slice(0, 77))).toEqual({ ok: false, reason: "malformed" });
    expect(decodeTicketPayload(new Uint8Array([...good, 0]))).toEqual({ ok: false, reason: "malformed" });
    const unknownBits = good.slice();
    unknownBits[1] = 0x1f;
    expect(decodeTicketPayload(unknownBits)).toEqual({ ok: false, reason: "malformed" });
    const zeroN = good.slice();
    zeroN.fill(0, 2, 6);
    expect(decodeTicketPayload(zeroN)).toEqual({ ok: false, reason: "malformed" });
    const v2 = good.slice();
    v2[0] = 2;
    expect(decodeTicketPayload(v2)).toEqual({ ok: false, reason: "unsupported_version" });

    // A lowercase UUID written in text form is not canonical.
    const c = claims();
    const textTid = encodeTicketPayload({ ...c, tid: c.tid.toUpperCase() });
    textTid[1]! &= ~1;
    textTid.set(new TextEncoder().encode(c.tid), 15);
    expect(decodeTicketPayload(textTid)).toEqual({ ok: false, reason: "malformed" });
    // Text ids must be visible ASCII.
    const ga = encodeTicketPayload({ ...c, tier: "ga" });
    expect(decodeTicketPayload(ga).ok).toBe(true);
    ga[ga.byteLength - 1] = 0x20;
    expect(decodeTicketPayload(ga)).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("publicTicketKeys", () => {
  it("publishes only the public members, never d", async () => {
    const keys = [await ticketKey("k1"), await ticketKey("k2")];
    const pub = publicTicketKeys(keys);
    expect(pub.map((k) => k.kid)).toEqual(["k1", "k2"]);
    for (const [i, k] of pub.entries()) {
      expect(k).toEqual({ kty: "OKP", crv: "Ed25519", x: keys[i]!.x, kid: keys[i]!.kid, alg: "EdDSA", use: "sig" });
      expect(Object.keys(k)).not.toContain("d");
    }
    expect(JSON.stringify(pub)).not.toContain(keys[0]!.d);
    expect(JSON.stringify(pub)).not.toContain('"d"');
  });
});
