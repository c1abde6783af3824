/**
 * What a decision changes, as data: `planDecision` (the rows and lifecycle events to record,
 * where the source goes) and `planDelivery` (the pivots to write, the statuses 03 they make,
 * the supplier status files and the report). Pure: the application layer gathers the inputs
 * from the ledger, applies the plans, and owns every write. Every status change planned here
 * goes through the lifecycle table, the platform's own included.
 */
import type { PivotGrouping, StatusFormat } from '../config.js';
import { flowError, SystemFault, type FlowError } from '../errors/catalog.js';
import { invoiceLineReport, reportJsonChunks, reportXmlChunks, STATUS_OF_STATE, type FlowState, type IntegrationReport } from '../emit/report.js';
import { pivotChunks, type PivotInvoice, type Renvoi } from '../emit/pivot.js';
import { invoiceStatusesChunks, type StatusEntry } from '../emit/statuses.js';
import type { Partner as EnvelopePartner } from '../emit/envelope.js';
import { parseErrors, type EventRecord, type FlowDecisionRecord, type FlowRow, type HoldRow, type InvoiceEventRow, type InvoiceRecord, type InvoiceRow, type Stage, type StatusUpdateRow } from '../ledger/stores.js';
import { assertTransition, STATUS_NAMES } from '../lifecycle/statuses.js';
import type { Attachment, Invoice } from '../model/invoice.js';
import type { Decision, InvoiceDecision, StatusLine } from './judge.js';
import { heldAtDeposit, holdOf, levelsClosedBy, planReleases, type LevelChange, type PlannedHold, type Release } from './circuitPlan.js';
import { actorId, circuitOf, levelOfStatus, type Deadlines } from '../lifecycle/circuits.js';
import { localDate, type Places } from './places.js';
import { planCdar } from './cdarPlan.js';
import { wantsCpp } from '../lifecycle/cdar.js';

// ---------------------------------------------------------------------------- the decision

export interface PlannedInvoice {
  record: InvoiceRecord;
  /** The event its acceptance records: 01 on itself, or 12 on the suspended invoice it completes. */
  event?: Omit<EventRecord, 'invoiceId'> & { invoiceId: number | 'self' };
  /** The validation circuit it is held in until its validators approve it. */
  hold?: PlannedHold;
}

export interface DecisionPlan {
  /** The stage the flow must still be in (another process deciding first wins). */
  fromStage: Stage;
  flow: FlowDecisionRecord;
  invoices: PlannedInvoice[];
  statusUpdates: Omit<StatusUpdateRow, 'flow_id'>[];
  /** Status changes sent in (recipients' statuses, operators' requests). */
  events: EventRecord[];
  /** Circuit levels these changes decide. */
  levels: LevelChange[];
}

export interface DecisionInput {
  flow: Pick<FlowRow, 'id' | 'file_name' | 'received_at' | 'stage' | 'replays'>;
  decision: Decision;
  /** A replay plans the flow's next attempt. */
  replay: boolean;
  completionComment?: string;
  at: string;
  places: Places;
  /** Validation deadlines per level, in days (settings). */
  deadlines?: Deadlines;
}

/** The settings' defaults, for callers that plan without settings. */
export const DEFAULT_DEADLINES: Deadlines = { 1: 15, 2: 15 };

export const invoiceRecord = ({ invoice: i, errors, resend }: InvoiceDecision): InvoiceRecord => ({
  position: i.position,
  label: i.label,
  number: i.number,
  supplierType: i.supplier.idType,
  supplierId: i.supplier.id,
  supplierName: i.supplier.name,
  supplierCountry: i.supplier.countryCode,
  recipientSiret: i.recipient.siret,
  recipientName: i.recipient.name,
  serviceCode: i.recipient.serviceCode,
  engagement: i.engagementNumber,
  issueDate: i.issueDate,
  type: i.type,
  amountGross: i.totals.gross,
  currency: i.currency,
  errors,
  warnings: [...(i.facturx?.structural ?? []).map((f) => flowError('FACTURX_STRUCTURAL', { check: f.check, detail: f.detail })), ...(i.official?.warnings ?? [])],
  role: resend?.role ?? 'invoice',
  renvoi: resend?.renvoi ?? 'Non',
  originId: resend?.originId,
});

export function planDecision({ flow, decision: d, replay, completionComment, at, places, deadlines = DEFAULT_DEADLINES }: DecisionInput): DecisionPlan {
  const attempt = replay ? flow.replays + 1 : flow.replays;
  const source = { sourceFlow: flow.id, attempt, at };
  const invoices = d.invoices.map((inv): PlannedInvoice => {
    const record = invoiceRecord(inv);
    if (inv.errors.length) return { record };
    if (inv.resend?.role === 'completion') {
      assertTransition({ number: record.number, from: '06', to: '12', producer: 'supplier' });
      return { record, event: { ...source, invoiceId: inv.resend.originId, status: '12', producer: 'supplier', comment: completionComment } };
    }
    const hold = holdOf(inv.invoice, at, deadlines);
    return { record, event: { ...source, invoiceId: 'self', status: assertTransition({ number: record.number, from: null, to: '01', producer: 'platform' }), producer: 'platform' }, ...(hold ? { hold } : {}) };
  });
  const events = d.updates.map((u): EventRecord => ({
    ...source,
    invoiceId: u.invoiceId,
    status: u.status,
    producer: u.producer,
    // Each word in its own column, as it came: a Commentaire alone is not copied into the motif.
    motif: u.update.complement,
    comment: u.update.comment,
    producedAt: u.update.producedAt,
    mandate: u.update.mandate,
  }));
  const accepted = d.invoices.filter((i) => !i.errors.length).length;
  return {
    fromStage: replay ? 'DONE' : 'CLAIMED',
    flow: {
      kind: d.kind ?? null,
      state: d.state,
      statusCode: STATUS_OF_STATE[d.state],
      duplicateOf: d.duplicateOf ?? null,
      errors: d.flowErrors,
      decidedAt: at,
      finalPath: places.final(flow, d.state),
      ...(replay ? { replay: { attempt, accepted, stillRejected: d.invoices.length - accepted } } : {}),
    },
    invoices,
    statusUpdates: d.statusLines.map((l) => statusUpdateRow(l)),
    events,
    levels: levelsClosedBy(d.updates),
  };
}

const statusUpdateRow = (l: StatusLine): Omit<StatusUpdateRow, 'flow_id'> => ({
  position: l.position,
  number: l.number,
  supplier_id: l.supplier,
  recipient_siret: l.recipient,
  status: l.status,
  invoice_id: l.invoiceId ?? null,
  accepted: l.errors.length ? 0 : 1,
  errors: JSON.stringify(l.errors),
});

// ---------------------------------------------------------------------------- the report

export interface ReportHeader {
  flowId: string;
  file: string;
  sha256: string;
  kind?: string | null;
  receivedAt: string;
  state: FlowState;
  duplicateOf?: string | null;
  errors: FlowError[];
}

/** The integration report of a flow, from its recorded (or, for a validation, planned) rows. */
export function reportOf(h: ReportHeader, rows: (Pick<InvoiceRow, 'label' | 'number' | 'supplier_id' | 'recipient_siret' | 'service_code' | 'engagement' | 'errors'> & { warnings?: string })[], updates: Omit<StatusUpdateRow, 'flow_id'>[]): IntegrationReport {
  return {
    flowId: h.flowId,
    file: h.file,
    sha256: h.sha256,
    kind: h.kind ?? undefined,
    receivedAt: h.receivedAt,
    state: h.state,
    statusCode: STATUS_OF_STATE[h.state],
    ...(h.duplicateOf ? { duplicateOf: h.duplicateOf } : {}),
    errors: h.errors,
    invoices: rows.map((r) => invoiceLineReport({ label: r.label, number: r.number, supplier: r.supplier_id, recipient: r.recipient_siret, serviceCode: r.service_code, engagement: r.engagement, errors: parseErrors(r.errors), warnings: parseErrors(r.warnings ?? '[]') })),
    ...(updates.length
      ? {
          statusUpdates: updates.map((u) => ({
            label: `NumOrdre ${u.position}`,
            number: u.number,
            supplier: u.supplier_id,
            recipient: u.recipient_siret,
            requestedStatus: u.status,
            status: u.accepted ? ('ACCEPTED' as const) : ('REJECTED' as const),
            errors: parseErrors(u.errors),
          })),
        }
      : {}),
  };
}

/** Planned invoice records as report rows (a validation reports what it would record). */
export const recordRows = (records: InvoiceRecord[]) =>
  records.map((r) => ({ label: r.label, number: r.number, supplier_id: r.supplierId, recipient_siret: r.recipientSiret, service_code: r.serviceCode ?? null, engagement: r.engagement ?? null, errors: JSON.stringify(r.errors), warnings: JSON.stringify(r.warnings) }));

export const reportHeaderOf = (flow: FlowRow): ReportHeader => ({
  flowId: flow.id,
  file: flow.file_name,
  sha256: flow.sha256,
  kind: flow.kind,
  receivedAt: flow.received_at,
  state: flow.state as FlowState,
  duplicateOf: flow.duplicate_of,
  errors: parseErrors(flow.errors),
});

// ---------------------------------------------------------------------------- the delivery

/** The row whose lifecycle a delivery moves: itself, or for a completion the suspended original. */
export const lifecycleRow = (row: InvoiceRow, origins: Map<number, InvoiceRow>): InvoiceRow => (row.role === 'completion' ? origins.get(row.origin_invoice_id!)! : row);

/**
 * How pivots and supplier status files are cut, gathered by the application (the setting, and
 * the override of the partner serving each recipient or supplier). Missing: one per recipient
 * or supplier per flow.
 */
export interface Grouping {
  recipients: Map<string, PivotGrouping>;
  suppliers: Map<string, PivotGrouping>;
  /** Each supplier's status format (CPPStatut, CDAR or both); missing: CPPStatut. */
  formats?: Map<string, StatusFormat>;
}

const NO_GROUPING: Grouping = { recipients: new Map(), suppliers: new Map() };

/** The pivot a row of this attempt goes into: its recipient's file, or its own (by position). */
export const pivotPathOf = (flow: Pick<FlowRow, 'id' | 'replays'>, row: Pick<InvoiceRow, 'recipient_siret' | 'position'>, places: Places, grouping: Grouping = NO_GROUPING): string =>
  grouping.recipients.get(row.recipient_siret) === 'invoice'
    ? places.pivot(row.recipient_siret, flow.id, flow.replays, row.position)
    : places.pivot(row.recipient_siret, flow.id, flow.replays);

/**
 * Rows this attempt delivers: accepted and not yet delivered, or delivered by this very attempt
 * before a crash (their pivot is rewritten identically). Never a row an earlier attempt delivered.
 */
export function deliverableRows(flow: FlowRow, rows: InvoiceRow[], origins: Map<number, InvoiceRow>, places: Places, grouping: Grouping = NO_GROUPING): InvoiceRow[] {
  return rows.filter((row) => {
    if (!row.accepted) return false;
    if (row.pivot_path) return row.pivot_path === pivotPathOf(flow, row, places, grouping);
    return lifecycleRow(row, origins).status === (row.role === 'completion' ? '12' : '01');
  });
}

export interface DeliveryInput {
  flow: FlowRow;
  rows: InvoiceRow[];
  /** The suspended invoices completions of this flow complete, by id. */
  origins: Map<number, InvoiceRow>;
  /** The rows to deliver (deliverableRows), and their invoices by position, read from the source as the pivots are written. */
  deliver: InvoiceRow[];
  modelAt: (position: number) => Invoice | undefined;
  /** The validation circuits the rows to deliver are held in, by invoice id: those go to their level-1 validator first. */
  holds: ReadonlyMap<number, Pick<HoldRow, 'cadre'>>;
  /** Events this attempt recorded already (its decision's, and 03s recorded before a crash). */
  events: InvoiceEventRow[];
  statusUpdates: StatusUpdateRow[];
  structureNames: Map<string, string | undefined>;
  /** The flow's registered partner, whose folder gets its reports. */
  partner?: string;
  /** Where the source file is now. */
  source?: string;
  platform: EnvelopePartner;
  defaultPartnerId: string;
  /** Structured invoices without an invoice PDF get one rendered by the hub (setting `renderPdf`). */
  renderPdf?: boolean;
  /** Reads the attachments the reader set aside, as the pivots are written. */
  bytesOf?: (a: Attachment) => Buffer;
  /** One file per recipient / supplier, or per invoice / status, for each of them. */
  grouping?: Grouping;
  places: Places;
  now: string;
  /** The status format of the flow's sender, for CDAR answers to what it refused. */
  senderFormat?: StatusFormat;
  /** The invoices this flow's refused status lines named. */
  lineInvoices?: Map<number, InvoiceRow>;
  /** Held invoices this flow's decisions moved on (gathered by the application), and the deadlines of the levels they reach. */
  releases?: Release[];
  deadlines?: Deadlines;
}

export interface PlannedFile {
  /** `validator`: an invoice made available to its validator (a validation circuit), pivot-like. */
  kind: 'pivot' | 'validator' | 'supplier-status' | 'report' | 'report-beside' | 'supplier-cdar' | 'ppf-cdar' | 'answer-cdar';
  path: string;
  chunks: () => Iterable<string | Uint8Array>;
}

export interface DeliveryPlan {
  pivots: (PlannedFile & { rows: InvoiceRow[] })[];
  /** Status 03 for the invoices of the pivots (A_VALIDER_n for those made available to a validator). */
  madeAvailable: EventRecord[];
  /** The rows the planned events are about, by id (as gathered: for what a status change does not alter). */
  invoices: ReadonlyMap<number, InvoiceRow>;
  /** Circuit levels awaited from now on (a release to level 2). */
  levels: LevelChange[];
  /** Supplier statuses and the report, written once the 03s are recorded. */
  notices: PlannedFile[];
  source?: { from: string; to: string; removeBeside: string[] };
  report?: IntegrationReport;
  /** What the flow carried, for its summary: invoices, or status updates. */
  unit: 'invoices' | 'updates';
  accepted: number;
  total: number;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * The supplier status file each entry (in their final order) goes into: its supplier's, or
 * under grouping by invoice one file per status, named after the invoice's hub id and the
 * status (a status met twice for one invoice in one attempt gets `_2`, `_3`…, in order).
 */
function statusFileOf(flow: Pick<FlowRow, 'id' | 'replays'>, places: Places, grouping: Grouping): (e: InvoiceEventRow) => string {
  const seen = new Map<string, number>();
  return (e) => {
    if (grouping.suppliers.get(e.supplier_id) !== 'invoice') return places.supplierStatuses(e.supplier_id, flow.id, flow.replays);
    const unit = `${e.invoice_id}_${e.status}`;
    const n = (seen.get(unit) ?? 0) + 1;
    seen.set(unit, n);
    return places.supplierStatuses(e.supplier_id, flow.id, flow.replays, n > 1 ? `${unit}_${n}` : unit);
  };
}

function* lazyMap<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

const statusEntryOf = (e: InvoiceEventRow): StatusEntry => ({
  supplier: { idType: e.supplier_type, id: e.supplier_id, name: e.supplier_name, countryCode: e.supplier_country },
  recipient: { siret: e.recipient_siret, name: e.recipient_name ?? undefined, serviceCode: e.service_code ?? undefined },
  status: e.status,
  complement: e.motif ?? STATUS_NAMES[e.status],
  comment: e.comment ?? undefined,
  at: e.produced_at ?? e.at,
  invoiceNumber: e.number,
  invoiceDate: e.issue_date,
  mandate: e.mandate ?? undefined,
});

export function planDelivery(input: DeliveryInput): DeliveryPlan {
  const { flow, places, now } = input;
  const attempt = flow.replays;
  const depositDate = localDate(flow.received_at);
  const grouping = input.grouping ?? NO_GROUPING;
  const modelOf = (r: InvoiceRow) => {
    const invoice = input.modelAt(r.position);
    if (!invoice) throw new Error(`invoice at position ${r.position} of flow ${flow.id} is missing from its source file`);
    // Read again after the decision: an invoice that is no longer the one decided is never delivered.
    if (invoice.number !== r.number || invoice.supplier.id !== r.supplier_id || invoice.recipient.siret !== r.recipient_siret || invoice.totals.gross !== r.amount_gross) {
      throw new SystemFault(flowError('SYS_SOURCE_CHANGED', { file: input.source ?? flow.file_name, what: `invoice ${r.position} is no longer ${r.number}` }));
    }
    return invoice;
  };
  const header = (siret: string) => ({ flowId: flow.id, depositDate, recipient: { id: input.defaultPartnerId, label: input.structureNames.get(siret) }, platform: input.platform, renderPdf: input.renderPdf, bytesOf: input.bytesOf });
  // Invoices of a validation circuit go to their level-1 validator first, one file each.
  const held = new Set(input.deliver.filter((r) => heldAtDeposit(r, input.holds.get(r.id))).map((r) => r.id));
  const toValidators = input.deliver.filter((r) => held.has(r.id)).map((r) => {
    const invoice = modelOf(r);
    const first = circuitOf(invoice.cadre)!.levels[0]!;
    const p: PivotInvoice = { invoice, hubId: r.id, renvoi: r.renvoi as Renvoi, ...(first.by === 'moe' ? { moeOn: localDate(now) } : {}) };
    return { kind: 'validator' as const, path: places.validator(actorId(invoice, first.by) ?? '', flow.id, attempt, r.id), rows: [r], chunks: () => pivotChunks(header(r.recipient_siret), 1, [p]) };
  });
  const releases = planReleases(input.releases ?? [], flow, places, now, input.deadlines ?? DEFAULT_DEADLINES);
  const releasedTo = releases.flatMap((r) => (r.to.kind === 'validator' ? [{ kind: 'validator' as const, path: r.to.path, rows: [r.row], chunks: () => pivotChunks(header(r.row.recipient_siret), 1, [{ invoice: r.model, hubId: r.row.id, renvoi: 'Non', receivedOn: r.receivedOn, moeOn: r.moeOn }]) }] : []));
  const releasedPivots = releases.filter((r) => r.to.kind === 'pivot');
  // Rows are grouped by the file they go into: their recipient's, or their own.
  const direct = input.deliver.filter((r) => !held.has(r.id));
  const pivots = [
    ...[...groupBy(direct, (r) => pivotPathOf(flow, r, places, grouping))].map(([pivotPath, group]) => {
      // Each invoice is read as its pivot is written: a large flow holds one at a time.
      const invoices = () => lazyMap(group, (r): PivotInvoice => ({ invoice: modelOf(r), hubId: lifecycleRow(r, input.origins).id, renvoi: r.renvoi as Renvoi }));
      return { kind: 'pivot' as const, path: pivotPath, rows: group, chunks: () => pivotChunks(header(group[0]!.recipient_siret), group.length, invoices()) };
    }),
    // Released invoices come from other flows: under grouping by invoice, their file is named by hub id.
    ...[...groupBy(releasedPivots, (r) => (grouping.recipients.get(r.row.recipient_siret) === 'invoice' ? places.pivot(r.row.recipient_siret, flow.id, attempt, r.row.id) : places.pivot(r.row.recipient_siret, flow.id, attempt)))].map(([pivotPath, group]) => {
      const invoices: PivotInvoice[] = group.map((r) => ({ invoice: r.model, hubId: r.row.id, renvoi: 'Non', receivedOn: r.receivedOn, moeOn: r.moeOn }));
      return { kind: 'pivot' as const, path: pivotPath, rows: group.map((r) => r.row), chunks: () => pivotChunks(header(group[0]!.row.recipient_siret), invoices.length, invoices) };
    }),
    ...toValidators,
    ...releasedTo,
  ];
  const madeAvailable: EventRecord[] = [];
  for (const r of input.deliver) {
    const target = lifecycleRow(r, input.origins);
    // A pivot rewritten after a crash: its 03 is recorded already.
    if (target.status !== '01' && target.status !== '12') continue;
    const to = held.has(r.id) ? '13' : '03';
    madeAvailable.push({ invoiceId: target.id, status: assertTransition({ number: target.number, from: target.status, to, producer: 'platform' }), at: now, producer: 'platform', sourceFlow: flow.id, attempt });
  }
  madeAvailable.push(...releases.map((r) => r.event));

  // The supplier's statuses: what this attempt recorded, then the 03s it makes now, per invoice.
  const rowsById = new Map<number, InvoiceRow>([...input.rows, ...input.origins.values(), ...releases.map((r) => r.row)].map((r) => [r.id, r]));
  // The 03s made now have no ledger id yet: theirs sort them after every recorded event.
  const planned: InvoiceEventRow[] = madeAvailable.map((e, i) => {
    const r = rowsById.get(e.invoiceId)!;
    return {
      id: Number.MAX_SAFE_INTEGER - madeAvailable.length + i, attempt, invoice_id: r.id, status: e.status, at: e.at, producer: e.producer, motif: null, comment: null, produced_at: null, mandate: null, source_flow: flow.id,
      number: r.number, issue_date: r.issue_date, supplier_type: r.supplier_type, supplier_id: r.supplier_id, supplier_name: r.supplier_name,
      supplier_country: r.supplier_country, recipient_siret: r.recipient_siret, recipient_name: r.recipient_name, service_code: r.service_code,
    };
  });
  // By supplier, then by the invoice's place in the flow, then in the order they happened.
  const positionOf = (e: InvoiceEventRow) => rowsById.get(e.invoice_id)?.position ?? 0;
  const entries = [...input.events, ...planned].sort((a, b) => (a.supplier_id < b.supplier_id ? -1 : a.supplier_id > b.supplier_id ? 1 : positionOf(a) - positionOf(b) || a.id - b.id));
  // Each status file's entries are turned into XML as the file is written, one at a time.
  // CDAR has no code for a validation circuit's statuses (13–22): a supplier whose format is cdar
  // still receives those in CPPStatut, or it would never learn its invoice is held or refused.
  const cppEntries = entries.filter((e) => wantsCpp(grouping.formats?.get(e.supplier_id)) || !!levelOfStatus(e.status));
  const notices: PlannedFile[] = [...groupBy(cppEntries, statusFileOf(flow, places, grouping))].map(([statusPath, group]) => {
    const receiver = { id: input.defaultPartnerId, label: group[0]!.supplier_name };
    return { kind: 'supplier-status' as const, path: statusPath, chunks: () => invoiceStatusesChunks(flow.id, depositDate, receiver, input.platform, group.length, lazyMap(group, statusEntryOf)) };
  });

  notices.push(...planCdar({
    flow, entries, rows: input.rows, rowsById, statusUpdates: input.statusUpdates, lineInvoices: input.lineInvoices ?? new Map(),
    formats: grouping.formats ?? new Map(), senderFormat: input.senderFormat ?? 'cpp', partner: input.partner, platform: { name: input.platform.label ?? input.platform.id }, places,
  }));

  // An operator's request is answered on the command line and in the invoice's history: no report.
  let report: IntegrationReport | undefined;
  if (flow.channel === 'edi') {
    report = reportOf(reportHeaderOf(flow), input.rows, input.statusUpdates);
    const r = report;
    const xml = () => reportXmlChunks(r, flow.decided_at!, { id: input.partner ?? input.defaultPartnerId }, input.platform);
    const json = () => reportJsonChunks(r);
    const { xml: xmlPath, json: jsonPath } = places.reports(flow.id, input.partner);
    notices.push({ kind: 'report', path: xmlPath, chunks: xml }, { kind: 'report', path: jsonPath, chunks: json });
    if (flow.final_path && places.isFailed(flow.final_path)) {
      // A refused flow keeps its report beside it, for the operator looking at failed/.
      notices.push({ kind: 'report-beside', path: `${flow.final_path}.report.json`, chunks: json }, { kind: 'report-beside', path: `${flow.final_path}.report.xml`, chunks: xml });
    }
  }
  const moves = input.source && flow.final_path && input.source !== flow.final_path;
  return {
    pivots,
    madeAvailable,
    invoices: rowsById,
    levels: releases.flatMap((r) => (r.level ? [r.level] : [])),
    notices,
    // The report that stood beside the file in failed/ goes with it (the current one is written anew).
    ...(moves ? { source: { from: input.source!, to: flow.final_path!, removeBeside: [`${input.source}.report.json`, `${input.source}.report.xml`] } } : {}),
    report,
    unit: flow.kind === 'statut' || input.statusUpdates.length ? 'updates' : 'invoices',
    accepted: input.rows.filter((r) => r.accepted).length + input.statusUpdates.filter((u) => u.accepted).length,
    total: input.rows.length + input.statusUpdates.length,
  };
}
