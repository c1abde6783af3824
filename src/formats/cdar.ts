/**
 * CDAR statuses sent in by recipients' platforms (flow 6) → the status updates a CPPStatut
 * gives: each referenced invoice's CDAR code becomes its Chorus Pro status through the one
 * table (src/lifecycle/cdar.ts), and then goes through the same judgement as a CPPStatut line
 * (lifecycle table, permissions, refusal codes). A code with no Chorus Pro status is kept as
 * `CDAR <code>`, which the lifecycle table refuses as an unknown status.
 */
import { CDAR_TABLE, cppOf } from '../lifecycle/cdar.js';
import { at, child, childrenNamed, descend, textOf, type XNode } from '../xml/parse.js';
import type { StatusUpdate } from './statut.js';

/** CCYYMMDD[HHMMSS] (formats 102, 204) → ISO; other text as it came. */
const isoOf = (s: string | undefined): string | undefined => {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$/.exec(s?.trim() ?? '');
  if (!m) return s?.trim() || undefined;
  return m[4] ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}` : `${m[1]}-${m[2]}-${m[3]}`;
};

const dateTimeOf = (n: XNode | undefined): string | undefined => textOf(n, 'DateTime') ?? isoOf(textOf(n, 'DateTimeString'));
const globalIdOf = (party: XNode | undefined): string => textOf(party, 'GlobalID') ?? textOf(party, 'ID') ?? '';

/** The default reason a status is sent with out: read back, it says nothing the words do not. */
const DEFAULT_REASONS = new Map(CDAR_TABLE.filter((r) => r.reason).map((r) => [r.cpp, r.reason!]));

export function readCdarStatuses(root: XNode): StatusUpdate[] {
  const exchanged = child(root, 'ExchangedDocument');
  const parties = [child(exchanged, 'IssuerTradeParty'), ...childrenNamed(exchanged, 'RecipientTradeParty')];
  // The buyer (BY) is the recipient whose status this is, issuer of the message in the processing phase.
  const buyer = parties.find((p) => textOf(p, 'RoleCode') === 'BY');
  let position = 0;
  return childrenNamed(root, 'AcknowledgementDocument').flatMap((ack) =>
    childrenNamed(ack, 'ReferenceReferencedDocument').map((ref): StatusUpdate => {
      const code = textOf(ref, 'ProcessConditionCode') ?? '';
      const status = cppOf(code) ?? `CDAR ${code}`;
      const detail = child(ref, 'SpecifiedDocumentStatus');
      const reasonCode = textOf(detail, 'ReasonCode');
      const words = textOf(detail, 'Reason')?.trim();
      const complement = words ? (reasonCode && reasonCode !== DEFAULT_REASONS.get(status) ? `${reasonCode}: ${words}` : words) : reasonCode;
      const seller = child(ref, 'IssuerTradeParty') ?? parties.find((p) => textOf(p, 'RoleCode') === 'SE');
      return {
        position: ++position,
        supplierId: globalIdOf(seller),
        recipientSiret: globalIdOf(buyer),
        number: textOf(ref, 'IssuerAssignedID') ?? '',
        invoiceDate: isoOf(textOf(child(ref, 'FormattedIssueDateTime'), 'DateTimeString')),
        status,
        complement: complement || undefined,
        comment: textOf(child(detail, 'IncludedNote'), 'Content') || undefined,
        motif: complement || undefined,
        producedAt: dateTimeOf(child(detail, 'ReferenceDateTime')) ?? dateTimeOf(child(ack, 'IssueDateTime')),
        where: at(descend(ref, 'ProcessConditionCode') ?? ref),
      };
    }),
  );
}
