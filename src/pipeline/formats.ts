/**
 * Every format the hub reads, declared once as data: how it is recognized (root element and
 * namespace for XML, leading bytes otherwise), the schema it is validated against, the channels
 * it may come through, and its reader into the canonical model. Detection, reading and the
 * generated docs/FORMATS.md all use this table: adding a format is an entry and an adapter.
 */
import { isPdf, type FlowKind } from '../detect/detect.js';
import { readCdarStatuses } from '../formats/cdar.js';
import { CDAR_NS } from '../emit/cdar.js';
import { readCii } from '../formats/cii.js';
import { readMixedFlow } from '../formats/mixed.js';
import { readFlowAcks, readStatusUpdates } from '../formats/statut.js';
import { readUbl } from '../formats/ubl.js';
import type { Channel } from '../ledger/stores.js';
import type { XNode } from '../xml/parse.js';
import { officialFindings, type OfficialRules } from '../rules/official.js';
import type { SchemaName } from '../xml/schemas.js';
import type { ReadResult } from './readResult.js';

/** What an XML reader is given besides the tree: the document's bytes and where it stands in its flow. */
export interface DocumentPlace {
  bytes: Buffer;
  position: number;
  label: string;
  maxAttachmentBytes: number;
  /** The official rule sets to run on a structured invoice (none when absent). */
  rules?: OfficialRules;
}

export interface XmlFormat {
  kind: FlowKind;
  label: string;
  root: string;
  ns: string;
  schema: SchemaName;
  /** May stand as an entry of an archive batch (each entry one invoice). */
  inArchives: boolean;
  read(root: XNode, place: DocumentPlace): Omit<ReadResult, 'kind'>;
}

export interface BinaryFormat {
  kind: FlowKind;
  label: string;
  /** Recognized by its first bytes. */
  magic(head: Uint8Array): boolean;
  /** Channels it may come through; any other refuses the flow with REQUEST_CHANNEL_FORBIDDEN. */
  channels: readonly Channel[];
  /** The archive readers live with the reading stage (they share work across threads). */
  reader: 'archive' | 'request' | 'facturx';
  /** What validates it, for the docs. */
  validatedBy: string;
}

const structured = (read: typeof readUbl, syntax: 'UBL' | 'CII') => (root: XNode, p: DocumentPlace) => {
  const invoice = read(root, p.bytes, p.position, p.label, p.maxAttachmentBytes);
  // Run while the document is parsed: the rules read the same tree, never a second parse.
  if (p.rules) invoice.official = officialFindings(root, syntax, syntax, p.rules);
  return { invoices: [invoice], errors: [] };
};

export const XML_FORMATS: readonly XmlFormat[] = [
  {
    kind: 'mixed', label: 'E2 mixed invoices (CPPFactureMixte: header data and PDF, 1..n invoices)', root: 'CPPFactureMixte', ns: '', schema: 'mixed', inArchives: false,
    read: (root, p) => {
      const flow = readMixedFlow(root, p.maxAttachmentBytes);
      return { invoices: flow.errors.length ? [] : flow.invoices, errors: flow.errors };
    },
  },
  {
    kind: 'statut', label: 'Statuses sent back by recipients (CPPStatut)', root: 'CPPStatut', ns: '', schema: 'statut', inArchives: false,
    read: (root) => ({ invoices: [], errors: [], statuses: { producer: 'recipient', updates: readStatusUpdates(root), acks: readFlowAcks(root) } }),
  },
  {
    kind: 'cdar', label: 'Statuses sent back by recipients as CDAR (CrossDomainAcknowledgementAndResponse D22B, flow 6), read through the CDAR table', root: 'CrossDomainAcknowledgementAndResponse', ns: CDAR_NS, schema: 'cdar', inArchives: false,
    read: (root) => ({ invoices: [], errors: [], statuses: { producer: 'recipient', updates: readCdarStatuses(root), acks: [] } }),
  },
  { kind: 'ubl-invoice', label: 'E1 UBL 2.1 invoice', root: 'Invoice', ns: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2', schema: 'ubl-invoice', inArchives: true, read: structured(readUbl, 'UBL') },
  { kind: 'ubl-creditnote', label: 'E1 UBL 2.1 credit note', root: 'CreditNote', ns: 'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2', schema: 'ubl-creditnote', inArchives: true, read: structured(readUbl, 'UBL') },
  { kind: 'cii', label: 'E1 UN/CEFACT CII invoice, D16B or D22B (told apart by content)', root: 'CrossIndustryInvoice', ns: 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100', schema: 'cii', inArchives: true, read: structured(readCii, 'CII') },
];

export const BINARY_FORMATS: readonly BinaryFormat[] = [
  { kind: 'zip', label: 'A batch of E1 documents in a zip archive', magic: (h) => h[0] === 0x50 && h[1] === 0x4b && h[2] === 0x03 && h[3] === 0x04, channels: ['edi'], reader: 'archive', validatedBy: "each entry against its own format's schema" },
  { kind: 'tar.gz', label: 'A batch of E1 documents in a tar.gz archive', magic: (h) => h[0] === 0x1f && h[1] === 0x8b, channels: ['edi'], reader: 'archive', validatedBy: "each entry against its own format's schema" },
  { kind: 'facturx', label: 'E1 Factur-X / ZUGFeRD PDF (PDF/A-3 with the CII invoice embedded); also as an entry of an archive batch', magic: isPdf, channels: ['edi'], reader: 'facturx', validatedBy: "the embedded invoice against its profile's schema" },
  { kind: 'request', label: "An operator's request (factflow invoice status / complete); never accepted from the inbox", magic: (h) => h[0] === 0x7b, channels: ['operator'], reader: 'request', validatedBy: 'written by factflow itself' },
];

export const xmlFormatOf = (root: string, ns: string): XmlFormat | undefined => XML_FORMATS.find((f) => f.root === root && f.ns === ns);
export const binaryFormatOf = (head: Uint8Array): BinaryFormat | undefined => BINARY_FORMATS.find((f) => f.magic(head));
export const ARCHIVE_ENTRY_KINDS: readonly FlowKind[] = XML_FORMATS.filter((f) => f.inArchives).map((f) => f.kind);

