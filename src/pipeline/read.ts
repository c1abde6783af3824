/**
 * Stages detect → parse → schema → map: from a flow's bytes to canonical invoices, or to
 * the coded errors that refuse the whole flow. Pure apart from the compiled schemas.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import type { Settings } from '../config.js';
import { archiveKindOf, describeStart, xmlKindOf, type FlowKind } from '../detect/detect.js';
import { readMixedFlow } from '../formats/mixed.js';
import type { Invoice } from '../model/invoice.js';
import { parseXml, type XNode } from '../xml/parse.js';
import { schema } from '../xml/schemas.js';

export interface ReadResult {
  kind?: FlowKind;
  invoices: Invoice[];
  /** Errors that refuse the whole flow. */
  errors: FlowError[];
  /** The parsed document, for flows that are not invoices (statuses). */
  root?: XNode;
}

const refused = (errors: FlowError[], kind?: FlowKind): ReadResult => ({ kind, invoices: [], errors });

export function readFlow(bytes: Buffer, settings: Settings): ReadResult {
  if (bytes.length === 0) return refused([flowError('FLOW_EMPTY')]);
  const archive = archiveKindOf(bytes);
  if (archive) return refused([flowError('FLOW_UNSUPPORTED_FORMAT', { kind: archive })], archive);

  let kind: FlowKind | undefined;
  const parsed = parseXml(bytes, (root, ns) => {
    const k = xmlKindOf(root, ns);
    if (!k) return [flowError('FLOW_UNKNOWN_FORMAT', { found: `an XML document with root element ${ns ? `{${ns}}` : ''}${root}` }, { line: 1 })];
    kind = k.kind;
    return schema(k.schema);
  });
  if (!parsed.ok) {
    const notXml = !kind && parsed.errors.every((e) => e.code === 'XML_NOT_WELL_FORMED') && !bytes.subarray(0, 256).toString('latin1').includes('<');
    return refused(notXml ? [flowError('FLOW_UNKNOWN_FORMAT', { found: describeStart(bytes) })] : parsed.errors, kind);
  }
  switch (kind) {
    case 'mixed': {
      const flow = readMixedFlow(parsed.root, settings.maxAttachmentBytes);
      return { kind, invoices: flow.errors.length ? [] : flow.invoices, errors: flow.errors };
    }
    case 'statut':
      return { kind, invoices: [], errors: [], root: parsed.root };
    default:
      return refused([flowError('FLOW_UNSUPPORTED_FORMAT', { kind })], kind);
  }
}
