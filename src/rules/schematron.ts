/**
 * Running a rule set generated from an official Schematron file (src/rules/generated/) over a
 * document tree with Schematron's semantics: every element is visited once in document
 * order; within a pattern, the element is checked by the FIRST rule whose context matches
 * it; an assert fails when its test is false, a report when it is true. Contexts are indexed
 * by the element name of their last step, then, per place in the tree (the names from the root
 * down), by their names-only test, so an element only runs the predicates of rules that can match.
 * Expressions are compiled on the rule set's first use and kept for the process.
 */
import { bindLet, compilePredicate, compileTest, neverPositional, type Ctx, type DocState, nodeTestFn, Scope, StaticContext, type UserFunction } from './xpath/compile.js';
import { parseXPath, type Ast } from './xpath/parser.js';
import { DOCUMENT, ELEMENT, RNode } from './xpath/tree.js';
import { type Item, XPathError } from './xpath/values.js';

/** A rule set as the generator writes it: the Schematron's structure, expressions as text. */
export interface RuleSetSource {
  name: string;
  /** Where it comes from (file and version), for messages and docs. */
  source: string;
  namespaces: Record<string, string>;
  lets: [string, string][];
  functions: UserFunction[];
  patterns: { id: string; rules: { context: string; lets: [string, string][]; checks: [id: string, flag: 'fatal' | 'warning', kind: 'assert' | 'report', test: string][] }[] }[];
  /** Documents document() reads, as nested [name, attributes, children] (the Factur-X code lists). */
  documents?: Record<string, DocSource>;
}
export type DocSource = [name: string, attrs: Record<string, string>, children: DocSource[]];

export interface Failure {
  id: string;
  flag: 'fatal' | 'warning';
  node: RNode;
  /** The pattern that found it (the official report lists failures pattern by pattern). */
  pattern: number;
  /** The business terms the rule's test names, for messages (from the check's id and test). */
  test: string;
}

/** The official engine stopped on a dynamic error: the rule set has no verdict for the document. */
export class EngineError extends Error {
  constructor(
    readonly ruleSet: string,
    readonly rule: string,
    readonly cause: XPathError,
  ) {
    super(`${ruleSet} ${rule}: ${cause.message}`);
  }
}

type Matcher = (n: RNode | null, c: Ctx) => boolean;
/** The names-only part of a pattern (no predicates): a node failing it cannot match, so predicates are not run. */
type Quick = (n: RNode | null) => boolean;

interface Check {
  id: string;
  flag: 'fatal' | 'warning';
  report: boolean;
  test: (c: Ctx) => boolean;
  text: string;
}
interface Rule {
  match: (n: RNode, c: Ctx) => boolean;
  /** The names-only test of the context; `plain` when the context has no predicates (then it is the whole match). */
  quick: Quick;
  full: Matcher;
  plain: boolean;
  /** Variable slots the context's predicates use (0: a shared empty frame will do). */
  matchSlots: number;
  slots: number;
  checks: Check[];
  order: number;
}
interface Compiled {
  /** Per element local name: per pattern (in order), the rules that may match, in order. */
  byName: Map<string, Rule[][]>;
  wildcard: Rule[][];
  rootRules: Rule[][];
  patterns: number;
  sc: StaticContext;
  documents: Map<string, RNode>;
  /**
   * Per element place (the namespaces and names from the root down to it): per pattern that
   * has any, the rules whose names-only test passes there. Names decide it, so it is shared
   * by every element in that place, in any document.
   */
  places: Place;
  /** Places kept so far: past a bound (hostile documents with endless names), new ones are not kept. */
  placeCount: number;
}
/** A place in the tree: its candidate rules (found on first visit) and the places below, by namespace then name. */
interface Place {
  rules: [pattern: number, rules: Rule[]][] | undefined;
  below: Map<string, Map<string, Place>>;
}
const newPlace = (): Place => ({ rules: undefined, below: new Map() });

const compiledSets = new WeakMap<RuleSetSource, Compiled>();

function compile(set: RuleSetSource): Compiled {
  const sc = new StaticContext(set.namespaces, set.functions);
  for (const [name, value] of set.lets) sc.addGlobal(name, value);
  const byName = new Map<string, Rule[][]>();
  const wildcard: Rule[][] = set.patterns.map(() => []);
  const rootRules: Rule[][] = set.patterns.map(() => []);
  let order = 0;
  set.patterns.forEach((pattern, pi) => {
    for (const r of pattern.rules) {
      const scope = new Scope(sc, sc.globalBindings(), { n: 0 });
      const { match, quick, full, plain, names, root } = compilePattern(r.context, scope);
      const matchSlots = scope.slots.n;
      for (const [name, value] of r.lets) bindLet(scope, name, value);
      const checks = r.checks.map(([id, flag, kind, test]) => ({ id, flag, report: kind === 'report', test: compileTest(test, scope), text: test }));
      const rule: Rule = { match, quick, full, plain, matchSlots, slots: scope.slots.n, checks, order: order++ };
      if (root) rootRules[pi]!.push(rule);
      if (names === '*') wildcard[pi]!.push(rule);
      else
        for (const name of names) {
          let list = byName.get(name);
          if (!list) byName.set(name, (list = set.patterns.map(() => [])));
          list[pi]!.push(rule);
        }
    }
  });
  // Each name's candidates merged with the wildcard rules, kept in the Schematron's order.
  for (const lists of byName.values()) lists.forEach((l, pi) => l.push(...wildcard[pi]!) && l.sort((a, b) => a.order - b.order));
  const documents = new Map<string, RNode>();
  for (const [uri, src] of Object.entries(set.documents ?? {})) documents.set(uri, buildDocument(src));
  return { byName, wildcard, rootRules, patterns: set.patterns.length, sc, documents, places: newPlace(), placeCount: 0 };
}

function buildDocument(src: DocSource): RNode {
  let order = 0;
  const doc = new RNode(DOCUMENT, '', '', null, order++, 0, '');
  const add = (parent: RNode, [name, attrs, kids]: DocSource): void => {
    const n = new RNode(ELEMENT, name, '', parent, order++, 0, '');
    n.slot = parent.elems.length;
    parent.kids.push(n);
    parent.elems.push(n);
    for (const [k, v] of Object.entries(attrs)) n.attrs.push(new RNode(2, k, '', n, order++, 0, v));
    for (const k of kids) add(n, k);
  };
  add(doc, src);
  return doc;
}


/**
 * An XSLT match pattern (unions, parenthesized alternatives, / and // between steps): the
 * candidate node is tested by the last step, then its parent or an ancestor by the rest.
 * `names` are the element names the pattern can match ('*' when any element can), `root`
 * whether it matches the document node.
 */
function compilePattern(context: string, scope: Scope): { match: (n: RNode, c: Ctx) => boolean; quick: Quick; full: Matcher; plain: boolean; names: string[] | '*'; root: boolean } {
  let plain = true;
  let root = false;
  const unsupported = (): never => {
    throw new Error(`unsupported rule context ${context}`);
  };
  const build = (ast: Ast): { m: Matcher; q: Quick; names: string[] | '*' } => {
    if (ast.t === 'bin' && ast.op === '|') {
      const l = build(ast.l);
      const r = build(ast.r);
      return { m: (n, c) => (l.q(n) && l.m(n, c)) || (r.q(n) && r.m(n, c)), q: (n) => l.q(n) || r.q(n), names: l.names === '*' || r.names === '*' ? '*' : [...l.names, ...r.names] };
    }
    if (ast.t === 'seq' && ast.items.length === 1) return build(ast.items[0]!);
    if (ast.t === 'filter') {
      // (P)[E]: the node matches P, and E holds with the node as the only item.
      const base = build(ast.base);
      const preds = ast.preds.map((p) => compilePredicate(p, scope));
      plain = false;
      return {
        m: (n, c) => {
          if (!base.m(n, c)) return false;
          let items: Item[] = [n!];
          for (const p of preds) items = p(items, c);
          return items.length > 0;
        },
        q: base.q,
        names: base.names,
      };
    }
    if (ast.t === 'root') {
      root = true;
      const q: Quick = (n) => n?.kind === DOCUMENT;
      return { m: q, q, names: [] };
    }
    if (ast.t === 'step') {
      if (ast.axis !== 'child') unsupported();
      const t = stepMatcher(ast, scope);
      if (ast.preds.length) plain = false;
      const nt = nodeTestFn(ast.test, ast.axis, scope.sc.namespaces);
      return { m: (n, c) => !!n && n.kind === ELEMENT && t(n, c), q: (n) => !!n && n.kind === ELEMENT && nt(n), names: ast.test.t === 'name' && ast.test.local !== '*' ? [ast.test.local] : '*' };
    }
    if (ast.t === 'path') {
      const lastAt = ast.rest.length - 1;
      const { sep, step } = ast.rest[lastAt]!;
      const last = build(step);
      const prefixAst: Ast = lastAt === 0 ? ast.first : { t: 'path', first: ast.first, rest: ast.rest.slice(0, lastAt) };
      // `//x` from the root: any ancestor is below the document node.
      if (prefixAst.t === 'root' && sep === '//') return last;
      const wasRoot = root;
      const prefix = build(prefixAst);
      root = wasRoot;
      const m: Matcher =
        sep === '/'
          ? (n, c) => last.m(n, c) && prefix.m(n!.parent, c)
          : (n, c) => {
              if (!last.m(n, c)) return false;
              for (let p = n!.parent; p; p = p.parent) if (prefix.q(p) && prefix.m(p, c)) return true;
              return false;
            };
      const q: Quick =
        sep === '/'
          ? (n) => last.q(n) && prefix.q(n!.parent)
          : (n) => {
              if (!last.q(n)) return false;
              for (let p = n!.parent; p; p = p.parent) if (prefix.q(p)) return true;
              return false;
            };
      return { m, q, names: last.names };
    }
    return unsupported();
  };
  const { m, q, names } = build(parseXPath(context));
  // Names first: the predicates run only on nodes in the right place.
  return { match: (n, c) => q(n) && m(n, c), quick: q, full: m, plain, names, root };
}

/** Does node n pass a pattern step (node test, then predicates with n's position among the parent's nodes passing the test)? */
function stepMatcher(step: Extract<Ast, { t: 'step' }>, scope: Scope): (n: RNode, c: Ctx) => boolean {
  const test = nodeTestFn(step.test, step.axis, scope.sc.namespaces);
  if (!step.preds.length) return (n) => test(n);
  const preds = step.preds.map((p) => compilePredicate(p, scope));
  // Predicates that cannot select by position are tested on the node alone.
  if (step.preds.every(neverPositional)) {
    const one: Item[] = [];
    return (n, c) => {
      if (!test(n) || !n.parent) return false;
      let items: Item[] = one;
      one[0] = n;
      for (const p of preds) if (!(items = p(items, c)).length) return false;
      return true;
    };
  }
  return (n, c) => {
    if (!test(n) || !n.parent) return false;
    let items: Item[] = (step.axis === 'attribute' ? n.parent.attrs : n.parent.kids).filter(test);
    for (const p of preds) items = p(items, c);
    return items.includes(n);
  };
}

export interface RunResult {
  failures: Failure[];
}

/** Runs one rule set over a document; throws EngineError where the official engine stops. */
export function runRuleSet(set: RuleSetSource, root: RNode): Failure[] {
  let compiled = compiledSets.get(set);
  if (!compiled) compiledSets.set(set, (compiled = compile(set)));
  const { byName, wildcard, rootRules, patterns, sc, documents, places } = compiled;
  const doc: DocState = {
    root,
    cache: [],
    globals: new Array(sc.globalCount()),
    globalCtx: undefined,
    load(uri) {
      const d = documents.get(uri);
      if (!d) throw new XPathError('FODC0002', `document ${uri} is not available`);
      return d;
    },
  };
  const failures: Failure[] = [];
  const noVars = { vals: [], rule: undefined };
  const matchCtx: Ctx = { item: undefined, pos: 1, size: 1, frame: { vals: [], rule: undefined }, doc };
  // A rule without variables (no lets, no range variables) writes nothing in its frame: one context serves its firings.
  const plainCtx: Ctx = { item: undefined, pos: 1, size: 1, frame: noVars, doc };
  const fire = (rule: Rule, n: RNode, pattern: number): void => {
    let c = plainCtx;
    if (rule.slots) {
      c = { item: n, pos: 1, size: 1, frame: { vals: new Array(rule.slots), rule: undefined }, doc };
      c.frame.rule = c;
    } else c.item = n;
    for (const check of rule.checks) {
      let ok: boolean;
      try {
        ok = check.test(c);
      } catch (e) {
        if (e instanceof XPathError) throw new EngineError(set.name, check.id, e);
        throw e;
      }
      if (ok === check.report) failures.push({ id: check.id, flag: check.flag, node: n, pattern, test: check.text });
    }
  };
  const visit = (n: RNode, lists: Rule[][]): void => {
    for (let pi = 0; pi < patterns; pi++) {
      const rules = lists[pi]!;
      for (const rule of rules) {
        let m: boolean;
        try {
          matchCtx.frame = rule.matchSlots ? { vals: new Array(rule.matchSlots), rule: undefined } : noVars;
          m = rule.match(n, matchCtx);
        } catch (e) {
          if (e instanceof XPathError) throw new EngineError(set.name, 'context', e);
          throw e;
        }
        if (m) {
          fire(rule, n, pi);
          break;
        }
      }
    }
  };
  visit(root, rootRules);
  const placeOf = (e: RNode, parent: Place): Place => {
    let byLocal = parent.below.get(e.ns);
    if (!byLocal) parent.below.set(e.ns, (byLocal = new Map()));
    let here = byLocal.get(e.local);
    if (!here) {
      here = newPlace();
      if (compiled!.placeCount < 50_000) {
        compiled!.placeCount++;
        byLocal.set(e.local, here);
      }
    }
    if (!here.rules) {
      const list: [number, Rule[]][] = [];
      const lists = byName.get(e.local) ?? wildcard;
      for (let pi = 0; pi < patterns; pi++) {
        const rules = lists[pi]!.filter((r) => r.quick(e));
        if (rules.length) list.push([pi, rules]);
      }
      here.rules = list;
    }
    return here;
  };
  const walk = (n: RNode, place: Place): void => {
    for (const e of n.elems) {
      const here = placeOf(e, place);
      for (const [pi, rules] of here.rules!) {
        for (const rule of rules) {
          let m: boolean;
          if (rule.plain) m = true;
          else
            try {
              matchCtx.frame = rule.matchSlots ? { vals: new Array(rule.matchSlots), rule: undefined } : noVars;
              m = rule.full(e, matchCtx);
            } catch (err) {
              if (err instanceof XPathError) throw new EngineError(set.name, 'context', err);
              throw err;
            }
          if (m) {
            fire(rule, e, pi);
            break;
          }
        }
      }
      if (e.elems.length) walk(e, here);
    }
  };
  walk(root, places);
  // In the official report's order: pattern by pattern, each in document order (a stable sort).
  return failures.sort((a, b) => a.pattern - b.pattern);
}
