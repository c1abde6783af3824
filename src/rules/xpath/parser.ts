/**
 * XPath 2.0 text → syntax tree (the subset the official Schematron files use; anything else
 * is a compile error, never a silent pass). Recursive descent over the XPath 2.0 grammar;
 * operator words (and, div, eq, …) and `*` are operators only where an operator may stand.
 */

export type Axis =
  | 'child'
  | 'descendant'
  | 'descendant-or-self'
  | 'self'
  | 'parent'
  | 'ancestor'
  | 'ancestor-or-self'
  | 'following-sibling'
  | 'preceding-sibling'
  | 'following'
  | 'preceding'
  | 'attribute';

/** A node test: a name (prefix resolved later; '*' wildcards) or a kind test. */
export type NodeTest = { t: 'name'; prefix: string | null; local: string } | { t: 'kind'; kind: 'node' | 'text' | 'element' | 'attribute' | 'document-node'; name?: string };

export interface SeqType {
  /** 'empty-sequence', 'item', 'node', 'element', 'attribute', or an atomic type QName. */
  type: string;
  occ: '' | '?' | '*' | '+';
}

export type Ast =
  | { t: 'literal'; kind: 'string' | 'integer' | 'decimal' | 'double'; text: string }
  | { t: 'var'; name: string }
  | { t: 'ctx' }
  | { t: 'seq'; items: Ast[] }
  | { t: 'call'; name: string; args: Ast[] }
  | { t: 'filter'; base: Ast; preds: Ast[] }
  | { t: 'root' }
  | { t: 'path'; first: Ast; rest: { sep: '/' | '//'; step: Ast }[] }
  | { t: 'step'; axis: Axis; test: NodeTest; preds: Ast[] }
  | { t: 'bin'; op: string; l: Ast; r: Ast }
  | { t: 'neg'; e: Ast }
  | { t: 'if'; c: Ast; a: Ast; b: Ast }
  | { t: 'quant'; kind: 'for' | 'some' | 'every'; binds: { name: string; e: Ast }[]; body: Ast }
  | { t: 'cast'; op: 'cast' | 'castable'; e: Ast; type: string; optional: boolean }
  | { t: 'instance'; e: Ast; type: SeqType };

type Tok = { k: 'num' | 'str' | 'name' | 'sym' | 'eof'; v: string; at: number };

export class XPathSyntaxError extends Error {}

const SYMBOLS = ['!=', '<=', '>=', '//', '::', '..', '(', ')', '[', ']', ',', '/', '.', '@', '=', '<', '>', '+', '-', '*', '|', '$', '?'];

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' && src[i + 1] === ':') {
      let depth = 1;
      i += 2;
      while (i < src.length && depth) {
        if (src[i] === '(' && src[i + 1] === ':') (depth++, (i += 2));
        else if (src[i] === ':' && src[i + 1] === ')') (depth--, (i += 2));
        else i++;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let v = '';
      for (;;) {
        if (j >= src.length) throw new XPathSyntaxError(`unterminated string at ${i}`);
        if (src[j] === c) {
          if (src[j + 1] === c) {
            v += c;
            j += 2;
            continue;
          }
          break;
        }
        v += src[j++];
      }
      toks.push({ k: 'str', v, at: i });
      i = j + 1;
      continue;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (num) {
      toks.push({ k: 'num', v: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const name = /^(\*:[A-Za-z_][\w.\-]*|[A-Za-z_][\w.\-]*(:([A-Za-z_][\w.\-]*|\*))?)/.exec(src.slice(i, i + 200));
    if (name) {
      let v = name[0];
      // `a:b` only binds as a QName when no `::` follows the prefix (an axis).
      if (v.includes(':') && src.slice(i + v.indexOf(':'), i + v.indexOf(':') + 2) === '::') v = v.slice(0, v.indexOf(':'));
      toks.push({ k: 'name', v, at: i });
      i += v.length;
      continue;
    }
    const sym = SYMBOLS.find((s) => src.startsWith(s, i));
    if (!sym) throw new XPathSyntaxError(`unexpected character "${c}" at ${i}`);
    toks.push({ k: 'sym', v: sym, at: i });
    i += sym.length;
  }
  toks.push({ k: 'eof', v: '', at: src.length });
  return toks;
}

const AXES = new Set<string>(['child', 'descendant', 'descendant-or-self', 'self', 'parent', 'ancestor', 'ancestor-or-self', 'following-sibling', 'preceding-sibling', 'following', 'preceding', 'attribute']);
const KIND_TESTS = new Set(['node', 'text', 'element', 'attribute', 'document-node', 'comment', 'processing-instruction', 'schema-element', 'schema-attribute', 'item', 'empty-sequence']);
const COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>=']);
const VALUE_COMPARISONS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

export function parseXPath(src: string): Ast {
  const toks = tokenize(src);
  let p = 0;
  const peek = (o = 0): Tok => toks[p + o]!;
  const fail = (what: string): never => {
    throw new XPathSyntaxError(`${what} at ${peek().at} in: ${src.slice(0, 200)}`);
  };
  const isSym = (v: string, o = 0): boolean => peek(o).k === 'sym' && peek(o).v === v;
  const isWord = (v: string, o = 0): boolean => peek(o).k === 'name' && peek(o).v === v;
  const eat = (v: string): void => {
    if (!isSym(v)) fail(`expected "${v}"`);
    p++;
  };
  const word = (v: string): void => {
    if (!isWord(v)) fail(`expected "${v}"`);
    p++;
  };
  const varName = (): string => {
    eat('$');
    if (peek().k !== 'name') fail('expected a variable name');
    return toks[p++]!.v;
  };

  function expr(): Ast {
    const first = single();
    if (!isSym(',')) return first;
    const items = [first];
    while (isSym(',')) {
      p++;
      items.push(single());
    }
    return { t: 'seq', items };
  }

  function single(): Ast {
    if ((isWord('for') || isWord('some') || isWord('every')) && isSym('$', 1)) {
      const kind = toks[p++]!.v as 'for' | 'some' | 'every';
      const binds: { name: string; e: Ast }[] = [];
      do {
        if (binds.length) p++;
        const name = varName();
        word('in');
        binds.push({ name, e: single() });
      } while (isSym(','));
      word(kind === 'for' ? 'return' : 'satisfies');
      return { t: 'quant', kind, binds, body: single() };
    }
    if (isWord('if') && isSym('(', 1)) {
      p += 2;
      const c = expr();
      eat(')');
      word('then');
      const a = single();
      word('else');
      return { t: 'if', c, a, b: single() };
    }
    return or();
  }

  function leftAssoc(next: () => Ast, ops: (t: Tok) => string | undefined): Ast {
    let l = next();
    for (let op = ops(peek()); op; op = ops(peek())) {
      p++;
      l = { t: 'bin', op, l, r: next() };
    }
    return l;
  }
  const words =
    (...ws: string[]) =>
    (t: Tok): string | undefined =>
      t.k === 'name' && ws.includes(t.v) ? t.v : undefined;

  const or = (): Ast => leftAssoc(and, words('or'));
  const and = (): Ast => leftAssoc(comparison, words('and'));
  function comparison(): Ast {
    const l = range();
    const t = peek();
    let op: string | undefined;
    if (t.k === 'sym' && COMPARISONS.has(t.v)) op = t.v;
    else if (t.k === 'name' && (VALUE_COMPARISONS.has(t.v) || t.v === 'is')) op = t.v;
    if (!op) return l;
    p++;
    return { t: 'bin', op, l, r: range() };
  }
  function range(): Ast {
    const l = additive();
    if (!isWord('to')) return l;
    p++;
    return { t: 'bin', op: 'to', l, r: additive() };
  }
  const additive = (): Ast => leftAssoc(multiplicative, (t) => (t.k === 'sym' && (t.v === '+' || t.v === '-') ? t.v : undefined));
  const multiplicative = (): Ast => leftAssoc(union, (t) => (t.k === 'sym' && t.v === '*' ? '*' : t.k === 'name' && ['div', 'idiv', 'mod'].includes(t.v) ? t.v : undefined));
  const union = (): Ast => leftAssoc(intersect, (t) => (t.k === 'sym' && t.v === '|' ? '|' : t.k === 'name' && t.v === 'union' ? '|' : undefined));
  const intersect = (): Ast => leftAssoc(instance, words('intersect', 'except'));
  function instance(): Ast {
    const e = castable();
    if (!(isWord('instance') && isWord('of', 1))) return e;
    p += 2;
    return { t: 'instance', e, type: seqType() };
  }
  function castable(): Ast {
    const e = cast();
    if (!(isWord('castable') && isWord('as', 1))) return e;
    p += 2;
    const [type, optional] = singleType();
    return { t: 'cast', op: 'castable', e, type, optional };
  }
  function cast(): Ast {
    const e = unary();
    if (!(isWord('cast') && isWord('as', 1))) return e;
    p += 2;
    const [type, optional] = singleType();
    return { t: 'cast', op: 'cast', e, type, optional };
  }
  function singleType(): [string, boolean] {
    if (peek().k !== 'name') fail('expected a type');
    const type = toks[p++]!.v;
    if (isSym('?')) {
      p++;
      return [type, true];
    }
    return [type, false];
  }
  function seqType(): SeqType {
    if (peek().k !== 'name') fail('expected a type');
    const type = toks[p++]!.v;
    if (KIND_TESTS.has(type) && isSym('(')) {
      p++;
      if (!isSym(')')) fail(`unsupported type argument in ${type}()`);
      p++;
    }
    let occ: SeqType['occ'] = '';
    if (isSym('?') || isSym('*') || isSym('+')) occ = toks[p++]!.v as SeqType['occ'];
    return { type, occ };
  }
  function unary(): Ast {
    let neg = false;
    let any = false;
    while (isSym('-') || isSym('+')) {
      if (toks[p]!.v === '-') neg = !neg;
      any = true;
      p++;
    }
    const e = path();
    return neg ? { t: 'neg', e } : any ? { t: 'bin', op: '+', l: { t: 'literal', kind: 'integer', text: '0' }, r: e } : e;
  }

  function startsStep(): boolean {
    const t = peek();
    if (t.k === 'name' || t.k === 'num' || t.k === 'str') return true;
    return t.k === 'sym' && ['@', '.', '..', '*', '(', '$'].includes(t.v);
  }

  function path(): Ast {
    let first: Ast;
    const rest: { sep: '/' | '//'; step: Ast }[] = [];
    if (isSym('/')) {
      p++;
      first = { t: 'root' };
      if (!startsStep()) return first;
      rest.push({ sep: '/', step: step() });
    } else if (isSym('//')) {
      p++;
      first = { t: 'root' };
      rest.push({ sep: '//', step: step() });
    } else first = step();
    while (isSym('/') || isSym('//')) {
      const sep = toks[p++]!.v as '/' | '//';
      rest.push({ sep, step: step() });
    }
    return rest.length ? { t: 'path', first, rest } : first;
  }

  function preds(): Ast[] {
    const list: Ast[] = [];
    while (isSym('[')) {
      p++;
      list.push(expr());
      eat(']');
    }
    return list;
  }

  function nodeTest(axis: Axis): NodeTest {
    const t = peek();
    if (t.k === 'sym' && t.v === '*') {
      p++;
      return { t: 'name', prefix: null, local: '*' };
    }
    if (t.k !== 'name') return fail('expected a node test');
    p++;
    if (isSym('(') && KIND_TESTS.has(t.v)) {
      p++;
      let name: string | undefined;
      if (!isSym(')')) {
        if (peek().k !== 'name' && !isSym('*')) fail('unsupported kind test');
        name = toks[p++]!.v;
        if (name === '*') name = undefined;
      }
      eat(')');
      if (!['node', 'text', 'element', 'attribute', 'document-node'].includes(t.v)) fail(`unsupported kind test ${t.v}()`);
      return { t: 'kind', kind: t.v as 'node', ...(name ? { name } : {}) };
    }
    void axis;
    const colon = t.v.indexOf(':');
    if (colon < 0) return { t: 'name', prefix: null, local: t.v };
    return { t: 'name', prefix: t.v.slice(0, colon), local: t.v.slice(colon + 1) };
  }

  function step(): Ast {
    const t = peek();
    if (t.k === 'sym' && t.v === '..') {
      p++;
      return { t: 'step', axis: 'parent', test: { t: 'kind', kind: 'node' }, preds: preds() };
    }
    if (t.k === 'sym' && t.v === '@') {
      p++;
      const test = nodeTest('attribute');
      return { t: 'step', axis: 'attribute', test, preds: preds() };
    }
    if (t.k === 'name' && isSym('::', 1)) {
      if (!AXES.has(t.v)) fail(`unsupported axis ${t.v}`);
      p += 2;
      const axis = t.v as Axis;
      const test = nodeTest(axis);
      return { t: 'step', axis, test, preds: preds() };
    }
    if ((t.k === 'name' && !(isSym('(', 1) && !KIND_TESTS.has(t.v))) || (t.k === 'sym' && t.v === '*')) {
      const test = nodeTest('child');
      return { t: 'step', axis: 'child', test, preds: preds() };
    }
    const base = primary();
    const list = preds();
    return list.length ? { t: 'filter', base, preds: list } : base;
  }

  function primary(): Ast {
    const t = peek();
    if (t.k === 'str') {
      p++;
      return { t: 'literal', kind: 'string', text: t.v };
    }
    if (t.k === 'num') {
      p++;
      return { t: 'literal', kind: /[eE]/.test(t.v) ? 'double' : t.v.includes('.') ? 'decimal' : 'integer', text: t.v };
    }
    if (t.k === 'sym' && t.v === '$') return { t: 'var', name: varName() };
    if (t.k === 'sym' && t.v === '.') {
      p++;
      return { t: 'ctx' };
    }
    if (t.k === 'sym' && t.v === '(') {
      p++;
      if (isSym(')')) {
        p++;
        return { t: 'seq', items: [] };
      }
      const e = expr();
      eat(')');
      return e.t === 'seq' ? e : { t: 'seq', items: [e] };
    }
    if (t.k === 'name' && isSym('(', 1)) {
      p += 2;
      const args: Ast[] = [];
      if (!isSym(')')) {
        args.push(single());
        while (isSym(',')) {
          p++;
          args.push(single());
        }
      }
      eat(')');
      return { t: 'call', name: t.v, args };
    }
    return fail('unexpected token');
  }

  const ast = expr();
  if (peek().k !== 'eof') fail('unexpected text after the expression');
  return ast;
}
