import { SignJWT, importJWK, jwtVerify, type CryptoKey, type JWK, type JWTPayload } from "jose";
import type { ApiConfig, SigningJwk } from "../config/env";
import { ROLES, type Role } from "../db/schema";

/**
 * Access tokens: EdDSA (Ed25519) JWTs with a `kid`. The first key in
 * JWT_SIGNING_KEYS signs; every listed key verifies and is published in the JWKS,
 * so a new key can be put first while the old one keeps verifying until the last
 * token it signed has expired (rotation without logging anyone out).
 * Only EdDSA is accepted: `alg: none` and HS256-with-the-public-key are refused
 * by the algorithm allowlist before any key is touched.
 */
export const ACCESS_TOKEN_TYPE = "at+jwt";
const ALG = "EdDSA";

export interface AccessClaims {
  sub: string;
  tid: string;
  role: Role;
  /** users.token_version at issue time; a bump kills the token. */
  tv: number;
  /** Refresh-token family (session) id. */
  sid: string;
}

interface KeyRing {
  signer: { kid: string; key: CryptoKey };
  verifiers: Map<string, CryptoKey>;
  publicJwks: PublicJwk[];
  /** Tokens this ring verified, by their exact text (see verifyAccessToken). */
  verified: Map<string, { claims: AccessClaims; nbfMs: number; expMs: number }>;
}

/** Verified tokens remembered per isolate: ~400 bytes each, so at most a few MB. */
const VERIFIED_CACHE_SIZE = 5000;

const rings = new WeakMap<object, Promise<KeyRing>>();

export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: string;
}

function publicPart(k: SigningJwk): PublicJwk {
  return { kty: k.kty, crv: k.crv, x: k.x, kid: k.kid, alg: ALG, use: "sig" };
}

async function buildRing(keys: SigningJwk[]): Promise<KeyRing> {
  const verifiers = new Map<string, CryptoKey>();
  for (const k of keys) {
    verifiers.set(k.kid, (await importJWK(publicPart(k) as JWK, ALG)) as CryptoKey);
  }
  const first = keys[0]!;
  const signKey = (await importJWK({ kty: first.kty, crv: first.crv, x: first.x, d: first.d }, ALG)) as CryptoKey;
  return { signer: { kid: first.kid, key: signKey }, verifiers, publicJwks: keys.map(publicPart), verified: new Map() };
}

function keyRing(config: ApiConfig): Promise<KeyRing> {
  let ring = rings.get(config);
  if (!ring) {
    ring = buildRing(config.JWT_SIGNING_KEYS);
    rings.set(config, ring);
  }
  return ring;
}

export async function publicJwks(config: ApiConfig): Promise<{ keys: PublicJwk[] }> {
  return { keys: (await keyRing(config)).publicJwks };
}

export async function signAccessToken(config: ApiConfig, claims: AccessClaims, now: number): Promise<string> {
  const { signer } = await keyRing(config);
  const iat = Math.floor(now / 1000);
  return new SignJWT({ tid: claims.tid, role: claims.role, tv: claims.tv, sid: claims.sid })
    .setProtectedHeader({ alg: ALG, kid: signer.kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(claims.sub)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.ACCESS_TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(signer.key);
}

/**
 * Returns the verified claims, or null for any invalid token (the caller answers 401).
 *
 * A token that verified once is remembered by its exact text for the rest of its life in
 * this isolate, so a buyer's next request skips the Ed25519 check (measured: one of the
 * larger CPU costs of a hold). Only what the signature proves is cached: the time window
 * (nbf, exp) is checked on every call, and the caller still checks the session, user and
 * tenant in D1 on every request, so revocation is unaffected. The cache belongs to the key
 * ring, which belongs to the loaded config: a rotated key list starts an empty one.
 */
export async function verifyAccessToken(config: ApiConfig, token: string, now: number): Promise<AccessClaims | null> {
  const { verifiers, verified } = await keyRing(config);
  const known = verified.get(token);
  if (known) return known.nbfMs <= now && now < known.expMs ? known.claims : null;
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid ? verifiers.get(header.kid) : undefined;
        if (!key) throw new Error("unknown kid");
        return key;
      },
      {
        algorithms: [ALG],
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        typ: ACCESS_TOKEN_TYPE,
        currentDate: new Date(now),
        requiredClaims: ["sub", "exp", "iat", "tid", "role", "tv", "sid"],
      },
    );
    const claims = parseClaims(payload);
    if (claims && typeof payload.exp === "number") {
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
      verified.set(token, { claims, nbfMs: typeof payload.nbf === "number" ? payload.nbf * 1000 : -Infinity, expMs: payload.exp * 1000 });
    }
    return claims;
  } catch {
    return null;
  }
}

function parseClaims(p: JWTPayload): AccessClaims | null {
  const { sub, tid, role, tv, sid } = p as Record<string, unknown>;
  if (typeof sub !== "string" || typeof tid !== "string" || typeof sid !== "string") return null;
  if (typeof tv !== "number" || !Number.isInteger(tv)) return null;
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) return null;
  return { sub, tid, role: role as Role, tv, sid };
}
