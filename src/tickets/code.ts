import { CompactSign, base64url, compactVerify, errors, importJWK, type CryptoKey } from "jose";
import { z } from "zod";
import { UUID_PATTERN } from "../lib/ids";
import { MAX_TICKET_NUMBER } from "./number";

/**
 * Signed ticket codes (docs/adr/0007-ticket-codes.md): what the QR code on a ticket holds.
 *
 * A JWS in compact serialization, `alg: EdDSA` (Ed25519), protected header
 * `{ alg, kid, typ: "bo-ticket+jws" }`. The payload is not JSON but a small binary record,
 * so that four UUIDs plus a signature stay well under 300 characters (JSON claims came to
 * ~460). Any JOSE library verifies the signature; the record is then read as (big-endian):
 *
 *   offset  size  field
 *        0     1  v      format version, 1
 *        1     1  kinds  bit 0 tid, bit 1 eid, bit 2 tkt, bit 3 tier: 1 = UUID form,
 *                        0 = text form; bits 4-7 are 0
 *        2     4  n      ticket number within the event, uint32, >= 1
 *        6     4  cv     code version, uint32, >= 1
 *       10     4  iat    issued at, seconds since the epoch, uint32
 *       14     …  tid, eid, tkt, tier, in that order, each either
 *                        UUID form: 16 bytes (printed as a lowercase hyphenated UUID), or
 *                        text form: 1 length byte (1-64), then that many ASCII bytes (0x21-0x7e)
 *
 * Platform ids are UUIDv7, so a real code's record is 14 + 4 × 16 = 78 bytes. The text form
 * exists for ids that are not lowercase UUIDs (fixtures, imported data); a lowercase UUID
 * is always written in UUID form, so each set of claims has exactly one encoding.
 *
 * No personal data. Keys come from TICKET_SIGNING_KEYS (same JSON format as
 * JWT_SIGNING_KEYS, a separate ring): the first key signs, every key verifies, and
 * scanners get only the public parts (`publicTicketKeys`).
 */
export const TICKET_CODE_TYPE = "bo-ticket+jws";
export const TICKET_CODE_FORMAT = 1;
/** Codes longer than this are refused before any parsing. */
export const MAX_TICKET_CODE_LENGTH = 1000;
const ALG = "EdDSA";
const FIXED_BYTES = 14;
const ID_FIELDS = ["tid", "eid", "tkt", "tier"] as const;

export interface TicketClaims {
  /** Payload format version. */
  v: typeof TICKET_CODE_FORMAT;
  /** Tenant id. */
  tid: string;
  /** Event id. */
  eid: string;
  /** Ticket id. */
  tkt: string;
  /** Ticket number, unique within the event (printed with `formatTicketNumber`). */
  n: number;
  /** Tier id. */
  tier: string;
  /** Code version: bumped on transfer or reissue, so older codes can be revoked. */
  cv: number;
  /** Issued at, seconds since the epoch. */
  iat: number;
}

export type TicketCodeFailure =
  | "malformed"
  | "unknown_key"
  | "bad_signature"
  | "wrong_event"
  | "wrong_tenant"
  | "unsupported_version";

export type TicketCodeResult = { ok: true; claims: TicketClaims } | { ok: false; reason: TicketCodeFailure };

/** A private Ed25519 JWK as found in TICKET_SIGNING_KEYS (config's `SigningJwk` fits). */
export interface TicketSigningJwk {
  kty?: string;
  crv?: string;
  kid: string;
  x: string;
  d: string;
}

/** A public key entry, as published to scanners. Extra JWK members are ignored. */
export interface TicketPublicJwkInput {
  kid: string;
  x: string;
  kty?: string;
  crv?: string;
  alg?: string;
  use?: string;
}

export interface PublicTicketJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

/** Any id of 1-64 visible ASCII characters; lowercase UUIDs travel in 16 bytes. */
const id = z.string().regex(/^[\x21-\x7e]{1,64}$/, "must be 1-64 visible ASCII characters");
const u32 = z.number().int().min(0).max(0xffff_ffff);

export const TicketClaimsSchema = z
  .object({
    v: z.literal(TICKET_CODE_FORMAT),
    tid: id,
    eid: id,
    tkt: id,
    n: u32.min(1).max(MAX_TICKET_NUMBER),
    tier: id,
    cv: u32.min(1),
    iat: u32,
  })
  .strict();

const HeaderSchema = z
  .object({
    alg: z.literal(ALG),
    kid: z.string().min(1).max(64),
    typ: z.literal(TICKET_CODE_TYPE),
  })
  .strict();

// ---------------------------------------------------------------------------------------
// Key rings, cached per keys array (config objects are parsed once per isolate and never
// mutated). Separate from the access-token ring in src/auth/jwt.ts.

const signers = new WeakMap<object, Promise<{ kid: string; key: CryptoKey }>>();
const verifierRings = new WeakMap<object, Promise<Map<string, CryptoKey>>>();

function signer(keys: readonly TicketSigningJwk[]): Promise<{ kid: string; key: CryptoKey }> {
  let hit = signers.get(keys);
  if (!hit) {
    const first = keys[0];
    hit = first
      ? (importJWK({ kty: "OKP", crv: "Ed25519", x: first.x, d: first.d }, ALG) as Promise<CryptoKey>).then((key) => ({
          kid: first.kid,
          key,
        }))
      : Promise.reject(new Error("no ticket signing key configured"));
    // A failed import is not cached: the next call tries again.
    hit.catch(() => signers.delete(keys));
    signers.set(keys, hit);
  }
  return hit;
}

function isEd25519Verifier(k: TicketPublicJwkInput): boolean {
  return (
    typeof k === "object" &&
    k !== null &&
    typeof k.kid === "string" &&
    typeof k.x === "string" &&
    (k.kty === undefined || k.kty === "OKP") &&
    (k.crv === undefined || k.crv === "Ed25519") &&
    (k.alg === undefined || k.alg === ALG) &&
    (k.use === undefined || k.use === "sig")
  );
}

async function buildVerifiers(keys: readonly TicketPublicJwkInput[]): Promise<Map<string, CryptoKey>> {
  const ring = new Map<string, CryptoKey>();
  for (const k of keys) {
    // A key set may hold other keys (e.g. a shared JWKS); anything that is not a usable
    // Ed25519 public key is skipped, and codes naming it are `unknown_key`.
    if (!isEd25519Verifier(k) || ring.has(k.kid)) continue;
    try {
      ring.set(k.kid, (await importJWK({ kty: "OKP", crv: "Ed25519", x: k.x }, ALG)) as CryptoKey);
    } catch {
      // skipped: not a valid Ed25519 public key
    }
  }
  return ring;
}

function verifiers(keys: readonly TicketPublicJwkInput[]): Promise<Map<string, CryptoKey>> {
  let hit = verifierRings.get(keys);
  if (!hit) {
    hit = buildVerifiers(keys);
    verifierRings.set(keys, hit);
  }
  return hit;
}

/** The public half of each ticket key, for the scanners' JWKS. Never includes `d`. */
export function publicTicketKeys(keys: readonly TicketSigningJwk[]): PublicTicketJwk[] {
  return keys.map((k) => ({ kty: "OKP", crv: "Ed25519", x: k.x, kid: k.kid, alg: ALG, use: "sig" }));
}

// ---------------------------------------------------------------------------------------
// Payload record

function uuidToBytes(id: string, out: Uint8Array, offset: number): void {
  const hex = id.replaceAll("-", "");
  for (let i = 0; i < 16; i++) out[offset + i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
}

function bytesToUuid(bytes: Uint8Array, offset: number): string {
  let hex = "";
  for (let i = 0; i < 16; i++) hex += bytes[offset + i]!.toString(16).padStart(2, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Encodes validated claims as the v1 record. Throws (ZodError) on claims that are not well-formed. */
export function encodeTicketPayload(claims: TicketClaims): Uint8Array {
  const c = TicketClaimsSchema.parse(claims);
  let kinds = 0;
  let size = FIXED_BYTES;
  ID_FIELDS.forEach((f, i) => {
    if (UUID_PATTERN.test(c[f])) {
      kinds |= 1 << i;
      size += 16;
    } else {
      size += 1 + c[f].length;
    }
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = c.v;
  out[1] = kinds;
  view.setUint32(2, c.n);
  view.setUint32(6, c.cv);
  view.setUint32(10, c.iat);
  let at = FIXED_BYTES;
  ID_FIELDS.forEach((f, i) => {
    if (kinds & (1 << i)) {
      uuidToBytes(c[f], out, at);
      at += 16;
    } else {
      out[at++] = c[f].length;
      for (const ch of c[f]) out[at++] = ch.charCodeAt(0);
    }
  });
  return out;
}

type DecodeResult = { ok: true; claims: TicketClaims } | { ok: false; reason: "malformed" | "unsupported_version" };

/** Decodes a signed record; `unsupported_version` for a format this code does not know. */
export function decodeTicketPayload(bytes: Uint8Array): DecodeResult {
  const malformed: DecodeResult = { ok: false, reason: "malformed" };
  if (bytes.byteLength < 1) return malformed;
  if (bytes[0] !== TICKET_CODE_FORMAT) return { ok: false, reason: "unsupported_version" };
  if (bytes.byteLength < FIXED_BYTES) return malformed;
  const kinds = bytes[1]!;
  if (kinds > 0x0f) return malformed;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids: string[] = [];
  let at = FIXED_BYTES;
  for (let i = 0; i < ID_FIELDS.length; i++) {
    if (kinds & (1 << i)) {
      if (at + 16 > bytes.byteLength) return malformed;
      ids.push(bytesToUuid(bytes, at));
      at += 16;
    } else {
      const len = bytes[at];
      if (len === undefined || at + 1 + len > bytes.byteLength) return malformed;
      const text = String.fromCharCode(...bytes.subarray(at + 1, at + 1 + len));
      // Lowercase UUIDs only ever travel in UUID form (one encoding per claims set).
      if (UUID_PATTERN.test(text)) return malformed;
      ids.push(text);
      at += 1 + len;
    }
  }
  if (at !== bytes.byteLength) return malformed;
  const parsed = TicketClaimsSchema.safeParse({
    v: bytes[0],
    tid: ids[0],
    eid: ids[1],
    tkt: ids[2],
    n: view.getUint32(2),
    tier: ids[3],
    cv: view.getUint32(6),
    iat: view.getUint32(10),
  });
  return parsed.success ? { ok: true, claims: parsed.data } : malformed;
}

// ---------------------------------------------------------------------------------------
// Sign and verify

/**
 * Signs a ticket code with the first key. Throws (ZodError) on claims that are not
 * well-formed: ids of 1-64 visible ASCII characters, `n` and `cv` >= 1, integers within uint32.
 */
export async function signTicketCode(keys: readonly TicketSigningJwk[], claims: TicketClaims): Promise<string> {
  const payload = encodeTicketPayload(claims);
  const { kid, key } = await signer(keys);
  return new CompactSign(payload).setProtectedHeader({ alg: ALG, kid, typ: TICKET_CODE_TYPE }).sign(key);
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function parseHeader(segment: string): z.infer<typeof HeaderSchema> | null {
  try {
    const json: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(base64url.decode(segment)));
    const parsed = HeaderSchema.safeParse(json);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a code offline with public keys only (the entries of `publicTicketKeys`, or the
 * signing keys themselves). Strict: EdDSA only, `typ` must be `bo-ticket+jws`, the header
 * holds nothing but alg/kid/typ, the record must be a known format. `expect` pins the
 * tenant and/or event the scanner is admitting for.
 *
 * Authentic is not the same as admissible: the caller must still check the revocation list
 * (ticket id + minimum valid cv) and, online, check in at the event's Durable Object.
 */
export async function verifyTicketCode(
  code: string,
  publicKeys: readonly TicketPublicJwkInput[],
  expect?: { tenantId?: string; eventId?: string },
): Promise<TicketCodeResult> {
  if (typeof code !== "string" || code.length === 0 || code.length > MAX_TICKET_CODE_LENGTH) {
    return { ok: false, reason: "malformed" };
  }
  const parts = code.split(".");
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) return { ok: false, reason: "malformed" };

  // The header is judged before any key is touched: `alg: none`, HS256 and foreign token
  // types never reach signature verification.
  const header = parseHeader(parts[0]!);
  if (!header) return { ok: false, reason: "malformed" };
  const key = (await verifiers(publicKeys)).get(header.kid);
  if (!key) return { ok: false, reason: "unknown_key" };

  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(code, key, { algorithms: [ALG] }));
  } catch (e) {
    return { ok: false, reason: e instanceof errors.JWSSignatureVerificationFailed ? "bad_signature" : "malformed" };
  }

  const decoded = decodeTicketPayload(payload);
  if (!decoded.ok) return decoded;
  const { claims } = decoded;
  if (expect?.tenantId !== undefined && claims.tid !== expect.tenantId) return { ok: false, reason: "wrong_tenant" };
  if (expect?.eventId !== undefined && claims.eid !== expect.eventId) return { ok: false, reason: "wrong_event" };
  return { ok: true, claims };
}
