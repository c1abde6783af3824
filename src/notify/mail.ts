/**
 * The e-mail a partner's contact address receives about an event, in French then English
 * (plain text and a simple HTML part with the same words). Pure: the dispatcher sends it.
 * A partner is told about refusals (a flow refused whole, invoices refused in a partly
 * integrated flow) and every status change of its invoices.
 */

interface Problem {
  code: string;
  message: string;
}

interface FlowPayload {
  flowId: string;
  file: string;
  state: string;
  statusCode: string;
  errors: Problem[];
  invoices: { total: number; accepted: number; rejected: number };
  rejected: { label: string; number: string; supplier: string; recipient: string; errors: Problem[] }[];
}

interface StatusPayload {
  number: string;
  supplier: string;
  supplierName: string;
  recipient: string;
  recipientName: string | null;
  status: string;
  statusLabel: string;
  producer: string;
  motif?: string;
  comment?: string;
  mandate?: string;
  flowId: string;
}

export interface Mail {
  subject: string;
  text: string;
  html: string;
}

/** Whether an event is mailed: refusals and status changes; a flow integrated whole is not news. */
export function mailWanted(type: string, payload: Record<string, unknown>): boolean {
  if (type === 'flow.refused' || type === 'invoice.status') return true;
  return type === 'flow.done' && payload.state === 'IN_INTEGRE_PARTIEL';
}

const PRODUCERS_FR: Record<string, string> = { platform: 'la plateforme', recipient: 'le destinataire', supplier: 'le fournisseur', accountant: 'le comptable' };
const PRODUCERS_EN: Record<string, string> = { platform: 'the platform', recipient: 'the recipient', supplier: 'the supplier', accountant: 'the accountant' };

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Paragraphs (each a list of lines) as text and as HTML. */
function render(subject: string, fr: string[][], en: string[][], eventId: string): Mail {
  const footer = [`Événement / event ${eventId}`];
  const text = [...fr, ['—'], ...en, footer].map((p) => p.join('\n')).join('\n\n') + '\n';
  const block = (paras: string[][], lang: string) => `<div lang="${lang}">${paras.map((p) => `<p>${p.map(escapeHtml).join('<br>')}</p>`).join('')}</div>`;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif;font-size:14px">${block(fr, 'fr')}<hr>${block(en, 'en')}<p style="color:#666;font-size:12px">${escapeHtml(footer[0]!)}</p></body></html>`;
  return { subject, text, html };
}

const problemLines = (errors: Problem[]) => errors.map((e) => `  ${e.code}: ${e.message}`);

export function mailOf(eventId: string, type: string, payload: Record<string, unknown>): Mail {
  if (type === 'invoice.status') {
    const p = payload as unknown as StatusPayload;
    const words = [p.motif, p.comment, p.mandate].filter(Boolean) as string[];
    const recipient = p.recipientName ? `${p.recipientName} (${p.recipient})` : p.recipient;
    return render(
      `[factflow] Facture / invoice ${p.number}: ${p.status} ${p.statusLabel}`,
      [[`La facture ${p.number} du fournisseur ${p.supplierName} (${p.supplier}) pour ${recipient} a changé de statut :`, `${p.status} ${p.statusLabel}, par ${PRODUCERS_FR[p.producer] ?? p.producer}.`], ...(words.length ? [words] : []), [`Flux : ${p.flowId}`]],
      [[`Invoice ${p.number} from supplier ${p.supplierName} (${p.supplier}) to ${recipient} changed status:`, `${p.status} ${p.statusLabel}, set by ${PRODUCERS_EN[p.producer] ?? p.producer}.`], ...(words.length ? [words] : []), [`Flow: ${p.flowId}`]],
      eventId,
    );
  }
  const p = payload as unknown as FlowPayload;
  const refusedWhole = type === 'flow.refused';
  const rejected = p.rejected.flatMap((r) => [`${r.label} ${r.number} (${r.supplier} → ${r.recipient})`, ...problemLines(r.errors)]);
  const details = [...problemLines(p.errors), ...rejected];
  return render(
    refusedWhole ? `[factflow] Flux refusé / flow refused: ${p.file}` : `[factflow] Factures refusées / invoices refused: ${p.file}`,
    [
      [refusedWhole ? `Le flux ${p.file} (${p.flowId}) a été refusé : ${p.state} (${p.statusCode}).` : `Le flux ${p.file} (${p.flowId}) est intégré en partie : ${p.invoices.accepted} facture(s) sur ${p.invoices.total} ; ${p.invoices.rejected} refusée(s).`],
      ...(details.length ? [['Motifs :', ...details]] : []),
      ['Corrigez la cause puis déposez le flux à nouveau (ou demandez un rejeu à l\'opérateur).'],
    ],
    [
      [refusedWhole ? `Flow ${p.file} (${p.flowId}) was refused: ${p.state} (${p.statusCode}).` : `Flow ${p.file} (${p.flowId}) was partly integrated: ${p.invoices.accepted} of ${p.invoices.total} invoice(s); ${p.invoices.rejected} refused.`],
      ...(details.length ? [['Reasons:', ...details]] : []),
      ['Fix the cause, then send the flow again (or ask the operator for a replay).'],
    ],
    eventId,
  );
}
