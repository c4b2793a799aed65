import { base64url, fromBase64url, timingSafeEqualBytes } from "../lib/crypto";

/**
 * PBKDF2-HMAC-SHA256 through Web Crypto. workerd refuses PBKDF2 above 100,000
 * iterations, so that is both our cost and the ceiling; see
 * docs/adr/0003-password-hashing.md for the measurement and the alternatives.
 * The stored string names algorithm and cost so hashes can be upgraded on login.
 */
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BITS = 256;
const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password.normalize("NFKC")), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = new Uint8Array(SALT_BYTES);
  crypto.getRandomValues(salt);
  const hash = await derive(password, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

export interface VerifyResult {
  ok: boolean;
  /** True when the stored hash uses weaker parameters than today's and should be replaced. */
  needsRehash: boolean;
}

export async function verifyPassword(password: string, stored: string): Promise<VerifyResult> {
  const [scheme, iter, saltB64, hashB64] = stored.split("$");
  const iterations = Number(iter);
  if (scheme !== "pbkdf2-sha256" || !Number.isInteger(iterations) || !saltB64 || !hashB64) {
    return { ok: false, needsRehash: false };
  }
  const expected = fromBase64url(hashB64);
  const actual = await derive(password, fromBase64url(saltB64), iterations);
  const ok = timingSafeEqualBytes(actual, expected);
  return { ok, needsRehash: ok && iterations < PBKDF2_ITERATIONS };
}

// Verifying against this when the account does not exist keeps the response time
// of "unknown email" and "wrong password" alike, so login cannot enumerate users.
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword("boxoffice-dummy-password");
  await verifyPassword(password, await dummyHash);
}

/** Policy: length 12..128; no other composition rules (NIST SP 800-63B). */
export function passwordPolicyProblem(password: string, email?: string): string | null {
  if (password.length < 12) return "Password must be at least 12 characters";
  if (password.length > 128) return "Password must be at most 128 characters";
  const local = email?.toLowerCase().split("@")[0] ?? "";
  if (local.length >= 4 && password.toLowerCase().includes(local)) {
    return "Password must not contain the email's local part";
  }
  if (/^(.)\1+$/.test(password)) return "Password must not be one repeated character";
  return null;
}
