import { sql } from "drizzle-orm";

/** CHECK fragment `column in ('a', 'b')` from a list of allowed values. */
export const inList = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(", ")})`);
