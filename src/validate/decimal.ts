/**
 * Amounts and identifiers as the formats write them: decimal text, read in one linear pass
 * and computed exactly (big.js), never through binary floating point, which loses cents
 * above 2^53 / 100 (about 9 x 10^13) and whole euros above 10^17.
 */
import Big from 'big.js';

/**
 * The hub's limits on amounts. The schemas (E2 mixed, pivot V2.02, UBL, CII) type amounts
 * as plain xs:decimal without totalDigits or fractionDigits; XSD 1.0 only guarantees 18
 * digits to the processors of the buyers who receive the pivot, so an amount is refused
 * beyond 18 digits before the decimal point. Fraction digits are bounded (18) only so that
 * no input makes arithmetic unbounded; real invoices carry up to 10.
 */
export const MAX_INTEGER_DIGITS = 18;
export const MAX_FRACTION_DIGITS = 18;

export interface DecimalText {
  value: Big;
  integerDigits: number;
  fractionDigits: number;
}

/** `[+-]digits[.digits]` (or `.digits`), surrounding white space allowed; undefined otherwise. */
export function parseDecimal(text: string): DecimalText | undefined {
  const s = text.trim();
  let i = s[0] === '+' || s[0] === '-' ? 1 : 0;
  let intDigits = 0;
  let fracDigits = 0;
  let significant = false;
  let leadingZeros = 0;
  for (; i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39; i++) {
    if (s[i] !== '0') significant = true;
    if (significant) intDigits++;
    else leadingZeros++;
  }
  if (s[i] === '.') for (i++; i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39; i++) fracDigits++;
  if (i !== s.length || intDigits + leadingZeros + fracDigits === 0) return undefined;
  // big.js refuses "5." and "+5": give it the canonical spelling.
  const body = s.replace(/^\+/, '').replace(/\.$/, '');
  return { value: new Big(body.startsWith('.') || body.startsWith('-.') ? body.replace('.', '0.') : body), integerDigits: intDigits, fractionDigits: fracDigits };
}

export const withinLimits = (d: DecimalText): boolean => d.integerDigits <= MAX_INTEGER_DIGITS && d.fractionDigits <= MAX_FRACTION_DIGITS;

/** Half away from zero to the cent, as invoices round. */
export const round2 = (b: Big): Big => b.round(2, Big.roundHalfUp);
export const fmt2 = (b: Big): string => round2(b).toFixed(2);

/**
 * The canonical text of an xs:integer-family value (NumOrdre, Compteur): the schema compares
 * values, so "01", "+1" and " 1 " are all 1. Undefined when the text is not an integer.
 * Digits stay text: 9007199254740993 is not 9007199254740992.
 */
export function canonicalInteger(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const s = text.trim();
  let i = s[0] === '+' || s[0] === '-' ? 1 : 0;
  const sign = s[0] === '-' ? '-' : '';
  if (i === s.length) return undefined;
  for (let k = i; k < s.length; k++) if (s.charCodeAt(k) < 0x30 || s.charCodeAt(k) > 0x39) return undefined;
  while (i < s.length - 1 && s[i] === '0') i++;
  const digits = s.slice(i);
  return digits === '0' ? '0' : sign + digits;
}
