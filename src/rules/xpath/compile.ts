/**
 * XPath syntax tree → JavaScript closures, compiled once per process. Names are resolved
 * when compiling (prefixes, variables, functions, arities, literal regular expressions), so
 * a construct outside the supported subset fails the compilation instead of passing silently.
 */
import { type Ast, type Axis, type NodeTest, parseXPath, type SeqType } from './parser.js';
import { intern } from '../../xml/parse.js';
import { ATTRIBUTE, DOCUMENT, ELEMENT, RNode, TEXT } from './tree.js';
import {
  type Atomic,
  atomicString,
  atomize,
  compareAtomic,
  Dec,
  type Decimal,
  ebv,
  generalCompare,
  type CompOp,
  isDecimal,
  isNumeric,
  type Item,
  itemString,
  type Seq,
  testComparison,
  toBoolean,
  toDate,
  toDecimal,
  toDouble,
  toInteger,
  Untyped,
  XDate,
  XPathError,
} from './values.js';

export const XS = 'http://www.w3.org/2001/XMLSchema';

/** What an expression runs against. */
export interface Ctx {
  item: Item | undefined;
  pos: number;
  size: number;
  frame: Frame;
  doc: DocState;
}

/** Variables of one rule firing or one function call; `rule` evaluates the lazy lets. */
export interface Frame {
  vals: (Seq | undefined)[];
  rule: Ctx | undefined;
}

/** Per document: the lazily evaluated global variables and the documents document() reads. */
export interface DocState {
  root: RNode;
  /** Results of absolute paths that depend on nothing but the document, by path id (computed once per document). */
  cache: (Seq | undefined)[];
  globals: (Seq | undefined)[];
  globalCtx: Ctx | undefined;
  load(uri: string): RNode;
}

export type Fn = (c: Ctx) => Seq;

type Binding = { kind: 'slot'; slot: number } | { kind: 'lazy'; slot: number; fn: Fn } | { kind: 'global'; index: number; fn: Fn };

/** An xsl:function: typed parameters, local variables, one result expression. */
export interface UserFunction {
  name: string;
  params: { name: string; as?: string }[];
  variables: { name: string; select: string }[];
  select: string;
}

export class XPathCompileError extends Error {}

/** The static context shared by the expressions of one rule set. */
export class StaticContext {
  private readonly compiled = new Map<string, { arity: number; call: (args: Seq[], c: Ctx) => Seq }>();
  private readonly globals: { name: string; fn: Fn }[] = [];
  constructor(
    readonly namespaces: Record<string, string>,
    private readonly functions: UserFunction[] = [],
  ) {}

  /** Schema-level lets, in order; each may use the ones before it. */
  addGlobal(name: string, value: string): void {
    const scope = new Scope(this, this.globalBindings(), { n: 0 });
    const fn = compileAst(parseChecked(value), scope);
    this.globals.push({ name, fn: withFrame(fn, scope.slots.n) });
  }

  globalCount(): number {
    return this.globals.length;
  }

  globalBindings(): Map<string, Binding> {
    const m = new Map<string, Binding>();
    this.globals.forEach((g, index) => m.set(g.name, { kind: 'global', index, fn: g.fn }));
    return m;
  }

  userFunction(name: string, arity: number): ((args: Seq[], c: Ctx) => Seq) | undefined {
    const key = `${name}#${arity}`;
    const done = this.compiled.get(key);
    if (done) return done.call;
    const def = this.functions.find((f) => f.name === name && f.params.length === arity);
    if (!def) return undefined;
    // Registered before compiling the body, so a recursive call finds it.
    const entry = { arity, call: (_a: Seq[], _c: Ctx): Seq => [] };
    this.compiled.set(key, entry);
    const bindings = this.globalBindings();
    const slots = { n: 0 };
    const params = def.params.map((p) => ({ slot: slots.n++, convert: converter(p.as, `parameter $${p.name} of ${name}`) }));
    def.params.forEach((p, i) => bindings.set(p.name, { kind: 'slot', slot: params[i]!.slot }));
    const scope = new Scope(this, bindings, slots);
    for (const v of def.variables) {
      const fn = compileAst(parseChecked(v.select), scope);
      bindings.set(v.name, { kind: 'lazy', slot: slots.n++, fn });
    }
    const body = compileAst(parseChecked(def.select), scope);
    entry.call = (args, c) => {
      const frame: Frame = { vals: new Array(slots.n), rule: undefined };
      const inner: Ctx = { item: undefined, pos: 0, size: 0, frame, doc: c.doc };
      frame.rule = inner;
      for (let i = 0; i < params.length; i++) frame.vals[params[i]!.slot] = params[i]!.convert(args[i]!);
      return body(inner);
    };
    return entry.call;
  }

  global(index: number, c: Ctx): Seq {
    const d = c.doc;
    let v = d.globals[index];
    if (v === undefined) {
      d.globalCtx ??= { item: d.root, pos: 1, size: 1, frame: { vals: [], rule: undefined }, doc: d };
      v = d.globals[index] = this.globals[index]!.fn(d.globalCtx);
    }
    return v;
  }
}

/** Runs `fn` in a frame of its own (a global's range variables must not touch the caller's). */
function withFrame(fn: Fn, size: number): Fn {
  return (c) => fn({ ...c, frame: { vals: new Array(size), rule: c } });
}

export class Scope {
  constructor(
    readonly sc: StaticContext,
    readonly vars: Map<string, Binding>,
    readonly slots: { n: number },
    readonly noCache = false,
  ) {}
  child(): Scope {
    return new Scope(this.sc, new Map(this.vars), this.slots, this.noCache);
  }
  uncached(): Scope {
    return new Scope(this.sc, this.vars, this.slots, true);
  }
}

const cacheIds = new Map<string, number>();

/** A predicate whose value is a boolean or nodes, never a number: it cannot select by position. */
export function neverPositional(p: Ast): boolean {
  if (p.t === 'bin') return ['=', '!=', '<', '<=', '>', '>=', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'is', '|'].includes(p.op);
  if (p.t === 'call') return ['not', 'exists', 'empty', 'boolean', 'true', 'false', 'contains', 'starts-with', 'ends-with', 'matches'].includes(p.name);
  if (p.t === 'step') return true;
  if (p.t === 'path') {
    const last = p.rest[p.rest.length - 1]!.step;
    return last.t === 'step';
  }
  return false;
}

/** An absolute path without variables or focus-dependent calls outside its own predicates. */
function dependsOnDocumentOnly(ast: Ast): boolean {
  let ok = true;
  const visit = (a: Ast, top: boolean): void => {
    if (!ok) return;
    switch (a.t) {
      case 'var':
        ok = false;
        return;
      case 'call':
        if (top && ['position', 'last', 'current-date'].includes(a.name)) ok = false;
        if (a.name === 'current-date') ok = false;
        a.args.forEach((x) => visit(x, top));
        return;
      case 'path':
        visit(a.first, top);
        for (const r of a.rest) visit(r.step, false);
        return;
      case 'step':
        a.preds.forEach((x) => visit(x, false));
        return;
      case 'filter':
        visit(a.base, top);
        a.preds.forEach((x) => visit(x, false));
        return;
      case 'seq':
        a.items.forEach((x) => visit(x, top));
        return;
      case 'bin':
        visit(a.l, top);
        visit(a.r, top);
        return;
      case 'neg':
      case 'cast':
      case 'instance':
        visit(a.e, top);
        return;
      case 'if':
        visit(a.c, top);
        visit(a.a, top);
        visit(a.b, top);
        return;
      case 'quant':
        ok = false;
        return;
      default:
        return;
    }
  };
  visit(ast, true);
  return ok;
}

function parseChecked(src: string): Ast {
  try {
    return parseXPath(src);
  } catch (e) {
    throw new XPathCompileError((e as Error).message);
  }
}

/** Compiles the test of an assert or report (its rule's lets bound in `scope`): true or false. */
export function compileTest(src: string, scope: Scope): (c: Ctx) => boolean {
  return compileCondition(parseChecked(src), scope);
}

/** A rule's lets: lazily evaluated at the rule's context node, as XSLT variables are. */
export function bindLet(scope: Scope, name: string, value: string): void {
  const fn = compileAst(parseChecked(value), scope);
  scope.vars.set(name, { kind: 'lazy', slot: scope.slots.n++, fn });
}

// ---------------------------------------------------------------- conversions

function singleAtomic(s: Seq, what: string): Atomic | undefined {
  if (s.length === 0) return undefined;
  if (s.length > 1) throw new XPathError('XPTY0004', `required cardinality of ${what} is zero or one (got ${s.length} items)`);
  return atomize(s[0]!);
}

/** An xs:string? argument: empty → '', text kept, anything else a type error. */
function stringArg(s: Seq, what: string): string {
  if (s.length === 1 && s[0] instanceof RNode) return s[0].string();
  const a = singleAtomic(s, what);
  if (a === undefined) return '';
  if (typeof a === 'string') return a;
  if (a instanceof Untyped) return a.s;
  throw new XPathError('XPTY0004', `required item type of ${what} is xs:string`);
}

/** A numeric? argument: untypedAtomic becomes xs:double. */
function numericArg(s: Seq, what: string): number | Decimal | undefined {
  const a = singleAtomic(s, what);
  if (a === undefined) return undefined;
  if (a instanceof Untyped) return toDouble(a);
  if (!isNumeric(a)) throw new XPathError('XPTY0004', `required item type of ${what} is numeric`);
  return a;
}

function doubleArg(s: Seq, what: string): number {
  const a = singleAtomic(s, what);
  if (a === undefined) throw new XPathError('XPTY0004', `empty ${what}`);
  if (a instanceof Untyped) return toDouble(a);
  if (!isNumeric(a)) throw new XPathError('XPTY0004', `required item type of ${what} is xs:double`);
  return toDouble(a);
}

/** Function conversion rules for an xsl:param's `as` type. */
function converter(as: string | undefined, what: string): (s: Seq) => Seq {
  if (!as) return (s) => s;
  const m = /^(.*?)([?*+]?)$/.exec(as.trim())!;
  const type = m[1]!.trim();
  const occ = m[2]!;
  const card = (s: Seq): void => {
    if ((occ === '' || occ === '+') && s.length === 0) throw new XPathError('XPTY0004', `empty sequence for ${what}`);
    if ((occ === '' || occ === '?') && s.length > 1) throw new XPathError('XPTY0004', `required cardinality of ${what} is zero or one`);
  };
  if (/^(item\(\)|node\(\)|element\(\)|element\(\*\))$/.test(type)) return (s) => (card(s), s);
  const cast: Record<string, (a: Atomic) => Atomic> = {
    'xs:string': (a) => {
      if (a instanceof Untyped) return a.s;
      if (typeof a === 'string') return a;
      throw new XPathError('XPTY0004', `required item type of ${what} is xs:string`);
    },
    'xs:decimal': (a) => {
      if (a instanceof Untyped) return toDecimal(a);
      if (isDecimal(a)) return a;
      throw new XPathError('XPTY0004', `required item type of ${what} is xs:decimal`);
    },
    'xs:boolean': (a) => {
      if (a instanceof Untyped) return toBoolean(a);
      if (typeof a === 'boolean') return a;
      throw new XPathError('XPTY0004', `required item type of ${what} is xs:boolean`);
    },
    'xs:anyAtomicType': (a) => a,
  };
  const c = cast[type];
  if (!c) throw new XPathCompileError(`unsupported type ${as} for ${what}`);
  return (s) => {
    card(s);
    return s.map((i) => c(atomize(i)));
  };
}

// ---------------------------------------------------------------- node helpers

function sortNodes(nodes: RNode[]): RNode[] {
  for (let i = 1; i < nodes.length; i++) {
    if (nodes[i]!.order <= nodes[i - 1]!.order) {
      const sorted = nodes.slice().sort((a, b) => a.order - b.order);
      return sorted.filter((n, j) => j === 0 || n !== sorted[j - 1]);
    }
  }
  return nodes;
}

export function nodeTestFn(test: NodeTest, axis: Axis, ns: Record<string, string>): (n: RNode) => boolean {
  const principal = axis === 'attribute' ? ATTRIBUTE : ELEMENT;
  if (test.t === 'kind') {
    switch (test.kind) {
      case 'node':
        return () => true;
      case 'text':
        return (n) => n.kind === TEXT;
      case 'document-node':
        return (n) => n.kind === DOCUMENT;
      case 'element':
      case 'attribute': {
        const kind = test.kind === 'element' ? ELEMENT : ATTRIBUTE;
        if (!test.name) return (n) => n.kind === kind;
        const t = nodeTestFn(nameTest(test.name), axis, ns);
        return (n) => n.kind === kind && t(n);
      }
    }
  }
  const uri = test.prefix === '*' ? '*' : uriOf(test.prefix, ns);
  const local = intern(test.local);
  if (local === '*' && uri === '*') return (n) => n.kind === principal;
  if (local === '*') return test.prefix === null ? (n) => n.kind === principal : (n) => n.kind === principal && n.ns === uri;
  if (uri === '*') return (n) => n.kind === principal && n.local === local;
  return (n) => n.local === local && n.ns === uri && n.kind === principal;
}

/** The namespace URI a prefix of the rule set stands for, interned (null: no prefix). */
function uriOf(prefix: string | null, ns: Record<string, string>): string {
  const uri = prefix === null ? '' : ns[prefix];
  if (uri === undefined) throw new XPathCompileError(`unknown namespace prefix ${prefix}`);
  return intern(uri);
}

/**
 * The element children of n with a local name and namespace. Many children (a document's root,
 * a party) are looked up by name, the list shared when all are in that namespace; few are scanned.
 */
function childrenIn(n: RNode, local: string, uri: string): RNode[] {
  if (n.elems.length > 3) {
    const named = n.childrenNamed(local);
    return named.every((k) => k.ns === uri) ? named : named.filter((k) => k.ns === uri);
  }
  let out: RNode[] | undefined;
  for (const k of n.elems) if (k.local === local && k.ns === uri) (out ??= []).push(k);
  return out ?? NONE;
}

function nameTest(q: string): NodeTest {
  const i = q.indexOf(':');
  return i < 0 ? { t: 'name', prefix: null, local: q } : { t: 'name', prefix: q.slice(0, i), local: q.slice(i + 1) };
}

function documentOf(n: RNode): RNode {
  let r = n;
  while (r.parent) r = r.parent;
  return r;
}

const allNodes = new WeakMap<RNode, RNode[]>();
/** Every element and text node of a document in document order (for following:: and preceding::). */
function flat(doc: RNode): RNode[] {
  let list = allNodes.get(doc);
  if (!list) {
    list = [];
    const walk = (n: RNode): void => {
      for (const k of n.kids) {
        list!.push(k);
        if (k.kind === ELEMENT) walk(k);
      }
    };
    walk(doc);
    allNodes.set(doc, list);
  }
  return list;
}

const nameIndexes = new WeakMap<RNode, { elems: Map<string, RNode[]>; attrs: Map<string, RNode[]> }>();
/** A document's elements and attributes by local name, each list in document order (built on first use). */
function nameIndex(doc: RNode): { elems: Map<string, RNode[]>; attrs: Map<string, RNode[]> } {
  let index = nameIndexes.get(doc);
  if (!index) {
    const elems = new Map<string, RNode[]>();
    const attrs = new Map<string, RNode[]>();
    const add = (m: Map<string, RNode[]>, n: RNode): void => {
      const l = m.get(n.local);
      if (l) l.push(n);
      else m.set(n.local, [n]);
    };
    const walk = (n: RNode): void => {
      for (const a of n.attrs) add(attrs, a);
      for (const k of n.elems) {
        add(elems, k);
        walk(k);
      }
    };
    walk(doc);
    nameIndexes.set(doc, (index = { elems, attrs }));
  }
  return index;
}

/**
 * The nodes named `local` (from the document's name index) inside n: n's attributes and
 * descendants, whose document orders are the range after n's up to n.end. Undefined when n's
 * extent is unknown (documents not built by treeOf), so the caller walks instead.
 */
function namedWithin(n: RNode, local: string, attributes: boolean): RNode[] | undefined {
  if (n.end < 0 || (n.kind !== ELEMENT && n.kind !== DOCUMENT)) return undefined;
  const index = nameIndex(documentOf(n));
  const list = (attributes ? index.attrs : index.elems).get(local);
  if (!list) return [];
  if (n.kind === DOCUMENT) return list;
  // First node after n (binary search), then up to n.end.
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.order <= n.order) lo = mid + 1;
    else hi = mid;
  }
  let i = lo;
  while (i < list.length && list[i]!.order <= n.end) i++;
  return lo === 0 && i === list.length ? list : list.slice(lo, i);
}

/** The nodes of an axis that pass the test, in axis order (reverse axes nearest first). */
function axisNodes(axis: Axis, n: RNode, test: (n: RNode) => boolean, out: RNode[]): void {
  switch (axis) {
    case 'child':
      for (const k of n.kids) if (test(k)) out.push(k);
      return;
    case 'attribute':
      for (const a of n.attrs) if (test(a)) out.push(a);
      return;
    case 'self':
      if (test(n)) out.push(n);
      return;
    case 'parent':
      if (n.parent && test(n.parent)) out.push(n.parent);
      return;
    case 'descendant-or-self':
    case 'descendant': {
      if (axis === 'descendant-or-self' && test(n)) out.push(n);
      const walk = (x: RNode): void => {
        for (const k of x.kids) {
          if (test(k)) out.push(k);
          if (k.kids.length) walk(k);
        }
      };
      walk(n);
      return;
    }
    case 'ancestor-or-self':
    case 'ancestor':
      if (axis === 'ancestor-or-self' && test(n)) out.push(n);
      for (let p = n.parent; p; p = p.parent) if (test(p)) out.push(p);
      return;
    case 'following-sibling':
    case 'preceding-sibling': {
      if (!n.parent || n.kind === ATTRIBUTE) return;
      const sibs = n.parent.kids;
      const i = sibs.indexOf(n);
      if (axis === 'following-sibling') for (let j = i + 1; j < sibs.length; j++) test(sibs[j]!) && out.push(sibs[j]!);
      else for (let j = i - 1; j >= 0; j--) test(sibs[j]!) && out.push(sibs[j]!);
      return;
    }
    case 'following':
    case 'preceding': {
      const all = flat(documentOf(n));
      const anchor = n.kind === ATTRIBUTE ? n.parent! : n;
      if (axis === 'following') {
        // After the node and all its descendants.
        let last = anchor;
        while (last.kids.length) last = last.kids[last.kids.length - 1]!;
        const end = n.kind === ATTRIBUTE ? anchor.order : last.order;
        for (const x of all) if (x.order > end && test(x)) out.push(x);
      } else {
        const ancestors = new Set<RNode>();
        for (let p = anchor.parent; p; p = p.parent) ancestors.add(p);
        for (let j = all.length - 1; j >= 0; j--) {
          const x = all[j]!;
          if (x.order < anchor.order && !ancestors.has(x) && test(x)) out.push(x);
        }
      }
      return;
    }
  }
}

/** The empty result steps share (results are never mutated by their callers). */
const NONE: RNode[] = [];

const UNNORMAL_SPACE = /[\t\r\n]| {2}|^ | $/;

const REVERSE = new Set<Axis>(['parent', 'ancestor', 'ancestor-or-self', 'preceding-sibling', 'preceding']);

// ---------------------------------------------------------------- predicates

type Pred = (items: Item[], c: Ctx) => Item[];

export function compilePredicate(ast: Ast, scope: Scope): Pred {
  if (ast.t === 'literal' && ast.kind !== 'string') {
    const k = Number(ast.text);
    return (items) => (Number.isInteger(k) && k >= 1 && k <= items.length ? [items[k - 1]!] : []);
  }
  if (neverPositional(ast)) {
    // A condition: the items passing it, the same list when all do.
    const test = compileCondition(ast, scope);
    return (items, c) => {
      const sub: Ctx = { item: undefined, pos: 0, size: items.length, frame: c.frame, doc: c.doc };
      let out: Item[] | undefined;
      for (let i = 0; i < items.length; i++) {
        sub.item = items[i];
        sub.pos = i + 1;
        if (test(sub)) out?.push(items[i]!);
        else out ??= items.slice(0, i);
      }
      return out ?? items;
    };
  }
  const fn = compileAst(ast, scope);
  return (items, c) => {
    const out: Item[] = [];
    const sub: Ctx = { item: undefined, pos: 0, size: items.length, frame: c.frame, doc: c.doc };
    for (let i = 0; i < items.length; i++) {
      sub.item = items[i];
      sub.pos = i + 1;
      const r = fn(sub);
      if (r.length === 1 && isNumeric(r[0])) {
        const v = r[0] as number | Decimal;
        if (typeof v === 'number' ? v === i + 1 : v.eq(i + 1)) out.push(items[i]!);
      } else if (ebv(r)) out.push(items[i]!);
    }
    return out;
  };
}

// ---------------------------------------------------------------- arithmetic

function arithmetic(op: string, a: Atomic, b: Atomic): Atomic {
  const x = a instanceof Untyped ? toDouble(a) : a;
  const y = b instanceof Untyped ? toDouble(b) : b;
  if (!isNumeric(x)) throw new XPathError('XPTY0004', `required item type of first operand of '${op}' is numeric`);
  if (!isNumeric(y)) throw new XPathError('XPTY0004', `required item type of second operand of '${op}' is numeric`);
  if (typeof x === 'number' || typeof y === 'number') {
    const p = toDouble(x);
    const q = toDouble(y);
    switch (op) {
      case '+':
        return p + q;
      case '-':
        return p - q;
      case '*':
        return p * q;
      case 'div':
        return p / q;
      case 'mod':
        return p % q;
      default: {
        if (q === 0 || !Number.isFinite(p)) throw new XPathError('FOAR0001', 'integer division by zero');
        return new Dec(Math.trunc(p / q));
      }
    }
  }
  switch (op) {
    case '+':
      return x.plus(y);
    case '-':
      return x.minus(y);
    case '*':
      return x.times(y);
    case 'div':
      if (y.eq(0)) throw new XPathError('FOAR0001', 'division by zero');
      return x.div(y);
    case 'mod':
      if (y.eq(0)) throw new XPathError('FOAR0001', 'division by zero');
      return x.mod(y);
    default:
      if (y.eq(0)) throw new XPathError('FOAR0001', 'integer division by zero');
      return x.div(y).round(0, 0);
  }
}

function floorDec(x: Decimal): Decimal {
  const t = x.round(0, 0);
  return t.gt(x) ? t.minus(1) : t;
}

// ---------------------------------------------------------------- functions

const regexCache = new Map<string, RegExp>();
function regex(pattern: string, flags: string, global = false): RegExp {
  const key = `${flags}\u0000${global}\u0000${pattern}`;
  let r = regexCache.get(key);
  if (!r) {
    if (/\\[pPiIcC]|\[[^\]]*-\[/.test(pattern)) throw new XPathError('FORX0002', `unsupported regular expression construct in ${pattern}`);
    let src = pattern;
    if (flags.includes('x')) src = src.replace(/\s+/g, '');
    const js = (flags.includes('i') ? 'i' : '') + (flags.includes('m') ? 'm' : '') + (flags.includes('s') ? 's' : '') + (global ? 'g' : '');
    try {
      r = new RegExp(src, js);
    } catch (e) {
      throw new XPathError('FORX0002', (e as Error).message);
    }
    regexCache.set(key, r);
  }
  r.lastIndex = 0;
  return r;
}

function replacement(rep: string): (m: string, ...groups: unknown[]) => string {
  return (m, ...rest) => {
    let out = '';
    for (let i = 0; i < rep.length; i++) {
      const ch = rep[i]!;
      if (ch === '\\' && (rep[i + 1] === '\\' || rep[i + 1] === '$')) out += rep[++i];
      else if (ch === '$' && /\d/.test(rep[i + 1] ?? '')) {
        const g = Number(rep[++i]);
        out += g === 0 ? m : ((rest[g - 1] as string | undefined) ?? '');
      } else out += ch;
    }
    return out;
  };
}

function dedupeAtomics(items: Atomic[]): Atomic[] {
  const out: Atomic[] = [];
  for (const a of items) {
    const v = a instanceof Untyped ? a.s : a;
    if (!out.some((b) => sameValue(b, v))) out.push(v);
  }
  return out;
}

function sameValue(a: Atomic, b: Atomic): boolean {
  try {
    const c = compareAtomic(a, b);
    return c === 0 || (Number.isNaN(c) && typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
  } catch {
    return false;
  }
}

type Builtin = { min: number; max: number; fn: (args: Seq[], c: Ctx) => Seq };
const contextItem = (c: Ctx): Item => {
  if (c.item === undefined) throw new XPathError('XPDY0002', 'the context item is absent');
  return c.item;
};
const one = (x: Item): Seq => [x];
const TRUE: Seq = [true];
const FALSE: Seq = [false];
const bool = (b: boolean): Seq => (b ? TRUE : FALSE);

function roundNumeric(v: number | Decimal, how: 'round' | 'floor' | 'ceiling' | 'abs'): number | Decimal {
  if (typeof v === 'number') return how === 'round' ? Math.round(v) : how === 'floor' ? Math.floor(v) : how === 'ceiling' ? Math.ceil(v) : Math.abs(v);
  if (how === 'abs') return v.abs();
  if (how === 'floor') return floorDec(v);
  if (how === 'ceiling') return floorDec(v).eq(v) ? v : floorDec(v).plus(1);
  return floorDec(v.plus('0.5'));
}

const BUILTINS: Record<string, Builtin> = {
  'true': { min: 0, max: 0, fn: () => TRUE },
  'false': { min: 0, max: 0, fn: () => FALSE },
  'not': { min: 1, max: 1, fn: ([a]) => bool(!ebv(a!)) },
  'boolean': { min: 1, max: 1, fn: ([a]) => bool(ebv(a!)) },
  'count': { min: 1, max: 1, fn: ([a]) => one(new Dec(a!.length)) },
  'exists': { min: 1, max: 1, fn: ([a]) => bool(a!.length > 0) },
  'empty': { min: 1, max: 1, fn: ([a]) => bool(a!.length === 0) },
  'position': { min: 0, max: 0, fn: (_a, c) => one(new Dec(c.pos)) },
  'last': { min: 0, max: 0, fn: (_a, c) => one(new Dec(c.size)) },
  'string': {
    min: 0,
    max: 1,
    fn: (args, c) => {
      const s = args.length ? args[0]! : [contextItem(c)];
      if (s.length > 1) throw new XPathError('XPTY0004', 'required cardinality of first argument of string() is zero or one');
      return one(s.length ? itemString(s[0]!) : '');
    },
  },
  'data': { min: 1, max: 1, fn: ([a]) => a!.map(atomize) },
  'number': {
    min: 0,
    max: 1,
    fn: (args, c) => {
      const a = singleAtomic(args.length ? args[0]! : [contextItem(c)], 'first argument of number()');
      if (a === undefined) return one(NaN);
      try {
        return one(toDouble(a));
      } catch {
        return one(NaN);
      }
    },
  },
  'substring': {
    min: 2,
    max: 3,
    fn: ([a, b, l]) => {
      const chars = [...stringArg(a!, 'first argument of substring()')];
      const start = Math.round(doubleArg(b!, 'second argument of substring()'));
      const end = l ? start + Math.round(doubleArg(l, 'third argument of substring()')) : Infinity;
      let out = '';
      for (let p = 1; p <= chars.length; p++) if (p >= start && p < end) out += chars[p - 1];
      return one(out);
    },
  },
  'concat': {
    min: 2,
    max: 64,
    fn: (args) =>
      one(
        args
          .map((s, i) => {
            const a = singleAtomic(s, `argument ${i + 1} of concat()`);
            return a === undefined ? '' : atomicString(a);
          })
          .join(''),
      ),
  },
  'string-join': { min: 1, max: 2, fn: ([a, sep]) => one(a!.map((i) => atomicString(atomize(i))).join(sep ? stringArg(sep, 'second argument of string-join()') : '')) },
  'replace': {
    min: 3,
    max: 4,
    fn: ([a, p, r, f]) => one(stringArg(a!, 'first argument of replace()').replace(regex(stringArg(p!, 'pattern of replace()'), f ? stringArg(f, 'flags') : '', true), replacement(stringArg(r!, 'replacement')))),
  },
  'tokenize': {
    min: 1,
    max: 3,
    fn: ([a, p, f]) => {
      const s = stringArg(a!, 'first argument of tokenize()');
      if (!p) {
        const t = s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
        return t ? t.split(/[ \t\r\n]+/) : [];
      }
      if (s === '') return [];
      return s.split(regex(stringArg(p, 'pattern of tokenize()'), f ? stringArg(f, 'flags') : ''));
    },
  },
  'sum': {
    min: 1,
    max: 2,
    fn: ([a, zero]) => {
      if (a!.length === 0) return zero ?? one(new Dec(0));
      let dec: Decimal | undefined = new Dec(0);
      let dbl = 0;
      for (const i of a!) {
        let v = atomize(i);
        if (v instanceof Untyped) v = toDouble(v);
        if (!isNumeric(v)) throw new XPathError('FORG0006', 'sum() of a value that is not a number');
        if (typeof v === 'number') {
          if (dec) dbl = toDouble(dec);
          dec = undefined;
          dbl += v;
        } else if (dec) dec = dec.plus(v);
        else dbl += toDouble(v);
      }
      return one(dec ?? dbl);
    },
  },
  'round': {
    min: 1,
    max: 2,
    fn: ([a, prec]) => {
      const v = numericArg(a!, 'first argument of round()');
      if (v === undefined) return [];
      if (!prec) return one(roundNumeric(v, 'round'));
      const p = Number(toInteger(atomize(prec[0]!)).toString());
      if (typeof v === 'number') return one(Math.round(v * 10 ** p) / 10 ** p);
      const scale = new Dec(10).pow(p);
      return one(floorDec(v.times(scale).plus('0.5')).div(scale));
    },
  },
  'round-half-to-even': {
    min: 1,
    max: 2,
    fn: ([a, prec]) => {
      const v = numericArg(a!, 'first argument of round-half-to-even()');
      if (v === undefined) return [];
      const p = prec ? Number(toInteger(atomize(prec[0]!)).toString()) : 0;
      if (typeof v === 'number') return one(Number(new Dec(v).round(p, 2).toString()));
      return one(v.round(p, 2));
    },
  },
  'abs': { min: 1, max: 1, fn: ([a]) => numericOut(a!, 'abs') },
  'floor': { min: 1, max: 1, fn: ([a]) => numericOut(a!, 'floor') },
  'ceiling': { min: 1, max: 1, fn: ([a]) => numericOut(a!, 'ceiling') },
  'distinct-values': { min: 1, max: 1, fn: ([a]) => dedupeAtomics(a!.map(atomize)) },
  'index-of': {
    min: 2,
    max: 2,
    fn: ([a, b]) => {
      const t = singleAtomic(b!, 'second argument of index-of()')!;
      const out: Seq = [];
      a!.forEach((i, k) => sameValue(atomize(i) instanceof Untyped ? (atomize(i) as Untyped).s : atomize(i), t instanceof Untyped ? t.s : t) && out.push(new Dec(k + 1)));
      return out;
    },
  },
  'reverse': { min: 1, max: 1, fn: ([a]) => a!.slice().reverse() },
  'local-name': { min: 0, max: 1, fn: (args, c) => one(nodeArg(args, c)?.local ?? '') },
  'name': {
    min: 0,
    max: 1,
    fn: (args, c) => {
      const n = nodeArg(args, c);
      return one(n ? n.name() : '');
    },
  },
  'root': {
    min: 0,
    max: 1,
    fn: (args, c) => {
      const n = nodeArg(args, c);
      return n ? [documentOf(n)] : [];
    },
  },
  'current-date': { min: 0, max: 0, fn: () => one(toDate(new Date().toISOString().slice(0, 10))) },
  'document': { min: 1, max: 1, fn: ([a], c) => a!.map((u) => c.doc.load(itemString(u))) },
  'doc': { min: 1, max: 1, fn: ([a], c) => [c.doc.load(stringArg(a!, 'first argument of doc()'))] },
};

/**
 * The functions whose arguments are all xs:string? (the empty sequence is ''): each argument is
 * compiled to a string directly (compileString), so nested calls such as
 * normalize-space(upper-case(cbc:ID)) pass strings, not sequences. A result that is a number is
 * an xs:integer.
 */
const STRING_FUNCTIONS: Record<string, { min: number; max: number; returns: 'string' | 'boolean' | 'integer'; fn: (s: string[]) => string | boolean | number }> = {
  // Most values are already normal: only those with other spaces are rewritten.
  'normalize-space': { min: 0, max: 1, returns: 'string', fn: ([s]) => (UNNORMAL_SPACE.test(s!) ? s!.replace(/[ \t\r\n]+/g, ' ').replace(/^ | $/g, '') : s!) },
  'string-length': { min: 0, max: 1, returns: 'integer', fn: ([s]) => [...s!].length },
  'upper-case': { min: 1, max: 1, returns: 'string', fn: ([s]) => s!.toUpperCase() },
  'lower-case': { min: 1, max: 1, returns: 'string', fn: ([s]) => s!.toLowerCase() },
  'contains': { min: 2, max: 2, returns: 'boolean', fn: ([s, t]) => s!.includes(t!) },
  'starts-with': { min: 2, max: 2, returns: 'boolean', fn: ([s, t]) => s!.startsWith(t!) },
  'ends-with': { min: 2, max: 2, returns: 'boolean', fn: ([s, t]) => s!.endsWith(t!) },
  'substring-before': { min: 2, max: 2, returns: 'string', fn: ([s, t]) => s!.slice(0, Math.max(0, s!.indexOf(t!))) },
  'substring-after': {
    min: 2,
    max: 2,
    returns: 'string',
    fn: ([s, t]) => {
      const i = s!.indexOf(t!);
      return i < 0 ? '' : s!.slice(i + t!.length);
    },
  },
  'translate': {
    min: 3,
    max: 3,
    returns: 'string',
    fn: ([s, b, t]) => {
      const from = [...b!];
      const to = [...t!];
      let out = '';
      for (const ch of s!) {
        const i = from.indexOf(ch);
        if (i < 0) out += ch;
        else if (i < to.length) out += to[i];
      }
      return out;
    },
  },
  'matches': { min: 2, max: 3, returns: 'boolean', fn: ([s, p, f]) => regex(p!, f ?? '').test(s!) },
};

/** Is `ast` a call of a string function whose result is of this type? */
function callReturning(ast: Ast, returns: 'string' | 'boolean' | 'integer'): boolean {
  return ast.t === 'call' && Object.hasOwn(STRING_FUNCTIONS, ast.name) && STRING_FUNCTIONS[ast.name]!.returns === returns;
}

/** A call of a string function with its arguments compiled to strings; undefined for other functions. */
function compileStringCall(name: string, argAsts: Ast[], scope: Scope): ((c: Ctx) => string | boolean | number) | undefined {
  const def = Object.hasOwn(STRING_FUNCTIONS, name) ? STRING_FUNCTIONS[name] : undefined;
  if (!def) return undefined;
  if (argAsts.length < def.min || argAsts.length > def.max) throw new XPathCompileError(`${name}() takes ${def.min}–${def.max} arguments, not ${argAsts.length}`);
  // Without an argument, the function reads the context item.
  const args = (argAsts.length ? argAsts : [{ t: 'ctx' } as Ast]).map((a, i) => compileString(a, scope, `argument ${i + 1} of ${name}()`));
  const fn = def.fn;
  return withArguments(args, (held) => fn(held));
}

/**
 * A call: its arguments evaluated into the call site's own array, refilled once every argument
 * is computed (functions read it and never keep it), so a call of up to two arguments allocates
 * nothing for them.
 */
function withArguments<T, R>(args: ((c: Ctx) => T)[], fn: (values: T[], c: Ctx) => R): (c: Ctx) => R {
  if (args.length === 0) {
    const none: T[] = [];
    return (c) => fn(none, c);
  }
  if (args.length === 1) {
    const a = args[0]!;
    const held: T[] = [];
    return (c) => {
      held[0] = a(c);
      return fn(held, c);
    };
  }
  if (args.length === 2) {
    const [a, b] = args as [(c: Ctx) => T, (c: Ctx) => T];
    const held: T[] = [];
    return (c) => {
      const x = a(c);
      const y = b(c);
      held[0] = x;
      held[1] = y;
      return fn(held, c);
    };
  }
  return (c) =>
    fn(
      args.map((a) => a(c)),
      c,
    );
}

/**
 * An expression used as a condition (a check's test, a predicate that cannot select by
 * position, an operand of and/or/not): its effective boolean value, computed without building
 * the one-boolean sequences of the general form.
 */
export function compileCondition(ast: Ast, scope: Scope): (c: Ctx) => boolean {
  if (ast.t === 'seq' && ast.items.length === 1) return compileCondition(ast.items[0]!, scope);
  if (ast.t === 'bin') {
    if (ast.op === 'or' || ast.op === 'and') {
      const l = compileCondition(ast.l, scope);
      const r = compileCondition(ast.r, scope);
      return ast.op === 'or' ? (c) => l(c) || r(c) : (c) => l(c) && r(c);
    }
    if (GENERAL_COMPARISONS.has(ast.op)) return compileGeneralComparison(ast.op as CompOp, ast.l, ast.r, scope);
  }
  if (ast.t === 'call') {
    const [arg] = ast.args;
    if (ast.args.length === 1 && (ast.name === 'not' || ast.name === 'boolean')) {
      const a = compileCondition(arg!, scope);
      return ast.name === 'not' ? (c) => !a(c) : a;
    }
    if (ast.args.length === 1 && (ast.name === 'exists' || ast.name === 'empty')) {
      const a = compileAst(arg!, scope);
      return ast.name === 'exists' ? (c) => a(c).length > 0 : (c) => a(c).length === 0;
    }
    const codes = ast.name === 'contains' ? compileCodeList(ast.args, scope) : undefined;
    if (codes) return codes;
    if (callReturning(ast, 'boolean')) return compileStringCall(ast.name, ast.args, scope) as (c: Ctx) => boolean;
  }
  const fn = compileAst(ast, scope);
  return (c) => ebv(fn(c));
}

/**
 * contains(' A B C ', concat(' ', X, ' ')): how the rules test a value against a code list.
 * A value without a space is in the list exactly when it is one of the codes between two
 * spaces, so it is looked up in a set of them; a value with a space is searched as written.
 */
function compileCodeList(args: Ast[], scope: Scope): ((c: Ctx) => boolean) | undefined {
  const [list, probe] = args;
  const space = (a: Ast | undefined): boolean => a?.t === 'literal' && a.kind === 'string' && a.text === ' ';
  if (list?.t !== 'literal' || list.kind !== 'string' || probe?.t !== 'call' || probe.name !== 'concat' || probe.args.length !== 3) return undefined;
  if (!space(probe.args[0]) || !space(probe.args[2])) return undefined;
  const text = list.text;
  const codes = new Set(text.split(' ').slice(1, -1));
  const valueAst = probe.args[1]!;
  const value: (c: Ctx) => string = callReturning(valueAst, 'string')
    ? compileString(valueAst, scope, 'argument 2 of concat()')
    : concatArg(compileAst(valueAst, scope), 'argument 2 of concat()');
  return (c) => {
    const v = value(c);
    return v.includes(' ') ? text.includes(` ${v} `) : codes.has(v);
  };
}

/** An argument of concat(): one atomic value as a string, or '' for the empty sequence. */
function concatArg(fn: Fn, what: string): (c: Ctx) => string {
  return (c) => {
    const a = singleAtomic(fn(c), what);
    return a === undefined ? '' : atomicString(a);
  };
}

const GENERAL_COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>=']);

/**
 * A general comparison (=, != …). Against a string literal (the commonest form: a code, a
 * scheme), = and != compare each item's string at once: a node's string value, a string or
 * untypedAtomic as it is, anything else through the general rules (which give its type error).
 */
function compileGeneralComparison(op: CompOp, la: Ast, ra: Ast, scope: Scope): (c: Ctx) => boolean {
  const literal = (a: Ast): string | undefined => (a.t === 'literal' && a.kind === 'string' ? a.text : undefined);
  const lit = literal(ra) ?? literal(la);
  if (lit !== undefined && (op === '=' || op === '!=')) {
    const other = literal(ra) !== undefined ? la : ra;
    const eq = op === '=';
    if (callReturning(other, 'string')) {
      const str = compileString(other, scope, 'operand of a comparison');
      return eq ? (c) => str(c) === lit : (c) => str(c) !== lit;
    }
    const items = compileAst(other, scope);
    const litSeq: Seq = [lit];
    return (c) => {
      for (const it of items(c)) {
        const s = it instanceof RNode ? it.string() : typeof it === 'string' ? it : it instanceof Untyped ? it.s : undefined;
        if (s === undefined ? generalCompare(op, [it], litSeq) : eq === (s === lit)) return true;
      }
      return false;
    };
  }
  const l = compileAst(la, scope);
  const r = compileAst(ra, scope);
  return (c) => generalCompare(op, l(c), r(c));
}

/** An expression used where xs:string? is expected: its value as a string ('' for the empty sequence). */
export function compileString(ast: Ast, scope: Scope, what: string): (c: Ctx) => string {
  if (ast.t === 'literal' && ast.kind === 'string') {
    const text = ast.text;
    return () => text;
  }
  // Only a function returning a string is one here (a number or boolean gives its type error below).
  if (ast.t === 'call' && callReturning(ast, 'string')) return compileStringCall(ast.name, ast.args, scope) as (c: Ctx) => string;
  // The context node's name (the wildcard rules test it on every element).
  if (ast.t === 'call' && ast.args.length === 0 && ast.name === 'name') return (c) => contextNode(c).name();
  if (ast.t === 'call' && ast.args.length === 0 && ast.name === 'local-name') return (c) => contextNode(c).local;
  if (ast.t === 'ctx')
    return (c) => {
      const i = contextItem(c);
      return i instanceof RNode ? i.string() : stringArg([i], what);
    };
  const fn = compileAst(ast, scope);
  return (c) => stringArg(fn(c), what);
}

function numericOut(a: Seq, how: 'floor' | 'ceiling' | 'abs'): Seq {
  const v = numericArg(a, `argument of ${how}()`);
  return v === undefined ? [] : one(roundNumeric(v, how));
}

function nodeArg(args: Seq[], c: Ctx): RNode | undefined {
  if (!args.length) return contextNode(c);
  const s = args[0]!;
  if (s.length === 0) return undefined;
  if (s.length > 1) throw new XPathError('XPTY0004', 'more than one node');
  const n = s[0];
  if (!(n instanceof RNode)) throw new XPathError('XPTY0004', 'not a node');
  return n;
}

function contextNode(c: Ctx): RNode {
  const n = contextItem(c);
  if (!(n instanceof RNode)) throw new XPathError('XPTY0004', 'not a node');
  return n;
}

const CASTS: Record<string, (a: Atomic) => Atomic> = {
  decimal: toDecimal,
  integer: toInteger,
  double: toDouble,
  string: atomicString,
  boolean: (a) => (typeof a === 'string' || a instanceof Untyped ? toBoolean(a) : toBoolean(a)),
  date: toDate,
};

function castFn(type: string, ns: Record<string, string>): (a: Atomic) => Atomic {
  const i = type.indexOf(':');
  const uri = i < 0 ? undefined : ns[type.slice(0, i)] ?? (type.slice(0, i) === 'xs' ? XS : undefined);
  const cast = uri === XS ? CASTS[type.slice(i + 1)] : undefined;
  if (!cast) throw new XPathCompileError(`unsupported type ${type}`);
  return cast;
}

function instanceTest(t: SeqType): (i: Item) => boolean {
  switch (t.type) {
    case 'item':
      return () => true;
    case 'node':
      return (i) => i instanceof RNode;
    case 'element':
      return (i) => i instanceof RNode && i.kind === ELEMENT;
    case 'xs:string':
      return (i) => typeof i === 'string';
    case 'xs:decimal':
      return (i) => isDecimal(i);
    case 'xs:double':
      return (i) => typeof i === 'number';
    case 'xs:boolean':
      return (i) => typeof i === 'boolean';
    case 'xs:date':
      return (i) => i instanceof XDate;
    case 'xs:untypedAtomic':
      return (i) => i instanceof Untyped;
  }
  throw new XPathCompileError(`unsupported type ${t.type} in instance of`);
}

// ---------------------------------------------------------------- compiler

function compileAst(ast: Ast, scope: Scope): Fn {
  const ns = scope.sc.namespaces;
  switch (ast.t) {
    case 'literal': {
      const v: Seq = [ast.kind === 'string' ? ast.text : ast.kind === 'double' ? Number(ast.text) : new Dec(ast.text)];
      return () => v;
    }
    case 'ctx':
      return (c) => [contextItem(c)];
    case 'root':
      return (c) => {
        const n = contextItem(c);
        if (!(n instanceof RNode)) throw new XPathError('XPTY0020', 'the context item is not a node');
        return [documentOf(n)];
      };
    case 'seq': {
      if (ast.items.length === 1) return compileAst(ast.items[0]!, scope);
      const parts = ast.items.map((a) => compileAst(a, scope));
      if (parts.length === 0) return () => [];
      return (c) => {
        const out: Seq = [];
        for (const p of parts) for (const i of p(c)) out.push(i);
        return out;
      };
    }
    case 'var': {
      const b = scope.vars.get(ast.name);
      if (!b) throw new XPathCompileError(`unknown variable $${ast.name}`);
      if (b.kind === 'slot') {
        const slot = b.slot;
        return (c) => c.frame.vals[slot]!;
      }
      if (b.kind === 'lazy') {
        const { slot, fn } = b;
        return (c) => {
          const f = c.frame;
          let v = f.vals[slot];
          if (v === undefined) v = f.vals[slot] = fn(f.rule!);
          return v;
        };
      }
      const index = b.index;
      const sc = scope.sc;
      return (c) => sc.global(index, c);
    }
    case 'call':
      return compileCall(ast.name, ast.args, scope);
    case 'filter': {
      const base = compileAst(ast.base, scope);
      const preds = ast.preds.map((p) => compilePredicate(p, scope));
      return (c) => {
        let items = base(c);
        for (const p of preds) items = p(items, c);
        return items;
      };
    }
    case 'step':
      return compileStep(ast.axis, ast.test, ast.preds, scope);
    case 'path': {
      if (ast.first.t === 'root' && !scope.noCache && dependsOnDocumentOnly(ast)) {
        // The same nodes wherever the rule stands: computed once per document.
        // Keyed by the path's text: the same path in other checks shares the result.
        const key = JSON.stringify(ast);
        let id = cacheIds.get(key);
        if (id === undefined) cacheIds.set(key, (id = cacheIds.size));
        // Its prefix is cached the same way, so that paths sharing it (//cac:TaxCategory[…]/cbc:ID[. = 'AE'],
        // the same for 'E', 'Z'…) compute it once.
        const last = ast.rest.length - 1;
        const inner = last ? compilePath(compileAst({ t: 'path', first: ast.first, rest: ast.rest.slice(0, last) }, scope), ast.rest.slice(last), scope.uncached()) : compilePath(compileAst(ast.first, scope), ast.rest, scope.uncached());
        return (c) => (c.doc.cache[id] ??= inner(c));
      }
      const chain = childChain(ast, scope.sc.namespaces);
      if (chain) return chain;
      return compilePath(compileAst(ast.first, scope), ast.rest, scope);
    }
    case 'bin':
      return compileBinary(ast.op, ast.l, ast.r, scope);
    case 'neg': {
      const e = compileAst(ast.e, scope);
      return (c) => {
        const a = singleAtomic(e(c), 'operand of unary minus');
        if (a === undefined) return [];
        return [arithmetic('-', new Dec(0), a)];
      };
    }
    case 'if': {
      const cond = compileCondition(ast.c, scope);
      const a = compileAst(ast.a, scope);
      const b = compileAst(ast.b, scope);
      return (c) => (cond(c) ? a(c) : b(c));
    }
    case 'quant': {
      const inner = scope.child();
      const binds = ast.binds.map((b) => {
        const e = compileAst(b.e, inner);
        const slot = inner.slots.n++;
        inner.vars.set(b.name, { kind: 'slot', slot });
        return { e, slot };
      });
      const body = compileAst(ast.body, inner);
      const kind = ast.kind;
      return (c) => {
        const out: Seq = [];
        let verdict = kind === 'every';
        const loop = (k: number): boolean => {
          if (k === binds.length) {
            const r = body(c);
            if (kind === 'for') {
              for (const i of r) out.push(i);
              return false;
            }
            const t = ebv(r);
            if (kind === 'some' && t) return (verdict = true);
            if (kind === 'every' && !t) return !(verdict = false);
            return false;
          }
          const { e, slot } = binds[k]!;
          for (const i of e(c)) {
            c.frame.vals[slot] = [i];
            if (loop(k + 1)) return true;
          }
          return false;
        };
        loop(0);
        return kind === 'for' ? out : bool(verdict);
      };
    }
    case 'cast': {
      const e = compileAst(ast.e, scope);
      const cast = castFn(ast.type, ns);
      const { optional, op } = ast;
      return (c) => {
        const s = e(c);
        if (op === 'castable') {
          if (s.length > 1) return FALSE;
          if (s.length === 0) return bool(optional);
          try {
            cast(atomize(s[0]!));
            return TRUE;
          } catch {
            return FALSE;
          }
        }
        const a = singleAtomic(s, 'operand of cast as');
        if (a === undefined) {
          if (optional) return [];
          throw new XPathError('XPTY0004', 'empty sequence cast to a single type');
        }
        return [cast(a)];
      };
    }
    case 'instance': {
      const e = compileAst(ast.e, scope);
      const test = ast.type.type === 'empty-sequence' ? () => false : instanceTest(ast.type);
      const occ = ast.type.occ;
      return (c) => {
        const s = e(c);
        if (s.length === 0) return bool(occ === '?' || occ === '*' || ast.type.type === 'empty-sequence');
        if (s.length > 1 && (occ === '' || occ === '?')) return FALSE;
        return bool(s.every(test));
      };
    }
  }
}

/**
 * A relative path of child elements by name only (cac:Party/cac:PartyName/cbc:Name), the
 * commonest path of the rules: walked from the context node without a focus per step. The
 * result is in document order, since the children of distinct elements at one depth follow
 * their parents' order.
 */
function childChain(ast: Extract<Ast, { t: 'path' }>, ns: Record<string, string>): Fn | undefined {
  const steps = [ast.first, ...ast.rest.map((r) => (r.sep === '/' ? r.step : undefined))];
  const names: { local: string; uri: string }[] = [];
  for (const st of steps) {
    if (st?.t !== 'step' || st.axis !== 'child' || st.preds.length || st.test.t !== 'name' || st.test.local === '*' || st.test.prefix === '*') return undefined;
    names.push({ local: intern(st.test.local), uri: uriOf(st.test.prefix, ns) });
  }
  return (c) => {
    const n = c.item;
    if (!(n instanceof RNode)) throw new XPathError(c.item === undefined ? 'XPDY0002' : 'XPTY0020', 'a path step without a context node');
    let items: RNode[] = [n];
    for (const { local, uri } of names) {
      if (items.length === 1) items = childrenIn(items[0]!, local, uri);
      else {
        const next: RNode[] = [];
        for (const p of items) for (const k of childrenIn(p, local, uri)) next.push(k);
        items = next;
      }
      if (!items.length) return NONE;
    }
    return items;
  };
}

/** The child steps of a union (a | b | …) none of whose predicates can select by position; undefined for anything else. */
function childStepsOfUnion(a: Ast): Extract<Ast, { t: 'step' }>[] | undefined {
  if (a.t === 'seq' && a.items.length === 1) return childStepsOfUnion(a.items[0]!);
  if (a.t === 'step') return a.axis === 'child' && a.preds.every(neverPositional) ? [a] : undefined;
  if (a.t !== 'bin' || a.op !== '|') return undefined;
  const l = childStepsOfUnion(a.l);
  const r = childStepsOfUnion(a.r);
  return l && r ? [...l, ...r] : undefined;
}

/** A path: the first expression's items, then each step from every item in turn (results in document order). */
function compilePath(first: Fn, rest: Extract<Ast, { t: 'path' }>['rest'], scope: Scope): Fn {
  const steps: Fn[] = [];
  for (const { sep, step } of rest) {
    if (sep === '//') {
      // //x[p] is descendant::x[p] when p cannot select by position.
      if (step.t === 'step' && step.axis === 'child' && step.preds.every(neverPositional)) {
        steps.push(compileStep('descendant', step.test, step.preds, scope));
        continue;
      }
      // //@x[p]: the attributes named x of the node and every element below it.
      if (step.t === 'step' && step.axis === 'attribute' && step.test.t === 'name' && step.test.local !== '*' && step.preds.every(neverPositional)) {
        steps.push(compileStep('descendant-attribute', step.test, step.preds, scope));
        continue;
      }
      // //(a|b) is descendant::a | descendant::b on the same conditions.
      const union = childStepsOfUnion(step);
      if (union && union.length > 1) {
        const parts = union.map((u) => compileStep('descendant', u.test, u.preds, scope));
        steps.push((c) => sortNodes(parts.flatMap((part) => part(c) as RNode[])));
        continue;
      }
      steps.push(compileStep('descendant-or-self', { t: 'kind', kind: 'node' }, [], scope));
    }
    steps.push(compileAst(step, scope));
  }
  return (c) => {
    let items = first(c);
    if (items.length === 0) return items;
    // One focus for every step of this evaluation (steps return sequences, never keep the focus).
    const sub: Ctx = { item: undefined, pos: 0, size: 0, frame: c.frame, doc: c.doc };
    for (const step of steps) {
      if (items.length === 0) return items;
      sub.size = items.length;
      let out: Item[];
      if (items.length === 1) {
        if (!(items[0] instanceof RNode)) throw new XPathError('XPTY0019', 'a path step applied to an atomic value');
        sub.item = items[0];
        sub.pos = 1;
        out = step(sub);
      } else {
        out = [];
        for (let i = 0; i < items.length; i++) {
          const it = items[i]!;
          if (!(it instanceof RNode)) throw new XPathError('XPTY0019', 'a path step applied to an atomic value');
          sub.item = it;
          sub.pos = i + 1;
          for (const r of step(sub)) out.push(r);
        }
      }
      if (out.length > 1) {
        const nodes = out[0] instanceof RNode;
        for (const r of out) if (r instanceof RNode !== nodes) throw new XPathError('XPTY0018', 'a path whose last step mixes nodes and atomic values');
        if (nodes) out = sortNodes(out as RNode[]);
      }
      items = out;
    }
    return items;
  };
}

function compileStep(axis: Axis | 'descendant-attribute', test: NodeTest, predAsts: Ast[], scope: Scope): Fn {
  const t = nodeTestFn(test, axis === 'descendant-attribute' ? 'attribute' : axis, scope.sc.namespaces);
  const preds = predAsts.map((p) => compilePredicate(p, scope));
  const reverse = axis !== 'descendant-attribute' && REVERSE.has(axis);
  // The commonest step: child elements by name, no predicate.
  if (axis === 'child' && test.t === 'name' && test.local !== '*' && test.prefix !== '*' && preds.length === 0) {
    const local = intern(test.local);
    const uri = uriOf(test.prefix, scope.sc.namespaces);
    return (c) => {
      const n = c.item;
      if (!(n instanceof RNode)) throw new XPathError('XPTY0020', 'a path step from an atomic value');
      return childrenIn(n, local, uri);
    };
  }
  // Descendants (or, after //, attributes anywhere below) by name: from the document's name index.
  const indexed = test.t === 'name' && test.local !== '*' && (axis === 'descendant' || axis === 'descendant-attribute');
  if (indexed) {
    const local = test.local;
    const attributes = axis === 'descendant-attribute';
    return (c) => {
      const n = c.item;
      if (!(n instanceof RNode)) throw new XPathError(c.item === undefined ? 'XPDY0002' : 'XPTY0020', 'a path step without a context node');
      const named = namedWithin(n, local, attributes);
      let out: Item[] = [];
      if (named) {
        for (const k of named) if (t(k)) out.push(k);
      } else if (attributes) {
        const all: RNode[] = [];
        axisNodes('descendant-or-self', n, () => true, all);
        for (const x of all) if (x.kind === ELEMENT) for (const a of x.attrs) if (t(a)) out.push(a);
      } else axisNodes(axis as Axis, n, t, out as RNode[]);
      for (const p of preds) out = p(out, c);
      return out;
    };
  }
  return (c) => {
    const n = c.item;
    if (!(n instanceof RNode)) throw new XPathError(c.item === undefined ? 'XPDY0002' : 'XPTY0020', 'a path step without a context node');
    let out: Item[] = [];
    axisNodes(axis as Axis, n, t, out as RNode[]);
    for (const p of preds) out = p(out, c);
    if (reverse && out.length > 1) out.reverse();
    return out;
  };
}

function compileBinary(op: string, la: Ast, ra: Ast, scope: Scope): Fn {
  if (op === 'or' || op === 'and' || GENERAL_COMPARISONS.has(op)) {
    const test = compileCondition({ t: 'bin', op, l: la, r: ra } as Ast, scope);
    return (c) => bool(test(c));
  }
  const l = compileAst(la, scope);
  const r = compileAst(ra, scope);
  switch (op) {
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge': {
      const gop = ({ eq: '=', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' } as const)[op];
      return (c) => {
        let a = singleAtomic(l(c), `first operand of ${op}`);
        let b = singleAtomic(r(c), `second operand of ${op}`);
        if (a === undefined || b === undefined) return [];
        if (a instanceof Untyped) a = a.s;
        if (b instanceof Untyped) b = b.s;
        return bool(testComparison(gop, compareAtomic(a, b)));
      };
    }
    case 'is':
      return (c) => {
        const a = l(c);
        const b = r(c);
        if (!a.length || !b.length) return [];
        return bool(a[0] === b[0]);
      };
    case '+':
    case '-':
    case '*':
    case 'div':
    case 'idiv':
    case 'mod':
      return (c) => {
        const a = singleAtomic(l(c), `first operand of '${op}'`);
        if (a === undefined) return [];
        const b = singleAtomic(r(c), `second operand of '${op}'`);
        if (b === undefined) return [];
        return [arithmetic(op, a, b)];
      };
    case 'to':
      return (c) => {
        const a = singleAtomic(l(c), 'first operand of to');
        const b = singleAtomic(r(c), 'second operand of to');
        if (a === undefined || b === undefined) return [];
        const from = Number(toInteger(a).toString());
        const to = Number(toInteger(b).toString());
        const out: Seq = [];
        for (let i = from; i <= to; i++) out.push(new Dec(i));
        return out;
      };
    case '|':
    case 'intersect':
    case 'except':
      return (c) => {
        const a = l(c);
        const b = r(c);
        for (const x of a) if (!(x instanceof RNode)) throw new XPathError('XPTY0004', `${op} of values that are not nodes`);
        for (const x of b) if (!(x instanceof RNode)) throw new XPathError('XPTY0004', `${op} of values that are not nodes`);
        if (op === '|') return sortNodes([...(a as RNode[]), ...(b as RNode[])]);
        const set = new Set(b);
        return sortNodes((a as RNode[]).filter((x) => (op === 'intersect' ? set.has(x) : !set.has(x))));
      };
  }
  throw new XPathCompileError(`unsupported operator ${op}`);
}

function compileCall(name: string, argAsts: Ast[], scope: Scope): Fn {
  const colon = name.indexOf(':');
  const prefix = colon < 0 ? '' : name.slice(0, colon);
  const local = colon < 0 ? name : name.slice(colon + 1);
  const uri = prefix ? scope.sc.namespaces[prefix] ?? (prefix === 'xs' ? XS : prefix === 'fn' ? 'fn' : undefined) : 'fn';
  if (uri === 'fn') {
    const call = compileStringCall(local, argAsts, scope);
    if (call) {
      const returns = STRING_FUNCTIONS[local]!.returns;
      if (returns === 'boolean') return (c) => bool(call(c) as boolean);
      if (returns === 'integer') return (c) => one(new Dec(call(c) as number));
      return (c) => one(call(c) as string);
    }
  }
  const args = argAsts.map((a) => compileAst(a, scope));
  if (uri === XS) {
    if (args.length !== 1) throw new XPathCompileError(`${name} takes one argument`);
    const cast = castFn(name, scope.sc.namespaces);
    const a = args[0]!;
    return (c) => {
      const v = singleAtomic(a(c), `argument of ${name}()`);
      return v === undefined ? [] : [cast(v)];
    };
  }
  if (uri === 'fn') {
    const b = BUILTINS[local];
    if (!b) throw new XPathCompileError(`unsupported function ${name}()`);
    if (args.length < b.min || args.length > b.max) throw new XPathCompileError(`${name}() takes ${b.min}–${b.max} arguments, not ${args.length}`);
    return withArguments(args, b.fn);
  }
  const user = scope.sc.userFunction(name, args.length);
  if (!user) throw new XPathCompileError(`unknown function ${name}#${args.length}`);
  return (c) =>
    user(
      args.map((a) => a(c)),
      c,
    );
}
