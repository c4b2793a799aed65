/**
 * A small tagged-template layer over the Durable Object's synchronous SQLite: values are
 * always bound as parameters, never spliced into the text.
 *
 *   db.all<TierRow>`SELECT * FROM tiers WHERE tier_id = ${tierId}`
 */
type Row = Record<string, SqlStorageValue>;

export class Db {
  constructor(private readonly sql: SqlStorage) {}

  private exec<T extends Row>(strings: TemplateStringsArray, values: SqlStorageValue[]) {
    return this.sql.exec<T>(strings.join("?"), ...values);
  }

  all<T extends Row>(strings: TemplateStringsArray, ...values: SqlStorageValue[]): T[] {
    return this.exec<T>(strings, values).toArray();
  }

  /** The first row, or null. */
  first<T extends Row>(strings: TemplateStringsArray, ...values: SqlStorageValue[]): T | null {
    return this.exec<T>(strings, values).toArray()[0] ?? null;
  }

  /** Runs a write; returns how many rows it wrote. */
  run(strings: TemplateStringsArray, ...values: SqlStorageValue[]): number {
    return this.exec(strings, values).rowsWritten;
  }

  /** Plain statements without parameters (schema changes). */
  script(statements: string): void {
    this.sql.exec(statements);
  }
}
