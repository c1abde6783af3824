/**
 * Payment means: the pivot accepts eight codes only. Codes the supplier may send
 * (UNCL 4461 as used by UBL/CII, or the pivot's own) are mapped here, in one place;
 * anything else is refused by the rules with RULE_PAYMENT_MODE_INVALID.
 */
const TO_PIVOT: Record<string, string> = {
  '10': '10', // cash
  '20': '20', // cheque
  '30': '30', // credit transfer
  '31': '31', // debit transfer
  '42': '42', // payment to bank account
  '48': '48', // bank card
  '49': '49', // direct debit
  '97': '97', // clearing between partners
  '58': '30', // SEPA credit transfer
  '59': '49', // SEPA direct debit
  '54': '48', // credit card
  '55': '48', // debit card
  '57': '42', // standing agreement
  // "Instrument not defined" (UNCL 4461 code 1, written 01 in real mixed flows): public
  // buyers pay by transfer, so the documented default is 30.
  '1': '30',
  '01': '30',
};

export const pivotPaymentCode = (code: string): string | undefined => TO_PIVOT[code.trim()];

/**
 * The pivot's ModePaiement/Libelle, in French, by pivot code: written from the code (not
 * from the supplier's own label, which names its code before mapping, e.g. "SEPA credit
 * transfer" for 58 → 30). The pivot XSD sets no length on Libelle.
 */
export const PIVOT_PAYMENT_LABELS: Readonly<Record<string, string>> = {
  '10': 'Espèces',
  '20': 'Chèque',
  '30': 'Virement',
  '31': 'Virement (débit)',
  '42': 'Paiement sur compte bancaire',
  '48': 'Carte bancaire',
  '49': 'Prélèvement',
  '97': 'Compensation',
};

export const pivotPaymentLabel = (code: string): string | undefined => {
  const pivot = pivotPaymentCode(code);
  return pivot && PIVOT_PAYMENT_LABELS[pivot];
};
