/**
 * Parsing untrusted XML once, safely. libxml2 (WebAssembly) parses the bytes without
 * network access or entity substitution; any DOCTYPE is refused before parsing, so no
 * entity can be declared at all. The document is then optionally validated against a
 * compiled schema and copied into a small plain tree that keeps line numbers and element
 * paths, so later stages can say exactly where a problem is.
 */
import { ParseOption, XmlDocument, XmlElement, XmlLibError } from 'libxml2-wasm';
import { flowError, type FlowError } from '../errors/catalog.js';
import type { CompiledSchema } from './schemas.js';

export interface XNode {
  name: string;
  ns: string;
  attrs: Readonly<Record<string, string>>;
  /** Text of a leaf element; '' for elements that hold elements. */
  text: string;
  line: number;
  children: XNode[];
  parent?: XNode;
  /** Position among same-named siblings (1-based), 0 when the name is not repeated. */
  index: number;
}

/** XPath-like location, e.g. /CPPFactureMixte/CPPFactures/CPPFactureMixteUnitaire[2]; computed when an error needs it. */
export function pathOf(node: XNode): string {
  const steps: string[] = [];
  for (let n: XNode | undefined = node; n; n = n.parent) steps.push(n.index ? `${n.name}[${n.index}]` : n.name);
  return `/${steps.reverse().join('/')}`;
}

const NO_ATTRS: Readonly<Record<string, string>> = Object.freeze({});

export type ParseResult = { ok: true; root: XNode } | { ok: false; errors: FlowError[] };

// HUGE lifts libxml2's 10 MB text-node cap (base64 attachments exceed it); without a
// DOCTYPE no entity exists, so the amplification that cap protects against cannot happen.
const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_HUGE | ParseOption.XML_PARSE_BIG_LINES;

/**
 * What to validate a parsed document against, chosen from its root element: a compiled
 * schema, or coded errors when the root is not one the caller accepts.
 */
export type SchemaChoice = (root: string, ns: string) => CompiledSchema | FlowError[] | undefined;

/** Parse once, refuse DTDs, validate against the chosen schema, and return the plain tree. */
export function parseXml(bytes: Uint8Array, choose?: SchemaChoice, maxErrors = 20): ParseResult {
  const doctype = findDoctype(bytes);
  if (doctype) return { ok: false, errors: [flowError('XML_DOCTYPE_FORBIDDEN', {}, doctype)] };
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromBuffer(bytes, { option: PARSE_OPTIONS });
  } catch (e) {
    return { ok: false, errors: libxmlErrors(e, maxErrors, notWellFormed) };
  }
  try {
    const root = doc.root;
    const choice = choose?.(root.name, root.namespaceUri ?? '');
    if (Array.isArray(choice)) return { ok: false, errors: choice };
    if (choice) {
      const invalid = choice.check(doc, maxErrors);
      if (invalid.length) return { ok: false, errors: invalid };
    }
    return { ok: true, root: toTree(root, undefined, 0) };
  } finally {
    doc.dispose();
  }
}

const ENCODING_PROBLEM = /not proper UTF-8|encoding|Unsupported encoding|Char 0x[0-9A-F]+ out of allowed range|invalid character/i;

/** Bytes that are not text in the declared encoding get their own code: the fix is on the sender's side. */
function notWellFormed(d: Detail): FlowError {
  if (ENCODING_PROBLEM.test(d.message)) return flowError('XML_ENCODING', { encoding: 'the declared', detail: d.message }, d);
  return flowError('XML_NOT_WELL_FORMED', { detail: d.message }, d);
}

interface Detail {
  message: string;
  line?: number;
  column?: number;
  element?: string;
}

/** libxml2 errors as coded errors with line, column and element path. */
export function libxmlErrors(e: unknown, max: number, make: (d: Detail) => FlowError): FlowError[] {
  if (!(e instanceof XmlLibError)) throw e;
  const details = e.details.length ? e.details : [{ message: e.message, line: 0, col: 0, level: 2 }];
  return details.slice(0, max).map((d) =>
    make({
      message: d.message.trim(),
      ...(d.line ? { line: d.line } : {}),
      ...(d.col ? { column: d.col } : {}),
      ...(d.xpath ? { element: d.xpath } : {}),
    }),
  );
}

function toTree(el: XmlElement, parent: XNode | undefined, index: number): XNode {
  const elements: XmlElement[] = [];
  for (let c = el.firstChild; c; c = c.next) if (c instanceof XmlElement) elements.push(c);
  const attrs = el.attrs;
  const node: XNode = {
    name: el.name,
    ns: el.namespaceUri ?? '',
    attrs: attrs.length ? Object.fromEntries(attrs.map((a) => [a.name, a.value])) : NO_ATTRS,
    text: elements.length ? '' : el.content,
    line: el.line,
    children: [],
    parent,
    index,
  };
  const counts = new Map<string, number>();
  const names = elements.map((c) => c.name);
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  const seen = new Map<string, number>();
  elements.forEach((c, i) => {
    const name = names[i]!;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    node.children.push(toTree(c, node, counts.get(name)! > 1 ? n : 0));
  });
  return node;
}

/**
 * Finds a DOCTYPE in the prolog (it can only stand before the root element). Looks at the
 * bytes as Latin-1 so that any ASCII-compatible encoding is covered; UTF-16 is covered by
 * also looking for the UTF-16 spelling.
 */
export function findDoctype(bytes: Uint8Array): { line: number; column: number } | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64 * 1024));
  let text = head.toString('latin1');
  if (head[0] === 0xff || head[0] === 0xfe || (head[0] === 0 && head[1] === 0x3c) || (head[0] === 0x3c && head[1] === 0)) {
    text = text.replace(/\0/g, '');
  }
  // Skip the XML declaration, processing instructions, comments and white space.
  const prolog = /^(?:\uFEFF|\xEF\xBB\xBF|\xFF|\xFE)*(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*/.exec(text);
  const at = prolog ? prolog[0].length : 0;
  if (!/^<!DOCTYPE/i.test(text.slice(at, at + 9))) return undefined;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return { line, column: at - before.lastIndexOf('\n') };
}

/* Small helpers to read the plain tree. */
export const child = (n: XNode | undefined, name: string): XNode | undefined => n?.children.find((c) => c.name === name);
export const childrenNamed = (n: XNode | undefined, name: string): XNode[] => n?.children.filter((c) => c.name === name) ?? [];
export const textOf = (n: XNode | undefined, name: string): string | undefined => {
  const c = child(n, name);
  return c ? c.text.trim() : undefined;
};
/** Where a node is, for error locations; the path is only built if an error reads it. */
export const at = (n: XNode | undefined): { line?: number; element?: string } =>
  n
    ? {
        line: n.line,
        get element() {
          return pathOf(n);
        },
      }
    : {};
