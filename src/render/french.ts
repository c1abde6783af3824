/**
 * French presentation of the invoice's values. Amounts are formatted from the decimal text the
 * supplier sent, digit by digit, never through a float: what the PDF shows is exactly what the
 * structured invoice says, only grouped (`1 234,56`) and with a decimal comma.
 */

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Groups of three digits separated by a space (searchable and copyable as typed). */
function group(int: string): string {
  const digits = int.replace(/^0+(?=\d)/, '') || '0';
  let out = '';
  for (let i = digits.length; i > 0; i -= 3) out = digits.slice(Math.max(0, i - 3), i) + (out ? ' ' + out : '');
  return out;
}

/** A decimal string in French notation with at least `minDecimals` decimals; text that is not a number is shown as sent. */
export function frenchNumber(value: string | undefined, minDecimals = 0): string {
  if (value === undefined) return '';
  const m = DECIMAL.exec(value.trim());
  if (!m || (!m[2] && !m[3])) return value;
  const sign = m[1] === '-' ? '-' : '';
  const decimals = (m[3] ?? '').padEnd(minDecimals, '0');
  return `${sign}${group(m[2] ?? '')}${decimals ? ',' + decimals : ''}`;
}

const SYMBOLS: Record<string, string> = { EUR: '€', USD: '$', GBP: '£', CHF: 'CHF', XPF: 'XPF' };

/** An amount with two decimals at least (more when the supplier sent more) and its currency. */
export function frenchAmount(value: string | undefined, currency: string): string {
  if (value === undefined || value.trim() === '') return '';
  return `${frenchNumber(value, 2)} ${SYMBOLS[currency] ?? currency}`;
}

export const frenchRate = (rate: string | undefined): string => (rate === undefined || rate === '' ? '' : `${frenchNumber(rate)} %`);

/** YYYY-MM-DD as DD/MM/YYYY; anything else as sent. */
export function frenchDate(iso: string | undefined): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso ?? '');
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso ?? '';
}

/** Payment means by their pivot code (the code the recipient will see): the pivot's own labels. */
export { PIVOT_PAYMENT_LABELS as PAYMENT_LABELS } from '../model/paymentMeans.js';

/** Billing frameworks (cadres de facturation) as the platform names them. */
export const CADRE_LABELS: Record<string, string> = {
  A1: 'Dépôt par un fournisseur d’une facture',
  A2: 'Dépôt par un fournisseur d’une facture déjà payée',
  A9: 'Dépôt par un sous-traitant d’une facture',
  A12: 'Dépôt par un cotraitant d’une facture',
};

export const TYPE_LABELS: Record<string, string> = { '380': 'Facture', '381': 'Avoir' };
