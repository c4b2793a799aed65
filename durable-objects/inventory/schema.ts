import type { Db } from "./sql";

/**
 * The DO's SQLite schema, versioned inside the object: `meta.schema_version` records how
 * many entries of MIGRATIONS have been applied. Append a migration, never edit a shipped
 * one: objects already running that version will not see the change.
 *
 * The CHECK constraints are a backstop, not the validation: the hold path checks every
 * rule first and returns a precise refusal; a CHECK that fires means a bug, and it aborts
 * the whole transaction instead of letting counters drift.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE gate (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    status          TEXT    NOT NULL,
    event_version   INTEGER NOT NULL,
    sales_start_at  INTEGER,
    sales_end_at    INTEGER,
    starts_at       INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  );

  CREATE TABLE tiers (
    tier_id         TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    capacity        INTEGER NOT NULL CHECK (capacity > 0),
    min_per_order   INTEGER NOT NULL CHECK (min_per_order >= 1),
    max_per_order   INTEGER NOT NULL CHECK (max_per_order >= min_per_order),
    max_per_buyer   INTEGER NOT NULL CHECK (max_per_buyer >= 1),
    sales_start_at  INTEGER,
    sales_end_at    INTEGER,
    price_rules     TEXT    NOT NULL,
    held            INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
    sold            INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    updated_at      INTEGER NOT NULL,
    CHECK (held + sold <= capacity)
  );

  CREATE TABLE holds (
    hold_id         TEXT    PRIMARY KEY,
    buyer_id        TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('active', 'released', 'expired', 'converted')),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    items           TEXT    NOT NULL,
    total_minor     INTEGER NOT NULL CHECK (total_minor >= 0),
    currency        TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
  );
  CREATE INDEX holds_buyer ON holds (buyer_id);
  CREATE INDEX holds_active_expiry ON holds (expires_at) WHERE status = 'active';

  CREATE TABLE buyer_counts (
    buyer_id        TEXT    NOT NULL,
    tier_id         TEXT    NOT NULL,
    held            INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
    sold            INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    PRIMARY KEY (buyer_id, tier_id)
  ) WITHOUT ROWID;

  CREATE TABLE idempotency (
    scoped_key      TEXT    PRIMARY KEY,
    request_hash    TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('in_flight', 'done')),
    status          INTEGER,
    result          TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    CHECK (state = 'in_flight' OR (status IS NOT NULL AND result IS NOT NULL))
  ) WITHOUT ROWID;
  CREATE INDEX idempotency_expiry ON idempotency (expires_at);

  CREATE TABLE schedule (
    id              TEXT    PRIMARY KEY,
    kind            TEXT    NOT NULL,
    due_at          INTEGER NOT NULL,
    ref             TEXT
  ) WITHOUT ROWID;
  CREATE INDEX schedule_due ON schedule (due_at);
  `,
  // 2: tier configurations carry the D1 tier version, so a late push of an older
  // configuration cannot overwrite a newer one.
  `
  ALTER TABLE tiers ADD COLUMN config_version INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: orders, tickets, processed payment events, the outbox of effects, and a lease on
  // in-flight idempotency records (checkout awaits the payment provider).
  `
  ALTER TABLE idempotency ADD COLUMN lease_until INTEGER;

  CREATE TABLE orders (
    order_id          TEXT    PRIMARY KEY,
    hold_id           TEXT    NOT NULL UNIQUE,
    buyer_id          TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'paid', 'expired', 'cancelled', 'refunded', 'partially_refunded')),
    items             TEXT    NOT NULL,
    total_minor       INTEGER NOT NULL CHECK (total_minor >= 0),
    currency          TEXT    NOT NULL,
    payment_provider  TEXT    NOT NULL CHECK (payment_provider IN ('none', 'stripe', 'local')),
    payment_intent_id TEXT,
    client_secret     TEXT,
    refund_due        INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    paid_at           INTEGER,
    updated_at        INTEGER NOT NULL,
    rev               INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX orders_buyer ON orders (buyer_id);
  CREATE INDEX orders_pending_expiry ON orders (expires_at) WHERE status = 'pending';
  CREATE UNIQUE INDEX orders_intent ON orders (payment_intent_id) WHERE payment_intent_id IS NOT NULL;

  CREATE TABLE tickets (
    ticket_id     TEXT    PRIMARY KEY,
    order_id      TEXT    NOT NULL REFERENCES orders (order_id),
    tier_id       TEXT    NOT NULL,
    number        INTEGER NOT NULL UNIQUE CHECK (number >= 1),
    holder_id     TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('valid', 'checked_in', 'refunded', 'cancelled', 'transferred')),
    code          TEXT,
    code_version  INTEGER NOT NULL DEFAULT 1 CHECK (code_version >= 1),
    price_minor   INTEGER NOT NULL CHECK (price_minor >= 0),
    issued_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );
  CREATE INDEX tickets_order ON tickets (order_id);
  CREATE INDEX tickets_unsigned ON tickets (order_id) WHERE code IS NULL;

  CREATE TABLE payment_events (
    provider_event_id TEXT    PRIMARY KEY,
    order_id          TEXT,
    kind              TEXT    NOT NULL,
    outcome           TEXT    NOT NULL,
    received_at       INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE outbox (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('order_record', 'mint_requests', 'notification', 'provider_refund', 'refund_record', 'audit')),
    ref         TEXT    NOT NULL,
    payload     TEXT,
    created_at  INTEGER NOT NULL,
    gen         INTEGER NOT NULL DEFAULT 1,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    last_error  TEXT
  ) WITHOUT ROWID;
  CREATE INDEX outbox_next ON outbox (next_at);
  `,
  // 4: after the sale (issue 5): check-in, transfers, refunds, risk flags, the waitlist and
  // the cancellation saga's progress.
  `
  ALTER TABLE orders ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE orders ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tickets ADD COLUMN checked_in_at INTEGER;
  ALTER TABLE tickets ADD COLUMN checked_in_gate TEXT;
  ALTER TABLE tickets ADD COLUMN checked_in_by TEXT;
  ALTER TABLE tiers ADD COLUMN checked_in INTEGER NOT NULL DEFAULT 0;

  CREATE TABLE transfers (
    transfer_id   TEXT    PRIMARY KEY,
    ticket_id     TEXT    NOT NULL REFERENCES tickets (ticket_id),
    from_holder   TEXT    NOT NULL,
    to_holder     TEXT    NOT NULL,
    from_cv       INTEGER NOT NULL,
    at            INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX transfers_ticket ON transfers (ticket_id);

  CREATE TABLE refunds (
    refund_id          TEXT    PRIMARY KEY,
    order_id           TEXT    NOT NULL REFERENCES orders (order_id),
    amount_minor       INTEGER NOT NULL CHECK (amount_minor >= 0),
    ticket_ids         TEXT    NOT NULL,
    reason             TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('requested', 'succeeded', 'failed', 'not_needed')),
    provider_refund_id TEXT,
    requested_by       TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX refunds_order ON refunds (order_id);

  CREATE TABLE waitlist (
    entry_id         TEXT    PRIMARY KEY,
    tier_id          TEXT    NOT NULL,
    buyer_id         TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity >= 1),
    status           TEXT    NOT NULL CHECK (status IN ('waiting', 'offered', 'promoted', 'expired', 'left')),
    hold_id          TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX waitlist_line ON waitlist (tier_id, status, created_at);
  CREATE INDEX waitlist_buyer ON waitlist (buyer_id);
  CREATE UNIQUE INDEX waitlist_hold ON waitlist (hold_id) WHERE hold_id IS NOT NULL;

  CREATE TABLE saga (
    name        TEXT    PRIMARY KEY,
    state       TEXT    NOT NULL CHECK (state IN ('running', 'done')),
    reason      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    processed   INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  `,
  // 5: the event's visibility in the gate, so buyers' sale calls need no D1 lookup (ADR 0006).
  `
  ALTER TABLE gate ADD COLUMN visibility TEXT;
  `,
  // 6: a new outbox kind, provider_cancel (the payment intent of an order that expired or was
  // cancelled unpaid). SQLite cannot change a CHECK, so the table is rebuilt, rows kept.
  `
  CREATE TABLE outbox_v6 (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('order_record', 'mint_requests', 'notification', 'provider_refund', 'refund_record', 'audit', 'provider_cancel')),
    ref         TEXT    NOT NULL,
    payload     TEXT,
    created_at  INTEGER NOT NULL,
    gen         INTEGER NOT NULL DEFAULT 1,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    last_error  TEXT
  ) WITHOUT ROWID;
  INSERT INTO outbox_v6 (id, kind, ref, payload, created_at, gen, attempts, next_at, last_error)
    SELECT id, kind, ref, payload, created_at, gen, attempts, next_at, last_error FROM outbox;
  DROP TABLE outbox;
  ALTER TABLE outbox_v6 RENAME TO outbox;
  CREATE INDEX outbox_next ON outbox (next_at);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema up to SCHEMA_VERSION. Call inside a transaction. */
export function migrate(db: Db): void {
  db.script("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID");
  const row = db.first<{ value: number }>`SELECT value FROM meta WHERE key = 'schema_version'`;
  const current = row?.value ?? 0;
  if (current > SCHEMA_VERSION) {
    // A rollback to older code: its queries may not match the newer schema.
    throw new Error(`EventInventory schema version ${current} is newer than this code (${SCHEMA_VERSION})`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) db.script(MIGRATIONS[v]!);
  db.run`INSERT INTO meta (key, value) VALUES ('schema_version', ${SCHEMA_VERSION})
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
}

/**
 * The tenant and event this object serves, from its name (`${tenantId}:${eventId}`; ids
 * contain no colon). Remembered in `meta`, so an instance started without its name (an
 * alarm wake-up, on runtimes that do not pass it then) still knows them.
 */
export function resolveIdentity(db: Db, name: string | undefined): { tenantId: string; eventId: string } {
  if (name) {
    const cut = name.lastIndexOf(":");
    const tenantId = name.slice(0, cut);
    const eventId = name.slice(cut + 1);
    db.run`INSERT INTO meta (key, value) VALUES ('event_id', ${eventId}) ON CONFLICT (key) DO NOTHING`;
    db.run`INSERT INTO meta (key, value) VALUES ('tenant_id', ${tenantId}) ON CONFLICT (key) DO NOTHING`;
    return { tenantId, eventId };
  }
  const event = db.first<{ value: string }>`SELECT value FROM meta WHERE key = 'event_id'`;
  const tenant = db.first<{ value: string }>`SELECT value FROM meta WHERE key = 'tenant_id'`;
  if (!event || !tenant) throw new Error("EventInventory needs a name (`${tenantId}:${eventId}`): reach it with idFromName");
  return { tenantId: tenant.value, eventId: event.value };
}
