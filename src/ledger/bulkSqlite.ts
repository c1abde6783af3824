/**
 * Devtools only: a large SQLite ledger made in bulk, for the search bench. The file is opened
 * through openDb (every migration runs, so the tables are the real ones); the secondary indexes
 * of flows, invoices and invoice_events are dropped, the rows are made by INSERT … SELECT over a
 * recursive counter, in transactions of 50,000 flows, and the indexes are then created again from
 * the very text the migrations left in sqlite_master (checked at the end: same names, same SQL).
 * Every value is a pure function of the row's number, so a size gives the same ledger each time.
 *
 * The rows look like the stores' own: one supplier per flow (1,000 suppliers, a few of them
 * large), recipients per invoice (the fixture's three take 40 %, 2,000 others the rest), dates
 * over 700 days, one decision per flow; 1 % of flows refused whole (IN_REJETE) and 1 % of the
 * other invoices refused one by one; each accepted invoice has its events 01 and 03 and, for
 * half of them, a later status (10, 11 or 04), its current status the last one.
 */
import { openDb } from './db.js';

export interface BulkSpec {
  invoices: number;
  perFlow: number;
  /** Fixture recipients that take 40 % of the invoices; 2,000 generated ones take the rest. */
  bigRecipients: readonly { siret: string; name: string }[];
  /** The errors column of a refused invoice (JSON, as the stores write it). */
  refusedErrors: string;
}

const BULK_SUPPLIERS = 1000;
const BULK_SMALL_RECIPIENTS = 2000;
const SUPPLIER_BASE = 81_000_000_000_000;
const DAYS = 700;
const FIRST_DAY = '2025-01-01';
const CHUNK_FLOWS = 50_000;

/** A supplier of the bulk ledger (number k, 0 to BULK_SUPPLIERS - 1). */
export const bulkSupplier = (k: number) => String(SUPPLIER_BASE + k);
/** The day (YYYY-MM-DD) the flows reach at fraction `share` of the ledger (0 to 1): their dates spread evenly over DAYS. */
export const bulkDay = (share: number) => new Date(Date.parse(FIRST_DAY) + Math.floor(share * DAYS) * 86_400_000).toISOString().slice(0, 10);
/** A generated recipient (number k, 0 to BULK_SMALL_RECIPIENTS - 1). */
export const bulkRecipient = (k: number) => `2${String(k).padStart(13, '0')}`;
export const bulkInvoiceNumber = (n: number) => `FA-${n + 1}`;

/** A pseudo-random integer in [0, 2^21) from an integer expression and a salt (two LCG rounds; no overflow). */
// (Parameters are bound as REAL by better-sqlite3: the counter casts its bounds.)
const mix = (expr: string, salt: number) => `((((((${expr}) * 1103515245 + ${salt}) % 2147483648) * 1103515245 + 12345) % 2147483648) / 1024)`;

/** Flow f: its supplier, whether refused whole, its time (ISO, as toISOString writes it). */
const supplierOf = (f: string) => `(${mix(f, 11)} % ${BULK_SUPPLIERS}) * (${mix(f, 11)} % ${BULK_SUPPLIERS}) / ${BULK_SUPPLIERS}`;
const flowRefused = (f: string) => `(${mix(f, 23)} % 100 = 0)`;
const invoiceRefused = (n: string, f: string) => `(${flowRefused(f)} OR ${mix(n, 37)} % 100 = 0)`;
const at = (f: string, flows: number, plusSeconds: number | string = 0) =>
  `strftime('%Y-%m-%dT%H:%M:%fZ', julianday('${FIRST_DAY}') + (${f}) * ${DAYS}.0 / ${flows} + (${plusSeconds}) / 86400.0)`;

export interface BulkResult {
  flows: number;
  invoices: number;
  events: number;
  seconds: { rows: number; indexes: number };
}

export function generateBulkLedger(file: string, spec: BulkSpec, progress?: (invoicesDone: number) => void): BulkResult {
  const db = openDb(file);
  try {
    if ((db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n > 0) throw new Error(`${file}: the bulk generator fills an empty ledger only`);
    const indexes = () => db.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('flows', 'invoices', 'invoice_events') ORDER BY name").all() as { name: string; tbl_name: string; sql: string }[];
    const before = indexes();
    const order = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid").all() as { name: string }[];
    // The load itself needs no durability: a failed generation is thrown away whole.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -400000');
    db.pragma('foreign_keys = OFF');
    for (const i of before) db.exec(`DROP INDEX ${i.name}`);

    const flows = Math.ceil(spec.invoices / spec.perFlow);
    const big = spec.bigRecipients;
    const recipientSql = (n: string) => `CASE WHEN ${mix(n, 41)} % 100 < 40 THEN CASE ${mix(n, 41)} % ${big.length} ${big.map((r, k) => `WHEN ${k} THEN '${r.siret}'`).join(' ')} END
        ELSE '2' || printf('%013d', ${mix(n, 43)} % ${BULK_SMALL_RECIPIENTS}) END`;
    const recipientNameSql = (n: string) => `CASE WHEN ${mix(n, 41)} % 100 < 40 THEN CASE ${mix(n, 41)} % ${big.length} ${big.map((r, k) => `WHEN ${k} THEN '${r.name.replace(/'/g, "''")}'`).join(' ')} END
        ELSE 'ENTITE PUBLIQUE ' || (${mix(n, 43)} % ${BULK_SMALL_RECIPIENTS}) END`;
    // The final status of an accepted invoice: 03 for half, then 10, 11 or 04.
    const statusSql = (n: string) => `CASE WHEN ${mix(n, 53)} % 100 < 50 THEN '03' WHEN ${mix(n, 53)} % 100 < 75 THEN '10' WHEN ${mix(n, 53)} % 100 < 95 THEN '11' ELSE '04' END`;
    const counter = (name: string) => `WITH RECURSIVE ${name}(v) AS (SELECT CAST(@lo AS INTEGER) UNION ALL SELECT v + 1 FROM ${name} WHERE v + 1 < @hi)`;

    const insertFlows = db.prepare(`${counter('k')}, p(q) AS (SELECT 0 UNION ALL SELECT q + 1 FROM p WHERE q + 1 < ${spec.perFlow}),
      c AS (SELECT v AS f, (SELECT count(*) FROM p WHERE v * ${spec.perFlow} + q < ${spec.invoices}) AS total,
              (SELECT count(*) FROM p WHERE v * ${spec.perFlow} + q < ${spec.invoices} AND ${invoiceRefused(`v * ${spec.perFlow} + q`, 'v')}) AS refused FROM k)
      INSERT INTO flows (id, file_name, partner, size, sha256, kind, stage, state, status_code, duplicate_of, errors, received_at, decided_at, done_at,
                         spool_path, final_path, attempts, last_error, replays, owner_pid, channel, owner_node)
      SELECT 'FLX-' || printf('%09d', f), 'FLX-' || printf('%09d', f) || '.xml', NULL, 20000 + ${mix('f', 61)} % 200000,
             printf('%08x%08x%08x%08x%08x%08x%08x%08x', ${mix('f', 1)} * 2048 + ${mix('f', 2)} % 2048, ${mix('f', 3)} * 2048 + ${mix('f', 4)} % 2048, ${mix('f', 5)} * 2048 + ${mix('f', 6)} % 2048, ${mix('f', 7)} * 2048 + ${mix('f', 8)} % 2048, ${mix('f', 9)} * 2048 + ${mix('f', 10)} % 2048, ${mix('f', 11)} * 2048 + ${mix('f', 12)} % 2048, ${mix('f', 13)} * 2048 + ${mix('f', 14)} % 2048, ${mix('f', 15)} * 2048 + ${mix('f', 16)} % 2048),
             'mixed', 'DONE', CASE WHEN refused = 0 THEN 'IN_INTEGRE' WHEN refused = total THEN 'IN_REJETE' ELSE 'IN_INTEGRE_PARTIEL' END,
             CASE WHEN refused = total THEN '91' ELSE '90' END, NULL, '[]', ${at('f', flows)}, ${at('f', flows, 2)}, ${at('f', flows, 3)},
             '/spool/FLX-' || printf('%09d', f), '/archive/FLX-' || printf('%09d', f), 0, NULL, 0, 0, 'edi', 'bench'
      FROM c`);
    const insertInvoices = db.prepare(`${counter('k')}, c AS (SELECT v AS n, v / ${spec.perFlow} AS f FROM k)
      INSERT INTO invoices (id, flow_id, position, label, number, supplier_type, supplier_id, supplier_name, supplier_country, recipient_siret, recipient_name,
                            service_code, engagement, issue_date, type, amount_gross, currency, accepted, status, errors, pivot_path, renvoi, origin_invoice_id, role, warnings)
      SELECT n + 1, 'FLX-' || printf('%09d', f), n % ${spec.perFlow} + 1, 'NumOrdre ' || (n % ${spec.perFlow} + 1), 'FA-' || (n + 1), '1',
             CAST(${SUPPLIER_BASE} + ${supplierOf('f')} AS TEXT), 'FOURNISSEUR ' || (${supplierOf('f')}), 'FR', ${recipientSql('n')}, ${recipientNameSql('n')},
             NULL, NULL, date(julianday('${FIRST_DAY}') + f * ${DAYS}.0 / ${flows} - ${mix('n', 71)} % 30),
             CASE WHEN ${mix('n', 73)} % 100 < 5 THEN '381' ELSE '380' END, printf('%d.%02d', 10 + ${mix('n', 79)} % 50000, ${mix('n', 83)} % 100), 'EUR',
             CASE WHEN ${invoiceRefused('n', 'f')} THEN 0 ELSE 1 END, CASE WHEN ${invoiceRefused('n', 'f')} THEN NULL ELSE ${statusSql('n')} END,
             CASE WHEN ${invoiceRefused('n', 'f')} THEN @errors ELSE '[]' END,
             CASE WHEN ${invoiceRefused('n', 'f')} THEN NULL ELSE '/pivots/FLX-' || printf('%09d', f) || '-' || (n % ${spec.perFlow} + 1) || '.xml' END,
             'Non', NULL, 'invoice', '[]'
      FROM c`);
    // Events 01 and 03 when the flow is decided, the later one (if any) days after.
    const insertEvents = db.prepare(`${counter('k')}, c AS (SELECT v AS n, v / ${spec.perFlow} AS f FROM k),
      e(n, f, seq, status, producer, days) AS (
        SELECT n, f, 1, '01', 'platform', 0 FROM c WHERE NOT ${invoiceRefused('n', 'f')}
        UNION ALL SELECT n, f, 2, '03', 'platform', 0 FROM c WHERE NOT ${invoiceRefused('n', 'f')}
        UNION ALL SELECT n, f, 3, ${statusSql('n')}, CASE WHEN ${statusSql('n')} = '04' THEN 'recipient' ELSE 'accountant' END, 1 + ${mix('n', 89)} % 40
          FROM c WHERE NOT ${invoiceRefused('n', 'f')} AND ${statusSql('n')} <> '03')
      INSERT INTO invoice_events (invoice_id, status, at, producer, motif, mandate, source_flow, attempt, comment, produced_at)
      SELECT n + 1, status, ${at('f', flows, 'days * 86400 + 2')}, producer, CASE WHEN status = '04' THEN 'COORD_BANC_ERRONE' END, NULL, 'FLX-' || printf('%09d', f), 0, NULL, NULL
      FROM e ORDER BY n, seq`);

    const started = process.hrtime.bigint();
    let events = 0;
    for (let lo = 0; lo < flows; lo += CHUNK_FLOWS) {
      const hi = Math.min(flows, lo + CHUNK_FLOWS);
      const nlo = lo * spec.perFlow;
      const nhi = Math.min(spec.invoices, hi * spec.perFlow);
      db.transaction(() => {
        insertFlows.run({ lo, hi });
        insertInvoices.run({ lo: nlo, hi: nhi, errors: spec.refusedErrors });
        events += insertEvents.run({ lo: nlo, hi: nhi }).changes;
      })();
      progress?.(nhi);
    }
    const rowsDone = process.hrtime.bigint();
    // Created again in the migrations' own order, from their own text.
    const byName = new Map(before.map((i) => [i.name, i.sql]));
    for (const { name } of order) if (byName.has(name)) db.exec(byName.get(name)!);
    const after = indexes();
    if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error('the bulk ledger does not have the indexes the migrations made');
    db.pragma('journal_mode = WAL');
    const done = process.hrtime.bigint();
    return { flows, invoices: spec.invoices, events, seconds: { rows: Number(rowsDone - started) / 1e9, indexes: Number(done - rowsDone) / 1e9 } };
  } finally {
    db.close();
  }
}
