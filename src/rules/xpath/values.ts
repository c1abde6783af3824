/**
 * XPath 2.0 values as the official rules see them (schema-unaware, as the official XSLT runs):
 * nodes atomize to untypedAtomic, literals are xs:string, xs:integer/xs:decimal (exact,
 * big.js, its own constructor so the hub's settings are untouched) or xs:double; booleans and
 * xs:date. The conversions and comparisons follow XPath 2.0, including its type errors, which
 * the official engine raises too (MANIFEST's ENGINE-ERROR cells).
 */
import BigBase from 'big.js';
import { RNode } from './tree.js';

export const Dec = BigBase();
// Division of decimals: the official engine keeps 18+ fraction digits; results are rounded by the rules.
Dec.DP = 20;
Dec.RM = 1;
export type Decimal = BigBase.Big;

/**
 * A node's typed value without a schema: its string value, typed xs:untypedAtomic. A node's
 * is made once (atomize), and keeps its conversions to numbers: amounts are read by many rules.
 */
export class Untyped {
  decimal?: Decimal;
  double?: number;
  constructor(readonly s: string) {}
}

export class XDate {
  constructor(
    readonly text: string,
    /** Days since 1970-01-01 (UTC, adjusted by the timezone when there is one). */
    readonly key: number,
  ) {}
}

export type Atomic = string | Untyped | boolean | number | Decimal | XDate;
export type Item = RNode | Atomic;
export type Seq = Item[];

/** A dynamic or type error of XPath: the official engine stops the whole rule set on it. */
export class XPathError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export const isDecimal = (x: unknown): x is Decimal => x instanceof Dec;
export const isNumeric = (x: unknown): x is number | Decimal => typeof x === 'number' || x instanceof Dec;

export function atomize(item: Item): Atomic {
  if (!(item instanceof RNode)) return item;
  return (item.atom ??= new Untyped(item.string())) as Untyped;
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const DOUBLE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const XML_SPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;

export function parseDouble(text: string): number | undefined {
  const s = text.replace(XML_SPACE, '');
  if (DOUBLE.test(s)) return Number(s);
  if (s === 'INF') return Infinity;
  if (s === '-INF') return -Infinity;
  if (s === 'NaN') return NaN;
  return undefined;
}

function castError(text: string, type: string): XPathError {
  return new XPathError('FORG0001', `cannot convert "${text.length > 40 ? `${text.slice(0, 40)}…` : text}" to ${type}`);
}

export function toDouble(a: Atomic): number {
  if (typeof a === 'number') return a;
  if (a instanceof Dec) return Number(a.toString());
  if (typeof a === 'boolean') return a ? 1 : 0;
  if (a instanceof Untyped) return (a.double ??= textToDouble(a.s));
  if (typeof a === 'string') return textToDouble(a);
  throw new XPathError('XPTY0004', 'a date is not a number');
}

function textToDouble(s: string): number {
  const d = parseDouble(s);
  if (d === undefined) throw castError(s, 'xs:double');
  return d;
}

export function toDecimal(a: Atomic): Decimal {
  if (a instanceof Dec) return a;
  if (typeof a === 'number') {
    if (!Number.isFinite(a)) throw new XPathError('FOCA0002', `cannot convert ${a} to xs:decimal`);
    return new Dec(a);
  }
  if (typeof a === 'boolean') return new Dec(a ? 1 : 0);
  if (a instanceof Untyped) return (a.decimal ??= textToDecimal(a.s));
  if (typeof a === 'string') return textToDecimal(a);
  throw new XPathError('XPTY0004', 'a date is not a number');
}

function textToDecimal(text: string): Decimal {
  const s = text.replace(XML_SPACE, '');
  if (!DECIMAL.test(s)) throw castError(s, 'xs:decimal');
  // big.js takes neither a '+' sign nor a bare point at either end.
  let t = s[0] === '+' ? s.slice(1) : s;
  if (t.endsWith('.')) t = t.slice(0, -1);
  t = t.replace(/^(-?)\./, '$10.');
  return new Dec(t);
}

export function toInteger(a: Atomic): Decimal {
  if (a instanceof Untyped || typeof a === 'string') {
    const s = (a instanceof Untyped ? a.s : a).replace(XML_SPACE, '');
    if (!/^[+-]?\d+$/.test(s)) throw castError(s, 'xs:integer');
    return new Dec(s.replace(/^\+/, ''));
  }
  return toDecimal(a).round(0, 0);
}

export function toBoolean(a: Atomic): boolean {
  if (typeof a === 'boolean') return a;
  if (typeof a === 'number') return !(a === 0 || Number.isNaN(a));
  if (a instanceof Dec) return !a.eq(0);
  if (a instanceof Untyped || typeof a === 'string') {
    const s = (a instanceof Untyped ? a.s : a).replace(XML_SPACE, '');
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    throw castError(s, 'xs:boolean');
  }
  throw new XPathError('XPTY0004', 'cannot convert a date to xs:boolean');
}

const DATE = /^(-?\d{4,})-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?$/;

export function toDate(a: Atomic): XDate {
  if (a instanceof XDate) return a;
  if (!(a instanceof Untyped || typeof a === 'string')) throw new XPathError('XPTY0004', 'only text converts to xs:date');
  const s = (a instanceof Untyped ? a.s : a).replace(XML_SPACE, '');
  const m = DATE.exec(s);
  if (!m) throw castError(s, 'xs:date');
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (!days || d < 1 || d > days) throw castError(s, 'xs:date');
  let key = Date.UTC(y, mo - 1, d) / 86_400_000;
  const tz = m[4];
  if (tz && tz !== 'Z') key -= (Number(tz.slice(0, 3)) * 60 + Math.sign(Number(tz.slice(0, 3)) || 1) * Number(tz.slice(4))) / 1440;
  return new XDate(s, key);
}

function doubleString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'INF';
  if (d === -Infinity) return '-INF';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const abs = Math.abs(d);
  if (abs >= 1e-6 && abs < 1e6) return String(d);
  // Canonical xs:double outside that range: mantissa with one digit before the point, then E.
  const [mant, exp] = d.toExponential().split('e');
  return `${mant!.includes('.') ? mant : `${mant}.0`}E${Number(exp)}`;
}

export function decimalString(d: Decimal): string {
  const s = d.toFixed();
  return s === '-0' ? '0' : s;
}

export function atomicString(a: Atomic): string {
  if (typeof a === 'string') return a;
  if (a instanceof Untyped) return a.s;
  if (typeof a === 'boolean') return a ? 'true' : 'false';
  if (typeof a === 'number') return doubleString(a);
  if (a instanceof Dec) return decimalString(a);
  return a.text;
}

export function itemString(i: Item): string {
  return i instanceof RNode ? i.string() : atomicString(i);
}

/** The effective boolean value (XPath 2.0 §2.4.3). */
export function ebv(s: Seq): boolean {
  if (s.length === 0) return false;
  const f = s[0]!;
  if (f instanceof RNode) return true;
  if (s.length > 1) throw new XPathError('FORG0006', 'effective boolean value of a sequence of more than one atomic value');
  if (typeof f === 'boolean') return f;
  if (typeof f === 'string') return f.length > 0;
  if (f instanceof Untyped) return f.s.length > 0;
  if (typeof f === 'number') return !(f === 0 || Number.isNaN(f));
  if (f instanceof Dec) return !f.eq(0);
  throw new XPathError('FORG0006', 'effective boolean value of a date');
}

type Kind = 'string' | 'numeric' | 'boolean' | 'date';
function kindOf(a: Atomic): Kind {
  if (typeof a === 'string' || a instanceof Untyped) return 'string';
  if (typeof a === 'boolean') return 'boolean';
  if (a instanceof XDate) return 'date';
  return 'numeric';
}

/** Compares two atomic values of comparable types: negative, 0, positive, or NaN (unordered). */
export function compareAtomic(a: Atomic, b: Atomic): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) throw new XPathError('XPTY0004', `cannot compare ${ka} with ${kb}`);
  if (ka === 'string') {
    const x = typeof a === 'string' ? a : (a as Untyped).s;
    const y = typeof b === 'string' ? b : (b as Untyped).s;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ka === 'numeric') {
    if (typeof a === 'number' || typeof b === 'number') {
      const x = toDouble(a);
      const y = toDouble(b);
      return Number.isNaN(x) || Number.isNaN(y) ? NaN : x - y;
    }
    return (a as Decimal).cmp(b as Decimal);
  }
  if (ka === 'boolean') return Number(a) - Number(b);
  return (a as XDate).key - (b as XDate).key;
}

/** Casts an untypedAtomic operand of a general comparison to the other operand's type (XPath 2.0 §3.5.2). */
export function generalPair(a: Atomic, b: Atomic): [Atomic, Atomic] {
  const ua = a instanceof Untyped;
  const ub = b instanceof Untyped;
  if (ua === ub) return [a, b];
  const other = ua ? b : a;
  const u = (ua ? a : b) as Untyped;
  let cast: Atomic;
  if (typeof other === 'string') cast = u.s;
  else if (isNumeric(other)) cast = toDouble(u);
  else if (typeof other === 'boolean') cast = toBoolean(u);
  else cast = toDate(u);
  return ua ? [cast, b] : [a, cast];
}

export type CompOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export function testComparison(op: CompOp, c: number): boolean {
  if (Number.isNaN(c)) return op === '!=';
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

export function generalCompare(op: CompOp, left: Seq, right: Seq): boolean {
  if (left.length === 0 || right.length === 0) return false;
  const ra = right.map(atomize);
  const equality = op === '=' || op === '!=';
  for (const l of left) {
    const la = atomize(l);
    const ls = typeof la === 'string' ? la : la instanceof Untyped ? la.s : undefined;
    for (const r of ra) {
      // Strings and untyped values on both sides (the commonest case): compared as strings, nothing to cast.
      if (equality && ls !== undefined) {
        const rs = typeof r === 'string' ? r : r instanceof Untyped ? r.s : undefined;
        if (rs !== undefined) {
          if (op === '=' ? ls === rs : ls !== rs) return true;
          continue;
        }
      }
      const [x, y] = generalPair(la, r);
      if (op !== '=' && op !== '!=' && kindOf(x) === 'boolean' && kindOf(y) !== 'boolean') throw new XPathError('XPTY0004', 'cannot compare');
      if (testComparison(op, compareAtomic(x, y))) return true;
    }
  }
  return false;
}
