/**
 * CDAR lifecycle messages (UN/CEFACT CrossDomainAcknowledgementAndResponse D22B, flow 6), one
 * status of one invoice per message, as the BR-FR-CDV 1.4.0.03 rules want them: between
 * platforms (MDT-3 `urn.cpro.gouv.fr:1p0:CDV:invoice`, to the supplier) or to the concentrator
 * (MDT-3 `urn.cpro.gouv.fr:1p0:CDV:einvoicingF2`, one recipient: the PPF, 0000/0238, role DFH).
 * The status, its reason and its MDT-88 come from the one table, src/lifecycle/cdar.ts.
 */
import type { CdarRow } from '../lifecycle/cdar.js';
import { el, leaf, XML_DECLARATION, escapeXml } from '../xml/write.js';

export const CDAR_NS = 'urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100';
export const CDV_BETWEEN_PLATFORMS = 'urn.cpro.gouv.fr:1p0:CDV:invoice';
export const CDV_TO_PPF = 'urn.cpro.gouv.fr:1p0:CDV:einvoicingF2';

export interface CdarParty {
  id?: string;
  /** ISO 6523 scheme of the id: 0009 SIRET, 0002 SIREN, 0238 platform matricule. */
  scheme?: string;
  name?: string;
}

export interface CdarMessage {
  /** MDT-4: unique and deterministic (a rewritten file is the same file). */
  id: string;
  /** MDT-8: when the message was made. */
  createdAt: string;
  row: CdarRow;
  /** The concentrator's variant. */
  ppf?: boolean;
  /** The platform sending it (role WK). */
  platform: CdarParty;
  /** Who set the status in the processing phase (MDT-77 23): the buyer, role BY. */
  buyer: CdarParty;
  /** The supplier the message is for (role SE), and the seller of the invoice (MDT-129). */
  seller: CdarParty;
  /** A 501 answer goes to the platform that sent the refused flow (role WK). */
  answerTo?: CdarParty;
  invoice: { number: string; issueDate?: string; typeCode: string; receivedAt?: string };
  /** MDT-78: the status's time, as its producer gave it. */
  at: string;
  reason?: { code?: string; text?: string };
  comment?: string;
}

/** ISO date-time → CCYYMMDDHHMMSS (format 204) with the clock digits as written (the producer's own zone). */
export const format204 = (iso: string): string => {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(iso);
  return m ? `${m[1]}${m[2]}${m[3]}${m[4] ?? '00'}${m[5] ?? '00'}${m[6] ?? '00'}` : iso.replace(/\D/g, '').slice(0, 14).padEnd(14, '0');
};

const XS_DATETIME = /^-?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

const dateTime = (name: string, iso: string) => el(name, `<udt:DateTimeString format="204">${format204(iso)}</udt:DateTimeString>\n`);

const globalId = (p: CdarParty) => (p.id ? `<ram:GlobalID${p.scheme ? ` schemeID="${escapeXml(p.scheme)}"` : ''}>${escapeXml(p.id)}</ram:GlobalID>\n` : '');

function party(name: string, p: CdarParty, role: string, withId: boolean, uri?: string): string {
  return el(name, [
    withId ? globalId(p) : '',
    leaf('ram:Name', p.name),
    leaf('ram:RoleCode', role),
    uri ? el('ram:URIUniversalCommunication', `<ram:URIID schemeID="0225">${escapeXml(uri)}</ram:URIID>\n`) : '',
  ]);
}

export function cdarXml(m: CdarMessage): string {
  const { row } = m;
  const processing = row.phase === '23';
  const irreceivable = row.cdar === '501';
  // Recipients: the concentrator alone, a refused flow's sender, or the supplier (SE, with its address).
  const recipient = m.ppf
    ? el('ram:RecipientTradeParty', [globalId({ id: '0000', scheme: '0238' }), leaf('ram:Name', 'PPF'), leaf('ram:RoleCode', 'DFH')])
    : m.answerTo
      ? party('ram:RecipientTradeParty', m.answerTo, 'WK', true)
      : party('ram:RecipientTradeParty', m.seller, 'SE', true, m.seller.id);
  const status = m.reason?.code || m.reason?.text || m.comment || XS_DATETIME.test(m.at)
    ? el('ram:SpecifiedDocumentStatus', [
        XS_DATETIME.test(m.at) ? el('ram:ReferenceDateTime', `<udt:DateTime>${escapeXml(m.at)}</udt:DateTime>\n`) : '',
        leaf('ram:ReasonCode', m.reason?.code),
        leaf('ram:Reason', m.reason?.text),
        leaf('ram:SequenceNumeric', 1),
        m.comment ? el('ram:IncludedNote', leaf('ram:Content', m.comment)) : '',
      ])
    : '';
  return (
    XML_DECLARATION +
    el('rsm:CrossDomainAcknowledgementAndResponse', [
      el('rsm:ExchangedDocumentContext', [
        m.ppf ? '' : el('ram:BusinessProcessSpecifiedDocumentContextParameter', leaf('ram:ID', 'REGULATED')),
        el('ram:GuidelineSpecifiedDocumentContextParameter', leaf('ram:ID', m.ppf ? CDV_TO_PPF : CDV_BETWEEN_PLATFORMS)),
      ]),
      el('rsm:ExchangedDocument', [
        leaf('ram:ID', m.id),
        dateTime('ram:IssueDateTime', m.createdAt),
        party('ram:SenderTradeParty', m.platform, 'WK', !!m.ppf),
        // MDT-38: the issuer's id is required in the processing phase, absent in the transmission phase (BR-FR-CDV-07).
        processing ? party('ram:IssuerTradeParty', m.buyer, 'BY', true) : party('ram:IssuerTradeParty', m.platform, 'WK', false),
        recipient,
      ]),
      el('rsm:AcknowledgementDocument', [
        el('ram:MultipleReferencesIndicator', leaf('udt:Indicator', 'false')),
        leaf('ram:TypeCode', row.phase),
        dateTime('ram:IssueDateTime', m.at),
        el('ram:ReferenceReferencedDocument', [
          leaf('ram:IssuerAssignedID', m.invoice.number),
          leaf('ram:StatusCode', row.statusCode),
          leaf('ram:TypeCode', m.invoice.typeCode),
          m.invoice.receivedAt ? dateTime('ram:ReceiptDateTime', m.invoice.receivedAt) : '',
          m.ppf ? leaf('ram:ReferenceTypeCode', CDV_TO_PPF) : '',
          m.invoice.issueDate ? el('ram:FormattedIssueDateTime', `<qdt:DateTimeString format="102">${m.invoice.issueDate.replace(/-/g, '')}</qdt:DateTimeString>\n`) : '',
          leaf('ram:ProcessConditionCode', row.cdar),
          leaf('ram:ProcessCondition', row.label),
          irreceivable && !m.seller.id ? '' : el('ram:IssuerTradeParty', globalId(m.seller)),
          status,
        ]),
      ]),
    ], {
      'xmlns:rsm': CDAR_NS,
      'xmlns:ram': 'urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100',
      'xmlns:udt': 'urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100',
      'xmlns:qdt': 'urn:un:unece:uncefact:data:standard:QualifiedDataType:100',
    })
  );
}
