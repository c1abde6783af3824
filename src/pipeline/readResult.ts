/** What reading a flow gives: canonical invoices or status updates, or the errors refusing it whole. */
import type { FlowError } from '../errors/catalog.js';
import type { FlowKind } from '../detect/detect.js';
import type { FlowAck, StatusUpdate } from '../formats/statut.js';
import type { Producer } from '../lifecycle/statuses.js';
import type { Invoice } from '../model/invoice.js';

export interface ReadResult {
  kind?: FlowKind;
  invoices: Invoice[];
  /** Errors that refuse the whole flow. */
  errors: FlowError[];
  /** Archive entries that could not be read at all, by invoice position: refused as they are. */
  entryErrors?: Map<number, FlowError[]>;
  /** For status flows: the updates and flow acknowledgments, and who sends them. */
  statuses?: { producer: Producer; updates: StatusUpdate[]; acks: FlowAck[] };
  /** An operator's completion request: the note that goes with the new documents. */
  completionComment?: string;
  /** A large mixed flow read one invoice at a time: past a number of invoices, its delivery reads them again one at a time rather than holding them (pipeline/flowInvoices). */
  inUnits?: boolean;
  /** Archive entries read on helper threads (the others were read on the flow's thread). */
  readByHelpers?: number;
}

export const refused = (errors: FlowError[], kind?: FlowKind): ReadResult => ({ kind, invoices: [], errors });
