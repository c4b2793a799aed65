/**
 * UUIDv7 (RFC 9562): 48-bit millisecond timestamp, then random bits. Time-ordered
 * ids keep (created_at, id) cursors stable and D1 index inserts append-mostly.
 */
// Monotonic within an isolate: ids minted in the same millisecond count up in the
// 12-bit rand_a field (RFC 9562 method 1), so same-millisecond audit entries keep order.
let lastMs = -1;
let seq = 0;

export function uuidv7(now: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  if (now <= lastMs && seq < 0xfff) {
    now = lastMs;
    seq += 1;
  } else {
    lastMs = Math.max(now, lastMs);
    now = lastMs;
    seq = bytes[7]! & 0x07; // random start, leaving room to count up
  }
  bytes[6] = 0x70 | ((seq >> 8) & 0x0f);
  bytes[7] = seq & 0xff;
  let ts = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ts % 256;
    ts = Math.floor(ts / 256);
  }
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
