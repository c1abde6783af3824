/**
 * Our own words for the official rules' failures (the official assert texts are not copied).
 * Rules seen failing in practice have a written message; any other rule gets one built from
 * its id and the EN 16931 business terms its test refers to.
 */

/** EN 16931 business terms and groups (ids and names are the standard's facts). */
const TERMS: Record<string, string> = {
  'BT-1': 'invoice number',
  'BT-2': 'invoice issue date',
  'BT-3': 'invoice type code',
  'BT-5': 'invoice currency code',
  'BT-6': 'VAT accounting currency code',
  'BT-7': 'VAT point date',
  'BT-9': 'payment due date',
  'BT-10': 'buyer reference',
  'BT-13': 'purchase order reference',
  'BT-20': 'payment terms',
  'BT-21': 'invoice note subject code',
  'BT-22': 'invoice note',
  'BT-23': 'business process type',
  'BT-24': 'specification identifier',
  'BT-27': 'seller name',
  'BT-29': 'seller identifier',
  'BT-30': 'seller legal registration identifier',
  'BT-31': 'seller VAT identifier',
  'BT-34': 'seller electronic address',
  'BT-40': 'seller country code',
  'BT-44': 'buyer name',
  'BT-46': 'buyer identifier',
  'BT-47': 'buyer legal registration identifier',
  'BT-48': 'buyer VAT identifier',
  'BT-49': 'buyer electronic address',
  'BT-55': 'buyer country code',
  'BT-60': 'payee identifier',
  'BT-81': 'payment means type code',
  'BT-84': 'payment account identifier',
  'BT-92': 'document level allowance amount',
  'BT-95': 'document level allowance VAT category code',
  'BT-99': 'document level charge amount',
  'BT-102': 'document level charge VAT category code',
  'BT-106': 'sum of invoice line net amounts',
  'BT-107': 'sum of allowances on document level',
  'BT-108': 'sum of charges on document level',
  'BT-109': 'invoice total amount without VAT',
  'BT-110': 'invoice total VAT amount',
  'BT-112': 'invoice total amount with VAT',
  'BT-113': 'paid amount',
  'BT-114': 'rounding amount',
  'BT-115': 'amount due for payment',
  'BT-116': 'VAT category taxable amount',
  'BT-117': 'VAT category tax amount',
  'BT-118': 'VAT category code',
  'BT-119': 'VAT category rate',
  'BT-120': 'VAT exemption reason text',
  'BT-121': 'VAT exemption reason code',
  'BT-126': 'invoice line identifier',
  'BT-129': 'invoiced quantity',
  'BT-130': 'invoiced quantity unit of measure code',
  'BT-131': 'invoice line net amount',
  'BT-146': 'item net price',
  'BT-151': 'invoiced item VAT category code',
  'BT-152': 'invoiced item VAT rate',
  'BT-153': 'item name',
  'BG-3': 'preceding invoice reference',
  'BG-4': 'seller',
  'BG-7': 'buyer',
  'BG-16': 'payment instructions',
  'BG-20': 'document level allowances',
  'BG-21': 'document level charges',
  'BG-22': 'document totals',
  'BG-23': 'VAT breakdown',
  'BG-25': 'invoice line',
};

/** Messages for the rules that fail in real invoices (the corpus's verdicts), in a supplier's terms. */
const WRITTEN: Record<string, string> = {
  'BR-01': 'the invoice must say which specification it follows (BT-24)',
  'BR-02': 'the invoice number (BT-1) is missing',
  'BR-06': 'the seller name (BT-27) is missing',
  'BR-09': 'the seller postal address must have a country code (BT-40)',
  'BR-12': 'the sum of invoice line net amounts (BT-106) is missing',
  'BR-16': 'the invoice has no invoice line (BG-25)',
  'BR-22': 'each invoice line needs an invoiced quantity (BT-129)',
  'BR-23': 'each invoice line needs a quantity unit of measure code (BT-130)',
  'BR-26': 'each invoice line needs an item net price (BT-146)',
  'BR-27': 'an item net price (BT-146) cannot be negative',
  'BR-CL-25': 'the endpoint identifier scheme is not in the EAS code list',
  'BR-CO-04': 'each invoice line needs an invoiced item VAT category code (BT-151)',
  'BR-CO-10': 'the sum of invoice line net amounts (BT-106) is not the sum of the line net amounts (BT-131)',
  'BR-CO-12': 'the sum of document level allowances (BT-107) is not the sum of the allowance amounts (BT-92)',
  'BR-CO-13': 'the total without VAT (BT-109) is not lines (BT-106) minus allowances (BT-107) plus charges (BT-108)',
  'BR-CO-14': 'the total VAT amount (BT-110) is not the sum of the VAT category tax amounts (BT-117)',
  'BR-CO-16': 'the amount due for payment (BT-115) is not total with VAT (BT-112) minus paid amount (BT-113) plus rounding (BT-114)',
  'BR-CO-26': 'the seller needs a seller identifier (BT-29), legal registration identifier (BT-30) or VAT identifier (BT-31)',
  'BR-S-08': 'a standard-rated VAT breakdown taxable amount (BT-116) does not match its lines, allowances and charges at that rate',
  'BR-S-10': 'a standard-rated VAT breakdown must have a positive VAT rate (BT-119)',
  'BR-E-01': 'exempt lines (category E) need exactly one exempt VAT breakdown (BG-23)',
  'BR-E-08': 'the exempt VAT breakdown taxable amount (BT-116) does not match its lines, allowances and charges',
  'BR-G-01': 'export lines (category G) need exactly one export VAT breakdown (BG-23)',
  'BR-G-08': 'the export VAT breakdown taxable amount (BT-116) does not match its lines, allowances and charges',
  'BR-IC-01': 'intra-community lines (category K) need exactly one intra-community VAT breakdown (BG-23)',
  'BR-IC-08': 'the intra-community VAT breakdown taxable amount (BT-116) does not match its lines, allowances and charges',
  'BR-IC-11': 'an intra-community supply needs an actual delivery date or invoicing period',
  'BR-IC-12': 'an intra-community supply needs the deliver-to country code',
  'CII-DT-031': 'this CII element is not used by EN 16931 (the document uses a data type part outside the core invoice)',
  'CII-DT-021': 'this CII element is not used by EN 16931',
  'CII-DT-027': 'this CII element is not used by EN 16931',
  'CII-SR-439': 'this CII element is not used by EN 16931',
  'CII-SR-465': 'this CII element is not used by EN 16931',
  'FX-SCH-A-000556': 'the specification identifier (BT-24) is not one the Factur-X profile accepts',
};

const BRFR_SUBJECTS: Record<string, string> = {
  'BR-FR-02': 'the invoice number (BT-1) has characters the French rules do not allow or is too long',
  'BR-FR-04': 'the invoice type code (BT-3) is not one the French rules allow',
  'BR-FR-05': 'a mandatory French note (BT-22 with subject PMT, PMD or AAB) is missing',
  'BR-FR-08': 'the business process type (BT-23) must be a French billing framework code (B1, S1, M1, …)',
  'BR-FR-10': 'the seller SIREN (BT-30, scheme 0002) is missing or is not 9 digits',
  'BR-FR-12': 'the buyer electronic address (BT-49) must use an allowed scheme',
  'BR-FR-13': 'the seller electronic address (BT-34) must use an allowed scheme',
  'BR-FR-16': 'the VAT category code or rate (BT-118/BT-119) is not one the French rules allow',
};

export function messageFor(rule: string, test: string): string {
  const written = WRITTEN[rule];
  if (written) return written;
  const fr = /^BR-FR-\d+/.exec(rule);
  if (fr && BRFR_SUBJECTS[fr[0]]) return BRFR_SUBJECTS[fr[0]]!;
  const terms = [...new Set([...`${rule} ${test}`.matchAll(/(?<![A-Z0-9])(B[TG]-\d+)(?!\d)/g)].map((m) => m[1]!))];
  const named = terms.filter((t) => TERMS[t]).map((t) => `${TERMS[t]} (${t})`);
  if (named.length) return `the invoice breaks rule ${rule} on ${named.join(', ')}`;
  return `the invoice breaks rule ${rule}`;
}
