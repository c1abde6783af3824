/**
 * Deposit rules (domain §6) as pure functions over one canonical invoice.
 * Each returns coded errors with the location of the offending element; none does I/O.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import { attachmentSize, type Invoice } from '../model/invoice.js';
import { pivotPaymentCode } from '../model/paymentMeans.js';
import { ISO_4217 } from './currencies.js';
import { isValidSiret } from './identifiers.js';
import { fmt2, MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, parseDecimal, round2, withinLimits } from './decimal.js';
import Big from 'big.js';
import { unsafeFileNameReason } from '../util/fileNames.js';
import { actorId, circuitOf } from '../lifecycle/circuits.js';
import { DEFAULT_FACTURX_PROFILES, parseProfileRules, profileAccepted, type FacturxProfile, type ProfileRule } from '../formats/facturxProfiles.js';

export interface RuleContext {
  /** The deposit date, YYYY-MM-DD: issue dates may not be later. */
  depositDate: string;
  maxAttachmentBytes: number;
  maxInvoiceTotalBytes: number;
  /** Factur-X profiles accepted (the facturxProfiles setting, parsed); absent: the 2026 defaults. */
  facturxProfiles?: ProfileRule[];
}

type Rule = (inv: Invoice, ctx: RuleContext) => FlowError[];

const CADRES = new Set(Array.from({ length: 25 }, (_, i) => `A${i + 1}`).filter((c) => c !== 'A11'));
export const ALLOWED_EXTENSIONS = [
  'pdf', 'xml', 'zip', 'jpg', 'jpeg', 'png', 'tif', 'tiff', 'gif', 'bmp', 'csv', 'txt', 'odt', 'ods', 'odp',
  'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'rtf', 'htm', 'html', 'msg', 'eml', 'p7s', 'xhtml', 'svg',
];
const EXTENSIONS = new Set(ALLOWED_EXTENSIONS);

const supplierIdentity: Rule = (inv) => {
  const where = inv.where.supplierId;
  if (!inv.supplier.id) return [flowError('RULE_SUPPLIER_ID_MISSING', { element: where?.element ?? 'Fournisseur/Identifiant' }, where)];
  if (inv.supplier.idType === '1' && !isValidSiret(inv.supplier.id)) {
    return [flowError('RULE_SUPPLIER_SIRET_INVALID', { value: inv.supplier.id }, where)];
  }
  return [];
};

const recipientPresent: Rule = (inv) =>
  inv.recipient.siret
    ? []
    : [flowError('RULE_RECIPIENT_ID_MISSING', { element: inv.where.recipientId?.element ?? 'Debiteur/Identifiant' }, inv.where.recipientId ?? inv.where.invoice)];

const invoiceNumber: Rule = (inv) => {
  if (!inv.number) return [flowError('RULE_INVOICE_NUMBER_MISSING', {}, inv.where.number ?? inv.where.invoice)];
  if (inv.number.length > 20) return [flowError('RULE_INVOICE_NUMBER_TOO_LONG', { value: inv.number, length: inv.number.length }, inv.where.number)];
  return [];
};

/**
 * The routing references as long as Chorus Pro keeps them (domain §2, the pivot's CodeService,
 * NumeroEngagement, NumeroMarche): a structured invoice's schema bounds none of them, and a
 * longer one would be cut or make an invalid pivot.
 */
const REFERENCE_LIMITS = [
  ['RULE_SERVICE_CODE_TOO_LONG', 100, (inv: Invoice) => inv.recipient.serviceCode, 'serviceCode'],
  ['RULE_ENGAGEMENT_TOO_LONG', 50, (inv: Invoice) => inv.engagementNumber, 'engagementNumber'],
  ['RULE_CONTRACT_NUMBER_TOO_LONG', 50, (inv: Invoice) => inv.contractNumber, 'engagementNumber'],
] as const;

const references: Rule = (inv) =>
  REFERENCE_LIMITS.flatMap(([code, max, value, field]) => {
    const v = value(inv);
    const length = v ? [...v].length : 0;
    return v && length > max ? [flowError(code, { value: v, length }, inv.where[field] ?? inv.where.invoice)] : [];
  });

export function isIsoDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

const issueDate: Rule = (inv, ctx) => {
  if (!isIsoDate(inv.issueDate)) return [flowError('RULE_ISSUE_DATE_INVALID', { value: inv.issueDate }, inv.where.issueDate)];
  if (inv.issueDate > ctx.depositDate) {
    return [flowError('RULE_ISSUE_DATE_FUTURE', { value: inv.issueDate, depositDate: ctx.depositDate }, inv.where.issueDate)];
  }
  return [];
};

const currency: Rule = (inv) =>
  ISO_4217.has(inv.currency) ? [] : [flowError('RULE_CURRENCY_INVALID', { value: inv.currency }, inv.where.currency)];

const invoiceType: Rule = (inv) =>
  inv.type === '380' || inv.type === '381' ? [] : [flowError('RULE_TYPE_INVALID', { value: inv.type }, inv.where.type)];

const cadre: Rule = (inv) => {
  if (!CADRES.has(inv.cadre)) return [flowError('RULE_CADRE_INVALID', { value: inv.cadre }, inv.where.cadre)];
  // Whoever acts in the framework's validation circuit must be named.
  const levels = circuitOf(inv.cadre)?.levels ?? [];
  if (levels.some((l) => l.by === 'valideur' && !actorId(inv, 'valideur'))) return [flowError('RULE_CADRE_VALIDATOR_MISSING', { value: inv.cadre }, inv.where.cadre)];
  if (levels.some((l) => l.by === 'moe' && !actorId(inv, 'moe'))) return [flowError('RULE_CADRE_MOE_MISSING', { value: inv.cadre }, inv.where.cadre)];
  return [];
};

const paymentMeans: Rule = (inv) =>
  pivotPaymentCode(inv.paymentMeans.code) ? [] : [flowError('RULE_PAYMENT_MODE_INVALID', { value: inv.paymentMeans.code }, inv.where.paymentMeans)];

/**
 * Amounts are decimal text computed exactly (big.js): the tolerances are the platform's
 * (one cent per VAT line on the total, one cent per line on the sum of the lines), never a
 * floating-point epsilon.
 */
const CENT = new Big('0.01');

const amounts: Rule = (inv) => {
  const errors: FlowError[] = [];
  const parse = (value: string, element: string, where = inv.where.totals): Big | undefined => {
    const d = parseDecimal(value);
    if (!d) errors.push(flowError('RULE_AMOUNT_INVALID', { element, value }, where));
    else if (!withinLimits(d)) {
      errors.push(flowError('RULE_AMOUNT_OUT_OF_RANGE', { element, value: value.trim(), integerDigits: MAX_INTEGER_DIGITS, fractionDigits: MAX_FRACTION_DIGITS }, where));
    } else return d.value;
    return undefined;
  };
  const ht = parse(inv.totals.net, 'Total without VAT');
  const ttc = parse(inv.totals.gross, 'Total with VAT');
  const payable = parse(inv.totals.payable, 'Amount payable');
  for (const [element, value] of [['Total without VAT', ht], ['Total with VAT', ttc], ['Amount payable', payable]] as const) {
    if (value !== undefined && value.lt(0)) errors.push(flowError('RULE_AMOUNT_NEGATIVE', { element, value: value.toFixed() }, inv.where.totals));
  }
  let vatTotal = new Big(0);
  let vatComplete = true;
  for (const line of inv.vat) {
    const amount = parse(line.amount, 'VAT amount', inv.where.vat);
    if (amount !== undefined) vatTotal = vatTotal.plus(amount);
    else vatComplete = false;
    // A category without a rate (not subject to VAT) has nothing to multiply.
    if (line.rate.trim() === '') continue;
    const rate = parse(line.rate, 'VAT rate', inv.where.vat);
    const base = parse(line.base, 'VAT base', inv.where.vat);
    if (rate === undefined || base === undefined || amount === undefined) continue;
    const expected = round2(base.times(rate).times(CENT));
    if (amount.minus(expected).abs().gt(CENT)) {
      errors.push(flowError('RULE_AMOUNT_VAT_MISMATCH', { rate: line.rate, amount: line.amount, base: line.base, expected: expected.toFixed(2) }, inv.where.vat));
    }
  }
  if (ht !== undefined && ttc !== undefined && vatComplete && ttc.minus(ht.plus(vatTotal)).abs().gt(CENT.times(Math.max(1, inv.vat.length)))) {
    errors.push(flowError('RULE_AMOUNT_TTC_MISMATCH', { ttc: inv.totals.gross, ht: inv.totals.net, vat: fmt2(vatTotal), expected: fmt2(ht.plus(vatTotal)) }, inv.where.totals));
  }
  const expectedLines = inv.totals.lines ? parse(inv.totals.lines, 'Sum of lines') : ht;
  if (expectedLines !== undefined && inv.lines.length) {
    let linesTotal = new Big(0);
    let complete = true;
    for (const l of inv.lines) {
      const amount = parse(l.netAmount, 'Line amount', inv.where.lines);
      if (amount === undefined) complete = false;
      else linesTotal = linesTotal.plus(amount);
    }
    if (complete && linesTotal.minus(expectedLines).abs().gt(CENT.times(inv.lines.length))) {
      errors.push(flowError('RULE_AMOUNT_LINES_MISMATCH', { linesTotal: fmt2(linesTotal), ht: inv.totals.lines ?? inv.totals.net }, inv.where.lines));
    }
  }
  return errors;
};

const attachments: Rule = (inv, ctx) => {
  const errors: FlowError[] = [];
  const where = inv.where.attachments ?? inv.where.invoice;
  const invoiceDocs = inv.attachments.filter((a) => a.type === '01').length;
  if (invoiceDocs === 0) errors.push(flowError('RULE_ATTACHMENT_INVOICE_MISSING', {}, where));
  if (invoiceDocs > 1) errors.push(flowError('RULE_ATTACHMENT_INVOICE_MULTIPLE', {}, where));
  let total = 0;
  for (const a of inv.attachments) {
    const name = a.name;
    const size = attachmentSize(a);
    total += size;
    if (a.badBase64) errors.push(flowError('RULE_ATTACHMENT_BASE64', { name }, where));
    else if (a.badZip) errors.push(flowError('RULE_ATTACHMENT_ZIP_INVALID', { name }, where));
    else if (size === 0) errors.push(flowError('RULE_ATTACHMENT_EMPTY', { name }, where));
    else if (size >= ctx.maxAttachmentBytes) {
      errors.push(flowError('RULE_ATTACHMENT_TOO_LARGE', { name, size, limit: ctx.maxAttachmentBytes }, where));
    }
    const unsafe = unsafeFileNameReason(name);
    if (unsafe) errors.push(flowError('RULE_ATTACHMENT_NAME_UNSAFE', { name, reason: unsafe }, where));
    if (name.length > 50) errors.push(flowError('RULE_ATTACHMENT_NAME_TOO_LONG', { name, length: name.length }, where));
    const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
    if (!ext || !EXTENSIONS.has(ext)) errors.push(flowError('RULE_ATTACHMENT_EXTENSION', { name, allowed: ALLOWED_EXTENSIONS.join(', ') }, where));
  }
  if (total > ctx.maxInvoiceTotalBytes) errors.push(flowError('RULE_ATTACHMENTS_TOTAL_TOO_LARGE', { size: total, limit: ctx.maxInvoiceTotalBytes }, where));
  return errors;
};

/** The rules, in the order their errors are reported. */
const DEFAULT_RULES = parseProfileRules(DEFAULT_FACTURX_PROFILES);

/** A Factur-X profile must be accepted on the deposit date (BASIC WL only until 1 September 2027 by default). */
const facturxProfile: Rule = (inv, ctx) => {
  if (!inv.facturx) return [];
  const verdict = profileAccepted(inv.facturx.profile as FacturxProfile, ctx.depositDate, ctx.facturxProfiles ?? DEFAULT_RULES);
  return verdict.accepted ? [] : [flowError('FACTURX_PROFILE_NOT_ACCEPTED', { profile: inv.facturx.profile, why: verdict.why }, inv.where.invoice)];
};

export const DEPOSIT_RULES: readonly Rule[] = [
  supplierIdentity, recipientPresent, invoiceNumber, references, issueDate, currency, invoiceType, cadre, paymentMeans, amounts, attachments, facturxProfile,
];

export function checkInvoice(inv: Invoice, ctx: RuleContext): FlowError[] {
  return DEPOSIT_RULES.flatMap((rule) => rule(inv, ctx));
}
