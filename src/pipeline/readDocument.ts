/** One XML document: detected by its root, parsed once, validated, and mapped while parsed. */
import { flowError, type FlowError } from '../errors/catalog.js';
import { describeStart, looksLikeXml, xmlKindOf, type FlowKind } from '../detect/detect.js';
import { readCii } from '../formats/cii.js';
import { readUbl } from '../formats/ubl.js';
import type { Invoice } from '../model/invoice.js';
import { parseXml, type XNode } from '../xml/parse.js';
import { schema } from '../xml/schemas.js';

export const STRUCTURED: readonly FlowKind[] = ['ubl-invoice', 'ubl-creditnote', 'cii'];

export type Parsed<T> = { ok: true; value: T } | { ok: false; kind?: FlowKind; errors: FlowError[] };

/**
 * Detects an XML document by its root, parses it once, validates it against its schema, and
 * maps it with `use` while it is parsed.
 */
export function parseDocument<T>(bytes: Buffer, accept: readonly FlowKind[], use: (kind: FlowKind, root: XNode) => T): Parsed<T> {
  if (!looksLikeXml(bytes)) return { ok: false, errors: [flowError('FLOW_UNKNOWN_FORMAT', { found: describeStart(bytes) })] };
  let kind: FlowKind | undefined;
  const parsed = parseXml(bytes, (root, ns) => {
    const k = xmlKindOf(root, ns);
    if (!k || !accept.includes(k.kind)) {
      const found = k ? `a ${k.root} document, not accepted here` : `an XML document with root element ${ns ? `{${ns}}` : ''}${root}`;
      return [flowError('FLOW_UNKNOWN_FORMAT', { found }, { line: 1 })];
    }
    kind = k.kind;
    return schema(k.schema);
  }, (root) => use(kind!, root));
  return parsed.ok ? parsed : { ok: false, kind, errors: parsed.errors };
}

export function mapStructured(kind: FlowKind, root: XNode, bytes: Buffer, position: number, label: string, maxAttachmentBytes: number): Invoice {
  return kind === 'cii'
    ? readCii(root, bytes, position, label, maxAttachmentBytes)
    : readUbl(root, bytes, position, label, maxAttachmentBytes);
}
