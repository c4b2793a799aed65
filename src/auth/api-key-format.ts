import { randomToken, sha256Hex } from "../lib/crypto";

/**
 * `bok_<12 hex prefix>_<43 char secret>`. The prefix is public and unique (shown in
 * listings, greppable in logs and secret scanners); the whole key is stored only as
 * a SHA-256 hash. Keys carry 256 bits of entropy, so a fast hash is sufficient here
 * (unlike passwords).
 */
const KEY_PATTERN = /^bok_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith("bok_");
}

export function parseApiKey(token: string): { prefix: string } | null {
  const m = KEY_PATTERN.exec(token);
  return m ? { prefix: m[1]! } : null;
}

export async function generateApiKey(): Promise<{ key: string; prefix: string; hash: string }> {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  const prefix = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const key = `bok_${prefix}_${randomToken(32)}`;
  return { key, prefix, hash: await sha256Hex(key) };
}
