import { and, eq, gt, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import { AppError } from "../http/errors";
import { base64url, fromBase64url } from "../lib/crypto";

/** Opaque keyset cursor over (sort key, id), usually (created_at, id); stable under concurrent inserts. */
const CursorSchema = z.strictObject({ t: z.number().int().nonnegative(), i: z.string().min(1).max(64) });
export type Cursor = z.infer<typeof CursorSchema>;

export function encodeCursor(c: Cursor): string {
  return base64url(new TextEncoder().encode(JSON.stringify(c)));
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  try {
    return CursorSchema.parse(JSON.parse(new TextDecoder().decode(fromBase64url(raw))));
  } catch {
    throw new AppError("VALIDATION_FAILED", "cursor is not a cursor this API issued", {
      errors: [{ field: "query.cursor", message: "Invalid cursor" }],
    });
  }
}

/** WHERE fragment for rows strictly after the cursor in the given direction. */
export function afterCursor(
  cursor: Cursor | undefined,
  sortKey: SQLiteColumn,
  id: SQLiteColumn,
  direction: "asc" | "desc",
): SQL | undefined {
  if (!cursor) return undefined;
  const cmp = direction === "asc" ? gt : lt;
  return or(cmp(sortKey, cursor.t), and(eq(sortKey, cursor.t), cmp(id, cursor.i)));
}

/**
 * Fetch limit+1 rows, return a page and the cursor of its last row when more exist.
 * `sortKey` names the numeric column the query orders by (default createdAt).
 */
export function toPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  sortKey: (row: T) => number = (row) => (row as T & { createdAt: number }).createdAt,
) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last ? encodeCursor({ t: sortKey(last), i: last.id }) : null;
  return { items, nextCursor };
}
