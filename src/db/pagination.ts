import { and, eq, gt, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import { AppError } from "../http/errors";
import { base64url, fromBase64url } from "../lib/crypto";

/** Opaque keyset cursor over (created_at, id); stable under concurrent inserts. */
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
  createdAt: SQLiteColumn,
  id: SQLiteColumn,
  direction: "asc" | "desc",
): SQL | undefined {
  if (!cursor) return undefined;
  const cmp = direction === "asc" ? gt : lt;
  return or(cmp(createdAt, cursor.t), and(eq(createdAt, cursor.t), cmp(id, cursor.i)));
}

/** Fetch limit+1 rows, return a page and the cursor of its last row when more exist. */
export function toPage<T extends { createdAt: number; id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last ? encodeCursor({ t: last.createdAt, i: last.id }) : null;
  return { items, nextCursor };
}
