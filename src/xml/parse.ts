/**
 * Parsing untrusted XML once, safely. libxml2 (WebAssembly) parses the bytes without
 * network access, external content (NO_XXE) or entity substitution; a document that has a
 * DTD node (DOCTYPE anywhere, internal subset or not) is refused from libxml2's own tree
 * before anything reads it, so no declared entity is ever used. The document is then
 * optionally validated against a compiled schema and read as a small lazy tree that keeps
 * line numbers and element paths, so later stages can say exactly where a problem is.
 */
import { ParseOption, XmlDocument, XmlLibError } from 'libxml2-wasm';
import { xmlGetIntSubset, XmlNodeSetStruct } from 'libxml2-wasm/lib/libxml2.mjs';
import { xmlTextEncoding } from '../detect/detect.js';
import { flowError, type FlowError } from '../errors/catalog.js';
import { doctypeLocation, elementLines } from './lines.js';
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

/** A node, or a step kept of one: its name, its index among same-named siblings, its parent. */
interface PathLink {
  readonly name: string;
  readonly index: number;
  readonly parent?: PathLink;
}

/** XPath-like location, e.g. /CPPFactureMixte/CPPFactures/CPPFactureMixteUnitaire[2]; computed when an error needs it. */
export function pathOf(node: PathLink): string {
  const steps: string[] = [];
  for (let n: PathLink | undefined = node; n; n = n.parent) steps.push(n.index ? `${n.name}[${n.index}]` : n.name);
  return `/${steps.reverse().join('/')}`;
}

const NO_ATTRS: Readonly<Record<string, string>> = Object.freeze({});

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: FlowError[] };

// HUGE lifts libxml2's 10 MB text-node cap (base64 attachments exceed it); entities are
// never substituted (no NOENT) and a document with a DTD is refused, so the amplification
// that cap protects against cannot happen. NO_XXE: no external subset or entity is loaded,
// even while the internal subset of a refused document is parsed.
// NOBLANKS drops the white space between elements, halving the nodes the tree walk visits.
const PARSE_OPTIONS =
  ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_HUGE | ParseOption.XML_PARSE_BIG_LINES | ParseOption.XML_PARSE_NOBLANKS;

/**
 * What to validate a parsed document against, chosen from its root element: a compiled
 * schema, or coded errors when the root is not one the caller accepts.
 */
export type SchemaChoice = (root: string, ns: string) => CompiledSchema | FlowError[] | undefined;

/**
 * Parse once, refuse DTDs, validate against the chosen schema, then hand the tree to `use`
 * while the document is alive. The tree is read from libxml2 lazily (only the parts `use`
 * looks at) and must not be kept: `use` returns plain values.
 */
/** How much memory libxml2's WebAssembly instance holds now (it grows with the largest document read, never shrinks). */
export const xmlEngineBytes = (): number => (XmlNodeSetStruct.nodeTable(0, 0).buffer as ArrayBuffer).byteLength;

export function parseXml<T>(bytes: Uint8Array, choose: SchemaChoice | undefined, use: (root: XNode) => T, maxErrors = 20, lineOf: (line: number) => number = (l) => l): ParseResult<T> {
  let doc: XmlDocument;
  // UTF-16 without a byte order mark (either byte order, XML 1.0 appendix F) is named to
  // libxml2, which would otherwise only guess it from an XML declaration.
  const encoding = xmlTextEncoding(bytes);
  try {
    doc = XmlDocument.fromBuffer(bytes, { option: PARSE_OPTIONS, ...(encoding?.bom === false ? { encoding: encoding.name } : {}) });
  } catch (e) {
    const errors = libxmlErrors(e, maxErrors, notWellFormed);
    // libxml2 gave up on an entity only a DTD can declare (billion laughs): its DOCTYPE is the reason.
    const declared = errors.find((x) => DECLARED_ENTITY_PROBLEM.test(x.message));
    if (declared) return { ok: false, errors: [flowError('XML_DOCTYPE_FORBIDDEN', {}, doctypeLocation(bytes, encoding?.name) ?? { line: declared.line })] };
    return { ok: false, errors };
  }
  const live: LiveDocument = { heap: new Heap(bytes, encoding?.name), alive: true, lineOf };
  try {
    // The parser's own verdict: any DOCTYPE gives the document a DTD node, wherever it was.
    // (Read as a raw pointer: a wrapper object would try to free the DTD with the document.)
    if (xmlGetIntSubset((doc as unknown as { _ptr: number })._ptr)) return { ok: false, errors: [flowError('XML_DOCTYPE_FORBIDDEN', {}, doctypeLocation(bytes, encoding?.name))] };
    const root = doc.root;
    const choice = choose?.(root.name, root.namespaceUri ?? '');
    if (Array.isArray(choice)) return { ok: false, errors: choice };
    if (choice) {
      const invalid = choice.check(doc, maxErrors);
      if (invalid.length) return { ok: false, errors: invalid };
    }
    const rootPtr = (root as unknown as { _nodePtr: number })._nodePtr;
    live.heap.root = rootPtr;
    return { ok: true, value: use(new LazyNode(rootPtr, live, undefined, 0, root.namespaceUri ?? '')) };
  } finally {
    live.alive = false;
    doc.dispose();
  }
}

/** A copy of the tree that outlives its document (for the small documents kept after parsing). */
export function materialize(n: XNode, parent?: XNode): XNode {
  const copy: XNode = { name: n.name, ns: n.ns, attrs: n.attrs, text: n.text, line: n.line, children: [], parent, index: n.index };
  copy.children = n.children.map((c) => materialize(c, copy));
  return copy;
}

/**
 * The WebAssembly heap holding libxml2's tree. Reading the node structs straight from it is
 * several times faster than going through libxml2-wasm's node objects (one JS object and one
 * call per field, a copy per text). The layout is libxml2's xmlNode on wasm32; libxml2-wasm is
 * pinned, and every test reads its trees through here. The heap's buffer is replaced when the
 * memory grows, so views are taken again when the old buffer is detached.
 */
/**
 * One string per distinct name and namespace URI for every document the process reads (and
 * for the rules' compiled node tests): equal names are then the same string, and comparing
 * them costs a pointer, not a walk along a 70-character namespace URI. Bounded (hostile
 * documents with endless names): past the bound a name is used as it is, which is only slower.
 */
const internedNames = new Map<string, string>();
export function intern(name: string): string {
  const known = internedNames.get(name);
  if (known !== undefined) return known;
  if (internedNames.size < 20_000) internedNames.set(name, name);
  return name;
}

class Heap {
  constructor(
    private readonly source: Uint8Array,
    private readonly encoding: string | undefined,
  ) {}
  private buffer = new ArrayBuffer(0);
  /** Real lines of elements, built on first need (documents past 65,535 lines only). */
  private bigLines?: Map<number, number>;
  root = 0;
  private i32 = new Int32Array(0);
  private u16 = new Uint16Array(0);
  private bytes = Buffer.alloc(0);
  /** Names are interned in the document's dictionary: one string per pointer. */
  private readonly names = new Map<number, string>();

  private fresh(): void {
    if (this.buffer.byteLength) return;
    // Any typed array libxml2-wasm hands out is a view of the whole heap.
    this.buffer = XmlNodeSetStruct.nodeTable(0, 0).buffer as ArrayBuffer;
    this.i32 = new Int32Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.bytes = Buffer.from(this.buffer);
  }

  ptr(at: number): number {
    this.fresh();
    return this.i32[at >> 2]!;
  }

  /**
   * libxml2 keeps an element's line in 16 bits (65,535 means "that or later"); past it, the
   * line is taken from the source, where the k-th start tag is the k-th element.
   */
  line(node: number): number {
    this.fresh();
    const short = this.u16[(node + NODE.line) >> 1]!;
    if (short < 0xffff) return short;
    this.bigLines ??= this.mapLines();
    return this.bigLines.get(node) ?? short;
  }

  private mapLines(): Map<number, number> {
    const lines = elementLines(this.source, this.encoding);
    const map = new Map<number, number>();
    // Elements in document order, depth first, without recursion (nesting can be deep).
    const stack: number[] = [this.root];
    let k = 0;
    while (stack.length) {
      const n = stack.pop()!;
      map.set(n, lines[k++] ?? 0xffff);
      this.fresh();
      const kids: number[] = [];
      for (let c = this.ptr(n + NODE.children); c; c = this.ptr(c + NODE.next)) if (this.ptr(c + NODE.type) === ELEMENT_NODE) kids.push(c);
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
    }
    return map;
  }

  /** A NUL-terminated UTF-8 string. */
  string(at: number): string {
    this.fresh();
    const end = this.bytes.indexOf(0, at);
    return this.bytes.toString('utf8', at, end);
  }

  /** The namespace URI of an element or attribute ('' when none). */
  nsOf(node: number): string {
    const ns = this.ptr(node + NODE.ns);
    if (!ns) return '';
    const at = this.ptr(ns + NS_HREF);
    let uri = this.names.get(at);
    if (uri === undefined) this.names.set(at, (uri = at ? intern(this.string(at)) : ''));
    return uri;
  }

  /** The prefix an element was written with ('' when none). */
  prefixOf(node: number): string {
    const ns = this.ptr(node + NODE.ns);
    const at = ns ? this.ptr(ns + NS_PREFIX) : 0;
    if (!at) return '';
    let prefix = this.names.get(at);
    if (prefix === undefined) this.names.set(at, (prefix = intern(this.string(at))));
    return prefix;
  }

  name(node: number): string {
    const at = this.ptr(node + NODE.name);
    let name = this.names.get(at);
    if (name === undefined) this.names.set(at, (name = intern(this.string(at))));
    return name;
  }

  /** The text of a node's text and CDATA children, as xmlNodeGetContent gives it. */
  text(node: number): string {
    let text = '';
    for (let c = this.ptr(node + NODE.children); c; c = this.ptr(c + NODE.next)) {
      const type = this.ptr(c + NODE.type);
      if (type === TEXT_NODE || type === CDATA_NODE) text += this.string(this.ptr(c + NODE.content));
    }
    return text;
  }
}

/** Offsets of xmlNode (and xmlAttr, which shares its head) fields on wasm32. */
const NODE = { type: 4, name: 8, children: 12, next: 24, ns: 36, content: 40, properties: 44, line: 56 } as const;
/** Offsets of xmlNs.href and xmlNs.prefix. */
const NS_HREF = 8;
const NS_PREFIX = 12;
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_NODE = 4;

/** A node whose children, text and attributes are read from libxml2's tree on first use. */
class LazyNode implements XNode {
  readonly name: string;
  readonly line: number;
  private kids?: XNode[];
  private content?: string;
  private attributes?: Readonly<Record<string, string>>;

  constructor(
    private readonly ptr: number,
    private readonly doc: LiveDocument,
    readonly parent: XNode | undefined,
    /** Mutable: a document read in parts renumbers the part it holds (see formats/mixedChunks). */
    public index: number,
    readonly ns: string,
  ) {
    this.name = doc.heap.name(ptr);
    this.line = doc.lineOf(doc.heap.line(ptr));
  }

  private heap(): Heap {
    if (!this.doc.alive) throw new Error(`XML node ${this.name} used after its document was released`);
    return this.doc.heap;
  }

  get children(): XNode[] {
    if (this.kids) return this.kids;
    const heap = this.heap();
    const elements: number[] = [];
    for (let c = heap.ptr(this.ptr + NODE.children); c; c = heap.ptr(c + NODE.next)) if (heap.ptr(c + NODE.type) === ELEMENT_NODE) elements.push(c);
    const names = elements.map((c) => heap.name(c));
    const counts = new Map<string, number>();
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
    const seen = new Map<string, number>();
    this.kids = elements.map((c, i) => {
      const name = names[i]!;
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      // Only the root's namespace decides anything (detection); children are matched by name.
      return new LazyNode(c, this.doc, this, counts.get(name)! > 1 ? n : 0, '');
    });
    return this.kids;
  }

  walk(visit: RawVisitor): void {
    const heap = this.heap();
    const lineOf = this.doc.lineOf;
    const element = (p: number): void => {
      visit.element(heap.name(p), heap.nsOf(p), heap.prefixOf(p), lineOf(heap.line(p)));
      for (let a = heap.ptr(p + NODE.properties); a; a = heap.ptr(a + NODE.next)) visit.attr(heap.name(a), heap.nsOf(a), heap.text(a));
      for (let c = heap.ptr(p + NODE.children); c; c = heap.ptr(c + NODE.next)) {
        const type = heap.ptr(c + NODE.type);
        if (type === ELEMENT_NODE) element(c);
        else if (type === TEXT_NODE || type === CDATA_NODE) visit.text(heap.string(heap.ptr(c + NODE.content)));
      }
      visit.leave();
    };
    element(this.ptr);
  }

  get text(): string {
    if (this.content === undefined) this.content = this.children.length === 0 ? this.heap().text(this.ptr) : '';
    return this.content;
  }

  get attrs(): Readonly<Record<string, string>> {
    if (!this.attributes) {
      const heap = this.heap();
      let attrs: Record<string, string> | undefined;
      for (let a = heap.ptr(this.ptr + NODE.properties); a; a = heap.ptr(a + NODE.next)) (attrs ??= {})[heap.name(a)] = heap.text(a);
      this.attributes = attrs ?? NO_ATTRS;
    }
    return this.attributes;
  }
}

/** What walkRaw reports, in document order: elements (with their attributes, then content), texts. */
export interface RawVisitor {
  element(name: string, ns: string, prefix: string, line: number): void;
  attr(name: string, ns: string, value: string): void;
  text(value: string): void;
  /** The end of the element last opened. */
  leave(): void;
}

/**
 * libxml2's full tree under a node this module handed out (every element with its namespace,
 * namespaced attributes and text nodes), for the official rules' XPath: read from the same
 * parsed document while it is alive, never a second parse. False when the node is not one of
 * this module's live nodes (a materialized copy).
 */
export function walkRaw(node: XNode, visit: RawVisitor): boolean {
  if (!(node instanceof LazyNode)) return false;
  node.walk(visit);
  return true;
}

interface LiveDocument {
  heap: Heap;
  alive: boolean;
  lineOf: (line: number) => number;
}

/**
 * Fatal errors libxml2 raises only about entities declared in a DTD (predefined and
 * character references are never amplified, looped or parameter entities): the document
 * that gets one had a DOCTYPE, even though no tree is left to show its DTD node.
 */
const DECLARED_ENTITY_PROBLEM = /entity amplification factor exceeded|entity reference loop|PEReference/i;

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
  // Anything else libxml2-wasm throws on hostile input (an internal error) is still about
  // the document, never a system fault that would keep the flow retrying.
  if (!(e instanceof XmlLibError)) return [make({ message: e instanceof Error ? e.message : String(e) })];
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

/* Small helpers to read the plain tree. */
export const child = (n: XNode | undefined, name: string): XNode | undefined => n?.children.find((c) => c.name === name);
/** The node at a path of child names, e.g. descend(party, 'PostalAddress', 'Country'). */
export const descend = (n: XNode | undefined, ...names: string[]): XNode | undefined => names.reduce<XNode | undefined>((acc, name) => child(acc, name), n);
export const childrenNamed = (n: XNode | undefined, name: string): XNode[] => n?.children.filter((c) => c.name === name) ?? [];
export const textOf = (n: XNode | undefined, name: string): string | undefined => {
  const c = child(n, name);
  return c ? c.text.trim() : undefined;
};
/** Steps kept for the nodes of a tree being read (not the nodes), so that the fields of one invoice share their path. */
const stepOfNode = new WeakMap<XNode, PathLink>();
function stepOf(n: XNode): PathLink {
  let step = stepOfNode.get(n);
  if (!step) stepOfNode.set(n, (step = { name: n.name, index: n.index, parent: n.parent && stepOf(n.parent) }));
  return step;
}

const STEP = Symbol('path step');
/** One getter for every location: the path string is built only when an error reads it. */
function elementOfStep(this: { [STEP]: PathLink }): string {
  return pathOf(this[STEP]);
}

/**
 * Where a node is, for error locations. Only the steps of its path are kept (not the node,
 * which would keep its whole tree alive), shared with the other locations of the same tree,
 * and the getter is one function for all: an invoice holds a location per field it read.
 */
export function at(n: XNode | undefined): { line?: number; element?: string } {
  if (!n) return {};
  const where = { line: n.line } as { line: number; element?: string };
  Object.defineProperty(where, STEP, { value: stepOf(n) });
  Object.defineProperty(where, 'element', { get: elementOfStep, enumerable: true });
  return where;
}
