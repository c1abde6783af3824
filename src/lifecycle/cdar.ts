/**
 * Chorus Pro's statuses and the reform's CDAR lifecycle statuses (flow 6, UN/CEFACT
 * CrossDomainAcknowledgementAndResponse D22B, rules BR-FR-CDV 1.4.0.03), as ONE table that both
 * directions read: a status the hub emits becomes its row's CDAR code, and a CDAR code a
 * partner sends becomes its row's Chorus Pro status, then goes through the lifecycle table
 * (src/lifecycle/statuses.ts) like a CPPStatut line. No official correspondence is published;
 * each choice and each gap is said in its row (`why`).
 */
import type { StatusFormat } from '../config.js';
import type { FlowError } from '../errors/catalog.js';

/** MDT-77: 305 for the transmission phase (platforms), 23 for the processing phase (the parties). */
export type CdarPhase = '305' | '23';

export interface CdarRow {
  /** Chorus Pro status: invoice 01–12, flow 90–96. */
  cpp: string;
  cppName: string;
  /** The CDAR status (MDT-105), when one says the same thing. */
  cdar?: string;
  /** MDT-106, as the FNFE examples spell it. */
  label?: string;
  phase?: CdarPhase;
  /** MDT-88, only where the FNFE examples give it (the element is optional in BR-FR-CDV-CL-05). */
  statusCode?: string;
  /** The reason (MDT-113, list BR-FR-CDV-CL-09) sent when the motif is not itself one of the status's codes. */
  reason?: string;
  /** Also sent to the concentrator (PPF), in its own variant. */
  ppf?: boolean;
  /** Further CDAR codes read as this status (one direction only: the hub emits `cdar`). */
  alsoFrom?: string[];
  why: string;
}

export const CDAR_TABLE: readonly CdarRow[] = [
  { cpp: '01', cppName: 'DEPOSEE', cdar: '200', label: 'Déposée', phase: '305', statusCode: '10', ppf: true, why: 'the invoice is accepted by the platform' },
  { cpp: '02', cppName: 'EN_COURS_ACHEMINEMENT', cdar: '202', label: 'Reçue', phase: '305', statusCode: '43', why: "on its way to the recipient: the recipient's platform has it (factflow never sets 02 itself)" },
  { cpp: '03', cppName: 'MISE_A_DISPOSITION', cdar: '203', label: 'Mise_à_disposition', phase: '305', statusCode: '48', why: 'the pivot is written for the recipient' },
  { cpp: '04', cppName: 'A_RECYCLER', cdar: '221', label: 'Erreur_routage', phase: '23', reason: 'ROUTAGE_ERR', why: 'sent back for its routing data; 221 accepts only ROUTAGE_ERR' },
  { cpp: '05', cppName: 'REJETEE', cdar: '210', label: 'Refusée', phase: '23', reason: 'NON_CONFORME', ppf: true, why: "the recipient's refusal; a motif that is a 210 reason code is sent as is, any other text goes in MDT-114 with NON_CONFORME" },
  { cpp: '06', cppName: 'SUSPENDUE', cdar: '208', label: 'Suspendue', phase: '23', reason: 'JUSTIF_ABS', alsoFrom: ['207'], why: 'suspended until the supplier completes it (12); 207 En litige is read as 06 too: the supplier answers a dispute the same way' },
  { cpp: '12', cppName: 'COMPLETEE', why: "none: the supplier's completion is its new deposit, whose 200 and 203 the recipient receives" },
  { cpp: '07', cppName: 'SERVICE_FAIT', cdar: '205', label: 'Approuvée', phase: '23', statusCode: '1', why: 'the service is certified done: the invoice is approved' },
  { cpp: '08', cppName: 'MANDATEE', why: 'none: an internal step of public accounting (the payment order); CDAR has no status between 205 Approuvée and 211 Paiement transmis' },
  { cpp: '09', cppName: 'MISE_A_DISPOSITION_COMPTABLE', why: "none: handed to the public accountant, internal like 08" },
  { cpp: '10', cppName: 'COMPTABILISEE', why: 'none: booked by the accountant, internal like 08' },
  { cpp: '11', cppName: 'MISE_EN_PAIEMENT', cdar: '211', label: 'Paiement_transmis', phase: '23', statusCode: '47', why: 'the payment is sent' },
  { cpp: '90', cppName: 'IN_INTEGRE', why: "none: CDAR speaks of invoices, not flows; each invoice's 200 says it" },
  { cpp: '96', cppName: 'IN_INTEGRE_PARTIEL', cdar: '213', label: 'Rejetée', phase: '305', statusCode: '8', reason: 'REJ_SEMAN', ppf: true, why: "each rejected invoice of the flow gets 213 Rejetée with the reason of its first error; the accepted ones get 200" },
  { cpp: '93', cppName: 'QP_IRRECEVABLE', cdar: '501', label: 'Irrecevable', phase: '305', reason: 'IRR_SYNTAX', why: "the flow itself is refused: 501 Irrecevable with an IRR_ reason, to its sender (IN_REJETE, also 93, rejects every invoice: each gets 213)" },
  { cpp: '91', cppName: '(not used)', why: 'none: factflow never gives a flow this status' },
  { cpp: '95', cppName: '(not used)', why: 'none: factflow never gives a flow this status' },
  { cpp: '92', cppName: 'RECU_DESTINATAIRE', why: "none: a recipient's acknowledgment of a pivot flow (CPPFluxStatuts), which names a flow, not an invoice" },
  { cpp: '94', cppName: 'ERREUR_RECEPTION', why: "none: as 92, a pivot flow's acknowledgment" },
];

/** CDAR codes with no Chorus Pro status: read, and refused as an unknown status, with this reason in the README. */
export const CDAR_WITHOUT_CPP: Record<string, string> = {
  '201': 'Émise par la plateforme: the seller side of the platform, which is factflow itself',
  '204': 'Prise en charge: Chorus Pro goes from made available to service fait or mandate directly',
  '206': 'Approuvée partiellement: Chorus Pro approves (07) or refuses (05) a whole invoice',
  '209': 'Complétée: the completion is a new deposit (12 then 03), not a status sent in',
  '212': "Encaissée: the supplier's own statement of cash received, never a recipient's",
  '220': 'Annulée: Chorus Pro has no cancellation; the supplier sends a credit note',
};

/** The CDAR code of every status, once: 200 Déposée … */
const BY_CPP = new Map(CDAR_TABLE.map((r) => [r.cpp, r]));
const BY_CDAR = new Map(CDAR_TABLE.flatMap((r) => [...(r.cdar ? [[r.cdar, r] as const] : []), ...(r.alsoFrom ?? []).map((c) => [c, r] as const)]));

export const cdarOf = (cpp: string): CdarRow | undefined => {
  const row = BY_CPP.get(cpp);
  return row?.cdar ? row : undefined;
};

/** The Chorus Pro status a CDAR code stands for; undefined: none (CDAR_WITHOUT_CPP, or not a code). */
export const cppOf = (cdar: string): string | undefined => BY_CDAR.get(cdar)?.cpp;

/** The CDAR reasons (MDT-113) each status accepts, BR-FR-CDV-CL-09 (for 210, the list between platforms). */
export const CDAR_REASONS: Record<string, readonly string[]> = {
  '200': ['NON_TRANSMISE'],
  '206': ['AUTRE', 'CMD_ERR', 'SIRET_ERR', 'CODE_ROUTAGE_ERR', 'REF_CT_ABSENT', 'REF_ERR', 'PU_ERR', 'REM_ERR', 'QTE_ERR', 'ART_ERR', 'MODPAI_ERR', 'QUALITE_ERR', 'LIVR_INCOMP'],
  '207': ['AUTRE', 'COORD_BANC_ERR', 'TX_TVA_ERR', 'MONTANTTOTAL_ERR', 'CALCUL_ERR', 'NON_CONFORME', 'DOUBLON', 'DEST_INC', 'DEST_ERR', 'TRANSAC_INC', 'EMMET_INC', 'CONTRAT_TERM', 'DOUBLE_FACT', 'CMD_ERR', 'ADR_ERR', 'SIRET_ERR', 'CODE_ROUTAGE_ERR', 'REF_CT_ABSENT', 'REF_ERR', 'PU_ERR', 'REM_ERR', 'QTE_ERR', 'ART_ERR', 'MODPAI_ERR', 'QUALITE_ERR', 'LIVR_INCOMP'],
  '208': ['JUSTIF_ABS', 'COORD_BANC_ERR', 'CMD_ERR', 'SIRET_ERR', 'CODE_ROUTAGE_ERR', 'REF_CT_ABSENT', 'REF_ERR'],
  '210': ['TX_TVA_ERR', 'MONTANTTOTAL_ERR', 'CALCUL_ERR', 'NON_CONFORME', 'DOUBLON', 'DEST_ERR', 'TRANSAC_INC', 'EMMET_INC', 'CONTRAT_TERM', 'DOUBLE_FACT', 'CMD_ERR', 'ADR_ERR', 'REF_CT_ABSENT'],
  '213': ['MONTANTTOTAL_ERR', 'CALCUL_ERR', 'DOUBLON', 'DEST_INC', 'ADR_ERR', 'REJ_SEMAN', 'REJ_UNI', 'REJ_COH', 'REJ_ADR', 'REJ_CONT_B2G', 'REJ_REF_PJ', 'REJ_ASS_PJ'],
  '221': ['ROUTAGE_ERR'],
  '501': ['IRR_VIDE_F', 'IRR_TYPE_F', 'IRR_SYNTAX', 'IRR_TAILLE_PJ', 'IRR_NOM_PJ', 'IRR_VID_PJ', 'IRR_EXT_DOC', 'IRR_TAILLE_F', 'IRR_ANTIVIRUS', 'IRR_NOM_F'],
};

/**
 * The reason code and text a status carries out: a motif that is one of its codes is the code;
 * `CODE: words` with one of its codes (how a CDAR status read in keeps a reason that is not the
 * default, src/formats/cdar.ts) is that code and those words; other text is the reason's words.
 */
export function reasonOf(row: CdarRow, motif?: string): { code?: string; text?: string } {
  const t = motif?.trim();
  const allowed = CDAR_REASONS[row.cdar!] ?? [];
  if (t && allowed.includes(t)) return { code: t };
  const prefixed = t ? /^([A-Z_]+): (.+)$/s.exec(t) : null;
  if (prefixed && allowed.includes(prefixed[1]!)) return { code: prefixed[1], text: prefixed[2] };
  return { code: row.reason, text: t || undefined };
}

/** Why an invoice was rejected at deposit (213), from its first error's code. */
export function rejectionReason(errors: readonly Pick<FlowError, 'code'>[]): string {
  const code = errors[0]?.code ?? '';
  if (code === 'RULE_DOUBLE_INVOICING' || code === 'RULE_DUPLICATE_IN_FLOW') return 'DOUBLON';
  if (/^RULE_AMOUNT_(TTC|VAT|LINES)_MISMATCH$/.test(code)) return 'CALCUL_ERR';
  if (code.startsWith('RULE_AMOUNT_')) return 'MONTANTTOTAL_ERR';
  if (code.startsWith('ROUTE_RECIPIENT_')) return 'DEST_INC';
  if (code.startsWith('ROUTE_')) return 'REJ_ADR';
  if (code.startsWith('RULE_ATTACHMENT')) return 'REJ_ASS_PJ';
  if (code.startsWith('LIFE_') || code.startsWith('PARTNER_') || code === 'STATUS_TEXT_TOO_LONG') return 'REJ_COH';
  return 'REJ_SEMAN';
}

/** Why a whole flow is irreceivable (501), from its first error's code. */
export function irreceivableReason(errors: readonly Pick<FlowError, 'code'>[]): string {
  const code = errors[0]?.code ?? '';
  if (code === 'FLOW_EMPTY' || code === 'ARCHIVE_EMPTY') return 'IRR_VIDE_F';
  if (code === 'FLOW_TOO_LARGE' || code === 'ARCHIVE_TOO_LARGE' || code === 'ARCHIVE_TOO_MANY_ENTRIES') return 'IRR_TAILLE_F';
  if (code === 'FLOW_UNKNOWN_FORMAT' || code === 'FLOW_NOT_REGULAR_FILE' || code.startsWith('PDF_') || code.startsWith('FACTURX_') || code.startsWith('ARCHIVE_')) return 'IRR_TYPE_F';
  // Schema and XML errors, and what CL-09 has no reason for (a duplicate file, an unknown partner folder).
  return 'IRR_SYNTAX';
}

export const wantsCdar = (f: StatusFormat | undefined): boolean => f === 'cdar' || f === 'both';
export const wantsCpp = (f: StatusFormat | undefined): boolean => f !== 'cdar';
