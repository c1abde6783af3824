/**
 * The SQLite ledger: one file under var/. Every connection runs in WAL mode with
 * synchronous=FULL (a committed step survives a power cut), a busy timeout (two processes
 * may share the home) and foreign keys on. The schema is versioned with user_version and
 * migrated forward at open, inside a transaction, never dropping data.
 * MIGRATIONS is the one list for both backends: PostgreSQL runs each entry through
 * dialect.ddl (INTEGER → BIGINT, INTEGER PRIMARY KEY → identity); write portable DDL.
 */
import Database from 'better-sqlite3';

export type Db = Database.Database;

export const MIGRATIONS: readonly string[] = [
  // 1: flows, invoices, their lifecycle events, outputs, and the directory.
  `
  CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    partner TEXT,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL DEFAULT '',
    kind TEXT,
    stage TEXT NOT NULL CHECK (stage IN ('CLAIMING','CLAIMED','DECIDED','DONE')),
    state TEXT,
    status_code TEXT,
    duplicate_of TEXT REFERENCES flows(id),
    errors TEXT NOT NULL DEFAULT '[]',
    received_at TEXT NOT NULL,
    decided_at TEXT,
    done_at TEXT,
    spool_path TEXT NOT NULL,
    final_path TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  CREATE INDEX flows_sha256 ON flows(sha256);
  CREATE INDEX flows_stage ON flows(stage);
  CREATE INDEX flows_received ON flows(received_at);

  CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    flow_id TEXT NOT NULL REFERENCES flows(id),
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    number TEXT NOT NULL,
    supplier_type TEXT NOT NULL,
    supplier_id TEXT NOT NULL,
    supplier_name TEXT NOT NULL,
    supplier_country TEXT NOT NULL,
    recipient_siret TEXT NOT NULL,
    recipient_name TEXT,
    service_code TEXT,
    engagement TEXT,
    issue_date TEXT NOT NULL,
    type TEXT NOT NULL,
    amount_gross TEXT NOT NULL,
    currency TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    status TEXT,
    errors TEXT NOT NULL DEFAULT '[]',
    pivot_path TEXT,
    renvoi TEXT NOT NULL DEFAULT 'Non',
    origin_invoice_id INTEGER REFERENCES invoices(id),
    UNIQUE (flow_id, position)
  );
  CREATE INDEX invoices_supplier_number ON invoices(supplier_id, number);
  CREATE INDEX invoices_recipient ON invoices(recipient_siret);

  CREATE TABLE invoice_events (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL REFERENCES invoices(id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    producer TEXT NOT NULL,
    motif TEXT,
    mandate TEXT,
    source_flow TEXT NOT NULL REFERENCES flows(id)
  );
  CREATE INDEX invoice_events_invoice ON invoice_events(invoice_id);
  CREATE INDEX invoice_events_source ON invoice_events(source_flow);

  -- Statuses sent in by recipients (CPPStatut flows), one row per update, applied or refused.
  CREATE TABLE status_updates (
    flow_id TEXT NOT NULL REFERENCES flows(id),
    position INTEGER NOT NULL,
    number TEXT NOT NULL,
    supplier_id TEXT NOT NULL,
    recipient_siret TEXT NOT NULL,
    status TEXT NOT NULL,
    invoice_id INTEGER REFERENCES invoices(id),
    accepted INTEGER NOT NULL,
    errors TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (flow_id, position)
  );

  CREATE TABLE outputs (
    flow_id TEXT NOT NULL REFERENCES flows(id),
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (flow_id, path)
  );

  CREATE TABLE structures (
    siret TEXT PRIMARY KEY,
    id_type TEXT NOT NULL,
    name TEXT NOT NULL,
    active INTEGER NOT NULL,
    requires_engagement INTEGER NOT NULL,
    requires_service INTEGER NOT NULL,
    requires_service_engagement INTEGER NOT NULL,
    edi_receiver INTEGER NOT NULL
  );
  CREATE TABLE services (
    siret TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    active INTEGER NOT NULL,
    requires_engagement INTEGER NOT NULL,
    PRIMARY KEY (siret, code)
  );
  CREATE TABLE directory_imports (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    structures_file TEXT NOT NULL,
    services_file TEXT,
    structures INTEGER NOT NULL,
    services INTEGER NOT NULL
  );
  `,
  // 2: an invoice row is either an invoice or the completion of an earlier one (status 06 → 12):
  // a completion carries the new documents of the same invoice and has no lifecycle of its own.
  `
  ALTER TABLE invoices ADD COLUMN role TEXT NOT NULL DEFAULT 'invoice' CHECK (role IN ('invoice', 'completion'));
  CREATE INDEX invoices_origin ON invoices(origin_invoice_id);
  `,
  // 3: replays. A flow's attempt 0 is its first processing; each replay is the next attempt, and
  // every event and output belongs to the attempt that produced it.
  `
  ALTER TABLE flows ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE invoice_events ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE replays (
    flow_id TEXT NOT NULL REFERENCES flows(id),
    attempt INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    still_rejected INTEGER NOT NULL,
    PRIMARY KEY (flow_id, attempt)
  );
  `,
  // 4: EDI partners (inbox/<code>/): which suppliers each may deposit for, which recipients it
  // may send statuses for.
  `
  CREATE TABLE partners (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    suppliers TEXT NOT NULL DEFAULT '[]',
    recipients TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
  );
  `,
  // 5: the process working on a flow, so that another process (the daemon resuming flows, a
  // concurrent factflow process) never takes over a flow whose owner is still alive.
  `
  ALTER TABLE flows ADD COLUMN owner_pid INTEGER;
  `,
  // 6: the channel a flow came through (an operator's request is not a partner's flow); the
  // words and time a status's producer gave, kept as they came; invoices found by number alone.
  `
  ALTER TABLE flows ADD COLUMN channel TEXT NOT NULL DEFAULT 'edi' CHECK (channel IN ('edi', 'operator'));
  UPDATE flows SET channel = 'operator' WHERE kind = 'cli';
  ALTER TABLE invoice_events ADD COLUMN comment TEXT;
  ALTER TABLE invoice_events ADD COLUMN produced_at TEXT;
  CREATE INDEX invoices_number ON invoices(number);
  CREATE INDEX flows_duplicate_of ON flows(duplicate_of);
  `,
  // 7: a partner's own pivot grouping (NULL: the pivotGrouping setting).
  `
  ALTER TABLE partners ADD COLUMN pivot_grouping TEXT CHECK (pivot_grouping IN ('recipient', 'invoice'));
  `,
  // 8: warnings kept with an invoice's decision (a Factur-X PDF's structural findings): they refuse nothing.
  `
  ALTER TABLE invoices ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
  `,
  // 9: nodes sharing one ledger (PostgreSQL): the node of a flow's owner, and each node's
  // heartbeat, after which lease its unfinished flows are the others' to finish.
  `
  ALTER TABLE flows ADD COLUMN owner_node TEXT;
  CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    lease_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    doing TEXT NOT NULL DEFAULT ''
  );
  `,
  // 10: notifications. Events (flow done or refused, invoice status changes) are written to an
  // outbox in the transaction that causes them; a dispatcher fans each out to the webhooks and
  // partner e-mail addresses it concerns (one delivery per pair, retried from here) and logs
  // every attempt. Counters of what the hub did, bumped in the same transactions, let a
  // metrics scrape read a few rows instead of counting the flows.
  `
  CREATE TABLE notify_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    seq BIGINT NOT NULL,
    flow_id TEXT,
    invoice_id INTEGER,
    partner TEXT,
    suppliers TEXT NOT NULL DEFAULT '[]',
    recipients TEXT NOT NULL DEFAULT '[]',
    payload TEXT NOT NULL,
    fanned INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX notify_events_fanned ON notify_events(fanned, seq);
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    owner TEXT,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE notify_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES notify_events(id),
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    target TEXT NOT NULL,
    address TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
  );
  CREATE INDEX notify_deliveries_due ON notify_deliveries(state, next_at);
  CREATE INDEX notify_deliveries_target ON notify_deliveries(target, created_at);
  CREATE INDEX notify_deliveries_created ON notify_deliveries(created_at);
  CREATE TABLE notify_attempts (
    delivery_id TEXT NOT NULL REFERENCES notify_deliveries(id),
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    next_at BIGINT,
    PRIMARY KEY (delivery_id, attempt)
  );
  CREATE TABLE metric_counts (
    metric TEXT NOT NULL,
    label TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (metric, label)
  );
  ALTER TABLE partners ADD COLUMN email TEXT;
  `,
  // 11: a partner's own status format for its suppliers (NULL: the statusFormat setting).
  `
  ALTER TABLE partners ADD COLUMN status_format TEXT CHECK (status_format IN ('cpp', 'cdar', 'both'));
  `,
  // 12: validation circuits. An invoice held for its validators (src/lifecycle/circuits.ts): who
  // acts at each level, the level awaited, and when its deadline passes (NULL once decided; the
  // deadline check reads this column through its index, never the history). The directory's
  // EstMOA (NULL: the export did not say) and EstMOAUniquement; the validators a partner may act for.
  `
  CREATE TABLE circuit_holds (
    invoice_id INTEGER PRIMARY KEY REFERENCES invoices(id),
    cadre TEXT NOT NULL,
    validator_1 TEXT NOT NULL,
    validator_2 TEXT,
    level INTEGER NOT NULL,
    due_at TEXT
  );
  CREATE INDEX circuit_holds_due ON circuit_holds(due_at);
  ALTER TABLE structures ADD COLUMN is_moa INTEGER;
  ALTER TABLE structures ADD COLUMN moa_only INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE partners ADD COLUMN validators TEXT NOT NULL DEFAULT '[]';
  `,
  // 13: the HTTP API: bearer tokens (only their SHA-256 is kept) of partners and operators, and
  // deposits by key (a client's trackingId, or the content's hash), so that a retried deposit is one flow.
  `
  CREATE TABLE api_tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('partner', 'operator')),
    subject TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE INDEX api_tokens_subject ON api_tokens(kind, subject);
  CREATE TABLE api_deposits (
    partner TEXT NOT NULL,
    deposit_key TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    tracking_id TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (partner, deposit_key)
  );
  CREATE INDEX api_deposits_flow ON api_deposits(flow_id);
  `,
  // 14: searches on indexes whatever the filter, each giving the rows newest first (id, or
  // received_at for flows) so that a LIMIT stops early instead of sorting every match. The
  // refused invoices have a partial index: one on accepted alone would tempt the planner away
  // from better indexes in every query that says accepted = 1.
  `
  CREATE INDEX invoices_supplier ON invoices(supplier_id, id);
  CREATE INDEX invoices_status ON invoices(status, id);
  CREATE INDEX invoices_refused ON invoices(id) WHERE accepted = 0;
  CREATE INDEX invoices_issue_date ON invoices(issue_date, id);
  CREATE INDEX flows_state ON flows(state, received_at);
  CREATE INDEX flows_stage_received ON flows(stage, received_at);
  `,
  // 15: two equality filters together, newest first. With the one-column indexes of 14 alone
  // SQLite walked one of them and filtered on the other: a supplier's invoices of one status took
  // 84 ms at a million invoices (the status index walked), and a pair that matches nothing (a
  // supplier that never invoiced a large recipient) reads all of that recipient's invoices.
  `
  CREATE INDEX invoices_supplier_status ON invoices(supplier_id, status, id);
  CREATE INDEX invoices_supplier_recipient ON invoices(supplier_id, recipient_siret, id);
  CREATE INDEX invoices_recipient_status ON invoices(recipient_siret, status, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function openDb(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`The ledger is at schema version ${current}, newer than this factflow (${SCHEMA_VERSION}); upgrade factflow.`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if ((db.pragma('user_version', { simple: true }) as number) !== v) return;
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
