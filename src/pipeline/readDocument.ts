/** One XML document: recognized by its root (pipeline/formats), parsed once, validated, and read while parsed. */
import { flowError, type FlowError } from '../errors/catalog.js';
import { describeStart, looksLikeXml, type FlowKind } from '../detect/detect.js';
import { parseXml, type XNode } from '../xml/parse.js';
import { schema } from '../xml/schemas.js';
import { xmlFormatOf, type XmlFormat } from './formats.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; kind?: FlowKind; errors: FlowError[] };

/**
 * Recognizes an XML document by its root, parses it once, validates it against its format's
 * schema, and reads it with `use` while it is parsed.
 */
export function parseDocument<T>(bytes: Buffer, accept: readonly FlowKind[], use: (format: XmlFormat, root: XNode) => T): Parsed<T> {
  if (!looksLikeXml(bytes)) return { ok: false, errors: [flowError('FLOW_UNKNOWN_FORMAT', { found: describeStart(bytes) })] };
  let format: XmlFormat | undefined;
  const parsed = parseXml(bytes, (root, ns) => {
    const f = xmlFormatOf(root, ns);
    if (!f || !accept.includes(f.kind)) {
      const found = f ? `a ${f.root} document, not accepted here` : `an XML document with root element ${ns ? `{${ns}}` : ''}${root}`;
      return [flowError('FLOW_UNKNOWN_FORMAT', { found }, { line: 1 })];
    }
    format = f;
    return schema(f.schema);
  }, (root) => use(format!, root));
  return parsed.ok ? parsed : { ok: false, kind: format?.kind, errors: parsed.errors };
}
