#!/usr/bin/env node
// Verifies a Boxoffice ticket code offline, the way a door scanner does
// (docs/adr/0007-ticket-codes.md). Self-contained: copy it, `npm install jose`, run it.
//
//   node scripts/verify-ticket.mjs <code | -> <jwks.json path or https URL> [eventId]
//
// `-` reads the code from stdin. Prints the verified claims as JSON and exits 0, or prints
// `refused: <reason>` and exits 1 (2 for usage or key-set errors). Reasons: malformed,
// unknown_key, bad_signature, unsupported_version, wrong_event.
//
// A verified code is authentic, not necessarily admissible: a scanner must also refuse a
// ticket whose id is on the synced revocation list with a minimum cv above the code's cv,
// and, when online, check in at the platform (which admits each ticket once).
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { base64url, compactVerify, createLocalJWKSet, errors } from "jose";

const TYP = "bo-ticket+jws";
const MAX_CODE_LENGTH = 1000;

function usage(message) {
  if (message) console.error(message);
  console.error("usage: node verify-ticket.mjs <code | -> <jwks.json path or URL> [eventId]");
  process.exit(2);
}

async function loadKeySet(source) {
  let text;
  if (/^https?:\/\//i.test(source)) {
    const res = await fetch(source, { signal: AbortSignal.timeout(10_000), headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(`GET ${source} answered ${res.status}`);
    text = await res.text();
  } else {
    text = await readFile(source, "utf8");
  }
  const parsed = JSON.parse(text);
  const keys = Array.isArray(parsed) ? parsed : parsed?.keys;
  if (!Array.isArray(keys)) throw new Error("key set is neither a JWKS ({ keys: [...] }) nor an array of JWKs");
  // Only Ed25519 signature keys are ticket keys; never accept anything private.
  return {
    keys: keys
      .filter((k) => k && k.kty === "OKP" && k.crv === "Ed25519" && typeof k.kid === "string" && (k.use ?? "sig") === "sig")
      .map(({ kty, crv, x, kid }) => ({ kty, crv, x, kid, alg: "EdDSA", use: "sig" })),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The v1 payload record (big-endian; the ADR has the table): v u8 = 1, kinds u8, n u32,
 * cv u32, iat u32, then tid, eid, tkt, tier. Bit i of kinds set: that id is 16 UUID bytes;
 * clear: a length byte (1-64) and that many visible ASCII bytes.
 */
function decodeRecord(bytes) {
  const malformed = { reason: "malformed" };
  if (bytes.length < 1) return malformed;
  if (bytes[0] !== 1) return { reason: "unsupported_version" };
  if (bytes.length < 14 || bytes[1] > 0x0f) return malformed;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids = [];
  let at = 14;
  for (let i = 0; i < 4; i++) {
    if (bytes[1] & (1 << i)) {
      if (at + 16 > bytes.length) return malformed;
      const h = Buffer.from(bytes.subarray(at, at + 16)).toString("hex");
      ids.push(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
      at += 16;
    } else {
      const len = bytes[at];
      if (len === undefined || len < 1 || len > 64 || at + 1 + len > bytes.length) return malformed;
      const text = String.fromCharCode(...bytes.subarray(at + 1, at + 1 + len));
      if (!/^[\x21-\x7e]+$/.test(text) || UUID.test(text)) return malformed;
      ids.push(text);
      at += 1 + len;
    }
  }
  if (at !== bytes.length) return malformed;
  const [tid, eid, tkt, tier] = ids;
  const claims = { v: 1, tid, eid, tkt, n: view.getUint32(2), tier, cv: view.getUint32(6), iat: view.getUint32(10) };
  if (claims.n < 1 || claims.cv < 1) return malformed;
  return { claims };
}

export async function verifyTicket(code, jwks, eventId) {
  if (typeof code !== "string" || code.length === 0 || code.length > MAX_CODE_LENGTH) return { reason: "malformed" };
  const parts = code.split(".");
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return { reason: "malformed" };
  let header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(base64url.decode(parts[0])));
  } catch {
    return { reason: "malformed" };
  }
  // Strict header: exactly alg EdDSA, a kid and our typ. Refuses alg none, HS256 and other tokens.
  const names = header && typeof header === "object" && !Array.isArray(header) ? Object.keys(header).sort() : [];
  if (
    names.join() !== "alg,kid,typ" ||
    header.alg !== "EdDSA" ||
    header.typ !== TYP ||
    typeof header.kid !== "string" ||
    header.kid.length < 1 ||
    header.kid.length > 64
  ) {
    return { reason: "malformed" };
  }
  let payload;
  try {
    ({ payload } = await compactVerify(code, createLocalJWKSet(jwks), { algorithms: ["EdDSA"] }));
  } catch (e) {
    if (e instanceof errors.JWKSNoMatchingKey) return { reason: "unknown_key" };
    if (e instanceof errors.JWSSignatureVerificationFailed) return { reason: "bad_signature" };
    return { reason: "malformed" };
  }
  const decoded = decodeRecord(payload);
  if (decoded.claims && eventId && decoded.claims.eid !== eventId) return { reason: "wrong_event" };
  return decoded;
}

async function main() {
  const [codeArg, source, eventId] = process.argv.slice(2);
  if (!codeArg || !source) usage();
  const code = codeArg === "-" ? readFileSync(0, "utf8").trim() : codeArg;
  let jwks;
  try {
    jwks = await loadKeySet(source);
  } catch (e) {
    usage(`cannot load key set: ${e instanceof Error ? e.message : e}`);
  }
  const result = await verifyTicket(code, jwks, eventId);
  if (result.claims) {
    console.log(JSON.stringify(result.claims, null, 2));
    return;
  }
  console.log(`refused: ${result.reason}`);
  process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
