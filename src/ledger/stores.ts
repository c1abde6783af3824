/**
 * The ledger as the rest of the hub sees it: stores of flows, invoices, lifecycle events,
 * status updates, the directory and partners, behind asynchronous interfaces. The engine never
 * sees them (it judges data gathered beforehand); the application layer reads them and applies
 * plans inside `transaction`. One implementation (./sqlStores) runs on either backend: the
 * SQLite file of one home (./sqlite) or a PostgreSQL database shared by several nodes (./postgres).
 */
import type { FlowError } from '../errors/catalog.js';
import type { Partner } from '../route/partners.js';
import type { ImportedStructure, Service } from '../route/directory.js';

export type Stage = 'CLAIMING' | 'CLAIMED' | 'DECIDED' | 'DONE';

/** Errors and warnings are kept in the rows as JSON lists of coded errors. */
export const parseErrors = (json: string): FlowError[] => JSON.parse(json) as FlowError[];
/** How a flow came in: a partner's file (inbox, `factflow process`), or an operator's request. */
export type Channel = 'edi' | 'operator';

export interface FlowRow {
  id: string;
  file_name: string;
  partner: string | null;
  channel: Channel;
  size: number;
  sha256: string;
  kind: string | null;
  stage: Stage;
  state: string | null;
  status_code: string | null;
  duplicate_of: string | null;
  errors: string;
  received_at: string;
  decided_at: string | null;
  done_at: string | null;
  spool_path: string;
  final_path: string | null;
  attempts: number;
  last_error: string | null;
  replays: number;
  owner_pid: number | null;
  /** The node of that process (see NodeStore); NULL for flows of a ledger older than nodes. */
  owner_node: string | null;
}

/** Who works on a flow: a process of a node. */
export interface Owner {
  node: string;
  pid: number;
}

export interface InvoiceRow {
  id: number;
  flow_id: string;
  position: number;
  label: string;
  number: string;
  supplier_type: string;
  supplier_id: string;
  supplier_name: string;
  supplier_country: string;
  recipient_siret: string;
  recipient_name: string | null;
  service_code: string | null;
  engagement: string | null;
  issue_date: string;
  type: string;
  amount_gross: string;
  currency: string;
  accepted: number;
  status: string | null;
  errors: string;
  /** Findings that refuse nothing (JSON list of coded errors). */
  warnings: string;
  pivot_path: string | null;
  renvoi: string;
  origin_invoice_id: number | null;
  role: 'invoice' | 'completion';
}

export interface EventRow {
  id: number;
  attempt: number;
  invoice_id: number;
  status: string;
  at: string;
  producer: string;
  motif: string | null;
  comment: string | null;
  produced_at: string | null;
  mandate: string | null;
  source_flow: string;
}

/** An event with the invoice it concerns, as status files need it. */
export type InvoiceEventRow = EventRow & Pick<InvoiceRow, 'number' | 'issue_date' | 'supplier_type' | 'supplier_id' | 'supplier_name' | 'supplier_country' | 'recipient_siret' | 'recipient_name' | 'service_code'>;

export interface StatusUpdateRow {
  flow_id: string;
  position: number;
  number: string;
  supplier_id: string;
  recipient_siret: string;
  status: string;
  invoice_id: number | null;
  accepted: number;
  errors: string;
}

/** One invoice's decision as recorded: a new row, or the row an earlier attempt wrote at that position. */
export interface InvoiceRecord {
  position: number;
  label: string;
  number: string;
  supplierType: string;
  supplierId: string;
  supplierName: string;
  supplierCountry: string;
  recipientSiret: string;
  recipientName?: string;
  serviceCode?: string;
  engagement?: string;
  issueDate: string;
  type: string;
  amountGross: string;
  currency: string;
  errors: FlowError[];
  warnings: FlowError[];
  role: 'invoice' | 'completion';
  renvoi: string;
  originId?: number;
}

export interface EventRecord {
  invoiceId: number;
  status: string;
  at: string;
  producer: string;
  sourceFlow: string;
  attempt: number;
  motif?: string;
  comment?: string;
  producedAt?: string;
  mandate?: string;
}

export interface FlowDecisionRecord {
  kind: string | null;
  state: string;
  statusCode: string;
  duplicateOf: string | null;
  errors: FlowError[];
  decidedAt: string;
  finalPath: string;
  /** Set for a replay: the attempt it starts and what it decided. */
  replay?: { attempt: number; accepted: number; stillRejected: number };
}

export interface NewFlow {
  id: string;
  fileName: string;
  partner: string | null;
  channel: Channel;
  receivedAt: string;
  spoolPath: string;
  ownerPid: number;
  ownerNode: string;
}

/** An accepted invoice of the same supplier, number and issue year: what double invoicing is judged on. */
export interface EarlierDeposit {
  id: number;
  flow_id: string;
  status: string | null;
}

/** What a partner's token may see: flows it deposited, invoices of its suppliers, and of its recipients. */
export interface Visibility {
  partner: string;
  suppliers: string[];
  recipients: string[];
}

export interface FlowFilter {
  state?: string;
  /** Any of these states (or stages). */
  states?: string[];
  /** Only flows not yet DONE. */
  unfinished?: boolean;
  /** Last change (done, else decided, else received) strictly after / at or before. */
  updatedAfter?: string;
  updatedBefore?: string;
  /** Deposited through the API with this trackingId. */
  trackingId?: string;
  visibleTo?: Visibility;
  since?: string;
  until?: string;
  supplier?: string;
  recipient?: string;
  limit?: number;
  offset?: number;
}

export type ListedFlow = FlowRow & { invoices: number; accepted: number };

export interface InvoiceFilter {
  number?: string;
  supplier?: string;
  recipient?: string;
  /** A lifecycle status code, or REJECTED for invoices refused at deposit. */
  status?: string;
  from?: string;
  to?: string;
  limit: number;
  visibleTo?: Visibility;
}

export interface ReplayRow {
  attempt: number;
  started_at: string;
  accepted: number;
  still_rejected: number;
}

export interface FlowStore {
  get(id: string): Promise<FlowRow | undefined>;
  inStage(stage: Stage): Promise<FlowRow[]>;
  insertClaims(flows: NewFlow[]): Promise<void>;
  /** Drops a claim whose file was never moved (still CLAIMING). */
  dropClaim(id: string): Promise<void>;
  /** CLAIMING → CLAIMED; false when the claim is gone (dropped by a node that took this one for dead). */
  finishClaim(id: string, sha256: string, size: number): Promise<boolean>;
  /** Moves the flow from its owner `from` (as last read) to `to`; false when someone else changed it first. */
  takeOver(id: string, from: { node: string | null; pid: number | null }, to: Owner): Promise<boolean>;
  /** The earliest flow with these bytes, received before `id` (or any, without an id). */
  earlierSameContent(sha256: string, id?: string): Promise<{ id: string } | undefined>;
  /** CLAIMED (or DONE, for a replay) → DECIDED, owned by `owner`; false when another process decided it first. */
  recordDecision(id: string, fromStage: Stage, decision: FlowDecisionRecord, owner: Owner): Promise<boolean>;
  recordFault(id: string, fault: string): Promise<void>;
  markDone(id: string, at: string): Promise<void>;
  recordOutput(id: string, kind: string, path: string): Promise<void>;
  outputs(id: string): Promise<{ kind: string; path: string }[]>;
  replays(id: string): Promise<ReplayRow[]>;
  /** Pivot flows acknowledged (92/94) by their recipients. */
  acknowledgments(id: string): Promise<{ status: string; byFlow: string; at: string }[]>;
  /** The recipients each pivot flow delivered to (what an acknowledgment is checked against). */
  deliveredRecipients(flowIds: string[]): Promise<Map<string, string[]>>;
  list(filter: FlowFilter): Promise<ListedFlow[]>;
  /** Finished flows with something refused, that a replay can take. */
  replayable(since?: string): Promise<FlowRow[]>;
  /** Finished flows older than the cutoff that no kept flow depends on. */
  purgeable(cutoff: string): Promise<FlowRow[]>;
  purge(ids: string[]): Promise<void>;
  stats(since?: string): Promise<{ flows: { state: string; n: number }[]; invoices: { status: string; n: number }[]; rejectionCodes: { code: string; n: number }[] }>;
  counts(): Promise<{ unfinished: number; faulty: number; spoolNames: string[] }>;
  /** Flows not done and the oldest one's reception time, through the stage index. */
  unfinished(): Promise<{ n: number; oldestReceivedAt?: string }>;
  /** Flows (and their invoices) received per hour since a time: hour is `YYYY-MM-DDTHH`. */
  perHour(since: string): Promise<{ hour: string; flows: number; invoices: number }[]>;
  /** The unfinished flow received first, if any. */
  oldestUnfinished(): Promise<FlowRow | undefined>;
}

export interface InvoiceStore {
  get(id: number): Promise<InvoiceRow | undefined>;
  ofFlow(flowId: string): Promise<InvoiceRow[]>;
  /** Writes a decision; returns the row as written. */
  record(flowId: string, invoice: InvoiceRecord): Promise<InvoiceRow>;
  setPivot(id: number, path: string): Promise<void>;
  /** The latest accepted invoice for each supplier/number/year key (`supplier\0number\0year`). */
  earlierDeposits(keys: string[]): Promise<Map<string, EarlierDeposit>>;
  /** Accepted invoices (role invoice) of a supplier with this number, newest first. */
  bySupplierNumber(supplierId: string, number: string): Promise<InvoiceRow[]>;
  /** Accepted invoices with this number, any supplier, newest first. */
  byNumber(number: string): Promise<InvoiceRow[]>;
  /** The delivery an invoice was recycled into, if any. */
  recycledInto(id: number): Promise<InvoiceRow | undefined>;
  search(filter: InvoiceFilter): Promise<InvoiceRow[]>;
}

export interface EventStore {
  /** Records an event and moves the invoice to its status. */
  add(event: EventRecord): Promise<void>;
  ofAttempt(flowId: string, attempt: number): Promise<InvoiceEventRow[]>;
  ofInvoices(ids: number[]): Promise<(EventRow & { source_file: string; invoice_number: string })[]>;
}

export interface StatusUpdateStore {
  add(row: StatusUpdateRow): Promise<void>;
  ofFlow(flowId: string): Promise<StatusUpdateRow[]>;
}

export interface DirectoryStore {
  structures(sirets: string[]): Promise<Map<string, ImportedStructure>>;
  /** Services by `siret\0code`. */
  services(keys: string[]): Promise<Map<string, Service>>;
  servicesOf(siret: string, code?: string): Promise<Service[]>;
  replace(structures: ImportedStructure[], services: Service[], source: { structuresFile: string; servicesFile?: string }, onRow?: (done: number, total: number) => void): Promise<void>;
  summary(): Promise<{ structures: number; lastImport?: string }>;
  /** The whole directory, as an import compares it with the next export. */
  all(): Promise<{ structures: ImportedStructure[]; services: Service[] }>;
}

/** An invoice held in a validation circuit. */
export interface HoldRow {
  invoice_id: number;
  cadre: string;
  validator_1: string;
  validator_2: string | null;
  /** The level awaited (or last awaited, once decided). */
  level: number;
  /** When the awaited level's deadline passes (ISO, UTC); null once it is decided. */
  due_at: string | null;
}

export interface CircuitStore {
  hold(row: HoldRow): Promise<void>;
  /** A level is awaited from now on (`dueAt`), or decided (`dueAt` null). */
  setLevel(invoiceId: number, level: number, dueAt: string | null): Promise<void>;
  ofInvoices(ids: number[]): Promise<Map<number, HoldRow>>;
  /** Held invoices still awaiting a level whose deadline is at or before `now`, earliest first (by the due-time index). */
  due(now: string, limit: number): Promise<(HoldRow & Pick<InvoiceRow, 'number' | 'issue_date' | 'supplier_id' | 'recipient_siret' | 'status'>)[]>;
}

export interface PartnerStore {
  get(code: string): Promise<Partner | undefined>;
  list(): Promise<Partner[]>;
  save(partner: Partner): Promise<void>;
  remove(code: string): Promise<boolean>;
}

/** A node's heartbeat: one row per node name, rewritten at each beat. */
export interface NodeRow {
  name: string;
  host: string;
  pid: number;
  started_at: string;
  /** Milliseconds since the epoch, from the node's clock. */
  heartbeat_at: number;
  /** The node is presumed dead once heartbeat_at + lease_ms is past. */
  lease_ms: number;
  /** running, stopping or stopped. */
  state: string;
  /** What it is doing, in words (flows in progress). */
  doing: string;
  /** Flows it owns that are not done (read with the row). */
  unfinished: number;
}

export interface NodeStore {
  beat(n: { name: string; host: string; pid: number; startedAt: string; at: number; leaseMs: number; state: string; doing: string }): Promise<void>;
  list(): Promise<NodeRow[]>;
  remove(name: string): Promise<boolean>;
}

/** A notification event written to the outbox (see src/notify/events). */
export interface NotifyEventRecord {
  id: string;
  type: string;
  at: string;
  /** The order events are fanned out in (microseconds, increasing). */
  seq: number;
  flowId: string | null;
  invoiceId: number | null;
  /** The partner whose folder the flow came in through, if any. */
  partner: string | null;
  /** Suppliers and recipients the event is about (what a partner's permissions are checked against). */
  suppliers: string[];
  recipients: string[];
  payload: Record<string, unknown>;
}

export interface NotifyEventRow {
  id: string;
  type: string;
  at: string;
  seq: number;
  flow_id: string | null;
  invoice_id: number | null;
  partner: string | null;
  suppliers: string;
  recipients: string;
  payload: string;
}

export type DeliveryChannel = 'webhook' | 'email';
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'cancelled';

export interface NewDelivery {
  id: string;
  eventId: string;
  channel: DeliveryChannel;
  /** The webhook id, or the partner code for an e-mail. */
  target: string;
  /** The URL or the e-mail address, as it was when the event was fanned out. */
  address: string;
  nextAt: number;
  createdAt: string;
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  channel: DeliveryChannel;
  target: string;
  address: string;
  state: DeliveryState;
  attempts: number;
  next_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  done_at: string | null;
}

export type DueDelivery = DeliveryRow & { event_type: string; event_at: string; payload: string };

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  at: string;
  ok: boolean;
  status?: number;
  error?: string;
  /** The next attempt (ms), or undefined when none follows (delivered, given up, cancelled). */
  nextAt?: number;
  state: DeliveryState;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: string;
  ok: number;
  status: number | null;
  error: string | null;
  next_at: number | null;
}

export interface DeliveryFilter {
  /** Deliveries whose last attempt failed (still retried, or given up). */
  failed?: boolean;
  state?: DeliveryState;
  channel?: DeliveryChannel;
  /** Deliveries of these targets only (a partner's webhooks). */
  targets?: string[];
  eventId?: string;
  limit?: number;
}

/** Rows written per multi-row statement, and the status changes callers record at a time. */
export const ROWS_PER_STATEMENT = 64;

export interface NotifyStore {
  /** Records events in order (several rows per statement). */
  add(events: NotifyEventRecord[]): Promise<void>;
  /** Events not yet fanned out to their deliveries, oldest first. */
  unfanned(limit: number): Promise<NotifyEventRow[]>;
  /** Records an event's deliveries and marks it fanned out. */
  fanOut(eventId: string, deliveries: NewDelivery[]): Promise<void>;
  /** Pending deliveries due at `nowMs`, soonest first, with their event. */
  due(nowMs: number, limit: number): Promise<DueDelivery[]>;
  /** When the next pending delivery is due (ms), if any. */
  nextDue(): Promise<number | undefined>;
  recordAttempt(a: AttemptRecord): Promise<void>;
  deliveries(filter: DeliveryFilter): Promise<DeliveryRow[]>;
  attempts(deliveryId: string): Promise<AttemptRow[]>;
  /** Removes events older than the cutoff whose deliveries are all finished, with their deliveries and attempts; returns the events removed. */
  purge(cutoff: string): Promise<number>;
  /** Deliveries pending and given up (for metrics), counted through the state index. */
  deliveryStates(): Promise<{ state: string; n: number }[]>;
}

export interface Webhook {
  id: string;
  url: string;
  /** Event types it receives; empty: all of them. */
  events: string[];
  /** The partner code it belongs to (it sees only what that partner's permissions cover), or null for an operator's hook. */
  owner: string | null;
  createdAt: string;
}

export interface WebhookStore {
  add(hook: Webhook & { secret: string }): Promise<void>;
  get(id: string): Promise<(Webhook & { secret: string }) | undefined>;
  list(owner?: string): Promise<Webhook[]>;
  /** Removes a hook (only the owner's when an owner is given) and cancels its pending deliveries. */
  remove(id: string, owner?: string): Promise<boolean>;
}

/** Monotonic counters of what the hub did (metrics), bumped in the transactions that do it. */
export interface CounterDelta {
  metric: string;
  label: string;
  n: number;
}

export interface CounterStore {
  add(deltas: CounterDelta[]): Promise<void>;
  all(): Promise<CounterDelta[]>;
}

export interface TokenRow {
  hash: string;
  kind: 'partner' | 'operator';
  subject: string;
  created_at: string;
  revoked_at: string | null;
}

/** Bearer tokens of the HTTP API: only their hash is kept. */
export interface TokenStore {
  add(row: Omit<TokenRow, 'revoked_at'>): Promise<void>;
  get(hash: string): Promise<TokenRow | undefined>;
  /** Revokes every live token of a subject; returns how many. */
  revoke(kind: TokenRow['kind'], subject: string, at: string): Promise<number>;
  list(kind: TokenRow['kind']): Promise<TokenRow[]>;
}

export interface DepositRow {
  partner: string;
  deposit_key: string;
  flow_id: string;
  tracking_id: string | null;
  at: string;
}

/** Flows deposited through the API, by key: a retry finds the flow of the first attempt. */
export interface DepositStore {
  /** Records the key for this flow unless it is already taken; returns the row that holds it. */
  reserve(row: DepositRow): Promise<DepositRow>;
  ofFlow(flowId: string): Promise<DepositRow | undefined>;
}

export interface Stores {
  flows: FlowStore;
  invoices: InvoiceStore;
  events: EventStore;
  statusUpdates: StatusUpdateStore;
  directory: DirectoryStore;
  partners: PartnerStore;
  nodes: NodeStore;
  notify: NotifyStore;
  webhooks: WebhookStore;
  counters: CounterStore;
  circuits: CircuitStore;
  tokens: TokenStore;
  deposits: DepositStore;
}

/** Stores inside a write transaction; `savepoint` undoes only what its function did if it throws. */
export interface Tx extends Stores {
  savepoint<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

export interface LedgerHealth {
  integrity: string;
  schemaVersion: number;
  expectedVersion: number;
  journal: string;
}

export interface Ledger extends Stores {
  /** `sqlite` (a file of this home) or `postgres` (a database several nodes may share). */
  readonly backend: 'sqlite' | 'postgres';
  /** One write transaction: everything `fn` does through `tx` is committed together, or nothing. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  health(): Promise<LedgerHealth>;
  /**
   * Whether the ledger this connection writes is still the file at its path: undefined when
   * it is, else what happened (deleted, replaced). A connection keeps writing to a file
   * deleted or replaced under it, and every later reader would see another ledger.
   */
  fileProblem(): string | undefined;
  /** The device and inode of the file opened (what `fileProblem` compares with the path's). */
  readonly fileIdentity: { dev: number; ino: number };
  close(): Promise<void>;
}
