/**
 * The hostile-input corpus (`npm run hostile` writes fixtures/hostile/): each file with the
 * outcome the hub must give it. Small files are committed; large ones are generated when the
 * test runs (`generate: true` in EXPECTED.json).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOverlappingZip, writeZip } from './archives.js';
import { FIXTURE_RECIPIENTS, mixedFlow, ublInvoice } from './synth.js';
import { HOSTILE_PDFS } from './pdfs.js';

export interface HostileCase {
  file: string;
  /** What it tries. */
  attack: string;
  state: 'IN_INTEGRE' | 'IN_INTEGRE_PARTIEL' | 'IN_REJETE' | 'QP_IRRECEVABLE';
  /** Every error code the report must hold (flow and invoice level), in any order. */
  codes: string[];
  /** Generated at test time (too large to commit), or created by the test (a symlink). */
  generate?: boolean;
}

const MB = 1024 * 1024;
const commune = [FIXTURE_RECIPIENTS[0]!];
/** A valid one-invoice flow; `tag` makes its bytes and invoice number unique. */
const valid = (tag: string, invoices = 1, pdfBytes = 512) => mixedFlow({ seed: tag.length * 7919 + tag.charCodeAt(0), flowTag: tag, invoices, pdfBytes, recipients: commune });
const withDoctype = (doctype: string, body = valid('DTD')) => body.replace('<CPPFactureMixte>', `${doctype}\n<CPPFactureMixte>`);
const pj = (xml: string, contenu: string | null, name?: string) => {
  let out = xml;
  if (contenu !== null) out = out.replace(/<Contenu>[^<]*<\/Contenu>/, `<Contenu>${contenu}</Contenu>`);
  if (name) out = out.replace(/<NomPJ>[^<]*<\/NomPJ>/, `<NomPJ>${name}</NomPJ>`);
  return out;
};

/** A valid flow with these totals (one VAT line at 20 %, the given line amounts). */
const withAmounts = (tag: string, ht: string, vat: string, ttc: string, lines = [ht]) =>
  valid(tag)
    .replace(/<Montants>.*<\/Montants>/, `<Montants><MontantHT>${ht}</MontantHT><MontantTTC>${ttc}</MontantTTC><MontantNetAPayer>${ttc}</MontantNetAPayer></Montants>`)
    .replace(/<TVAS>.*<\/TVAS>/, `<TVAS><TVA><Taux>20</Taux><BaseHt>${ht}</BaseHt><MontantTVA>${vat}</MontantTVA></TVA></TVAS>`)
    .replace(/<Lignes>.*<\/Lignes>/, `<Lignes>${lines.map((l, i) => `<Ligne NumOrdre="${i + 1}"><PrixUnitaire>${l}</PrixUnitaire><Quantite>1</Quantite><MontantHT>${l}</MontantHT></Ligne>`).join('')}</Lignes>`);
const utf16 = (xml: string, bigEndian: boolean) => {
  const le = Buffer.from(xml.replace('encoding="UTF-8"', 'encoding="UTF-16"'), 'utf16le');
  return bigEndian ? le.swap16() : le;
};

export const HOSTILE: { spec: HostileCase; content: () => Buffer | string }[] = [
  { spec: { file: 'xxe-file.xml', attack: 'external entity reading /etc/passwd', state: 'QP_IRRECEVABLE', codes: ['XML_DOCTYPE_FORBIDDEN'] },
    content: () => withDoctype('<!DOCTYPE CPPFactureMixte [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace('ACME FOURNITURES SAS', '&xxe;') },
  { spec: { file: 'xxe-http.xml', attack: 'external entity fetched over HTTP', state: 'QP_IRRECEVABLE', codes: ['XML_DOCTYPE_FORBIDDEN'] },
    content: () => withDoctype('<!DOCTYPE CPPFactureMixte [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/leak">]>').replace('ACME FOURNITURES SAS', '&xxe;') },
  { spec: { file: 'billion-laughs.xml', attack: 'exponential entity expansion', state: 'QP_IRRECEVABLE', codes: ['XML_DOCTYPE_FORBIDDEN'] },
    content: () => withDoctype(`<!DOCTYPE CPPFactureMixte [<!ENTITY l0 "ha">${Array.from({ length: 10 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('')}]>`).replace('ACME FOURNITURES SAS', '&l10;') },
  { spec: { file: 'external-dtd.xml', attack: 'external DTD', state: 'QP_IRRECEVABLE', codes: ['XML_DOCTYPE_FORBIDDEN'] },
    content: () => withDoctype('<!DOCTYPE CPPFactureMixte SYSTEM "http://127.0.0.1:9/evil.dtd">') },
  { spec: { file: 'xinclude.xml', attack: 'XInclude of a local file', state: 'QP_IRRECEVABLE', codes: ['SCHEMA_INVALID'] },
    content: () => valid('XI').replace('<CodePays>FR</CodePays>', '<CodePays>FR</CodePays><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>') },
  { spec: { file: 'deep-nesting.xml', attack: '100,000 nested elements', state: 'QP_IRRECEVABLE', codes: ['XML_NOT_WELL_FORMED'] },
    content: () => `<CPPFactureMixte>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</CPPFactureMixte>` },
  { spec: { file: 'truncated.xml', attack: 'a flow cut in the middle', state: 'QP_IRRECEVABLE', codes: ['XML_NOT_WELL_FORMED'] },
    content: () => valid('TRUNC').slice(0, 1500) },
  { spec: { file: 'invalid-utf8.xml', attack: 'bytes that are not UTF-8', state: 'QP_IRRECEVABLE', codes: ['XML_ENCODING'] },
    content: () => {
      const [before, after] = valid('UTF8').split('ACME FOURNITURES SAS');
      return Buffer.concat([Buffer.from(before!), Buffer.from([0x41, 0xc3, 0x28, 0xff]), Buffer.from(`ACME FOURNITURES SAS${after}`)]);
    } },
  { spec: { file: 'lying-encoding.xml', attack: 'declares UTF-8, is ISO-8859-1', state: 'QP_IRRECEVABLE', codes: ['XML_ENCODING'] },
    content: () => Buffer.from(valid('LIE').replace('ACME FOURNITURES SAS', 'Société Générale Équipement'), 'latin1') },
  { spec: { file: 'utf16.xml', attack: 'UTF-16 with a byte order mark', state: 'IN_INTEGRE', codes: [] },
    content: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(valid('U16').replace('encoding="UTF-8"', 'encoding="UTF-16"'), 'utf16le')]) },
  { spec: { file: 'bom.xml', attack: 'UTF-8 byte order mark', state: 'IN_INTEGRE', codes: [] },
    content: () => `\uFEFF${valid('BOM')}` },
  { spec: { file: 'empty.xml', attack: 'an empty file', state: 'QP_IRRECEVABLE', codes: ['FLOW_EMPTY'] }, content: () => '' },
  { spec: { file: 'binary.xml', attack: 'binary bytes named .xml', state: 'QP_IRRECEVABLE', codes: ['FLOW_UNKNOWN_FORMAT'] },
    content: () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)) },
  { spec: { file: 'zip-bomb.zip', attack: 'an entry inflating to 60 MB', state: 'IN_REJETE', codes: ['ARCHIVE_ENTRY_TOO_LARGE'] },
    content: () => writeZip([{ name: 'bomb.xml', content: Buffer.alloc(60 * MB, 0x20), declaredSize: 1024 }]) },
  { spec: { file: 'zip-slip.zip', attack: 'an entry named ../../evil.xml', state: 'IN_REJETE', codes: ['ARCHIVE_UNSAFE_PATH'] },
    content: () => writeZip([{ name: '../../evil.xml', content: '<x/>' }]) },
  { spec: { file: 'symlink.xml', attack: 'a symbolic link to /etc/passwd in the inbox', state: 'QP_IRRECEVABLE', codes: ['FLOW_NOT_REGULAR_FILE'], generate: true }, content: () => '' },
  { spec: { file: 'name with spaces é.xml', attack: 'spaces and accents in the file name', state: 'IN_INTEGRE', codes: [] }, content: () => valid('SPACE') },
  { spec: { file: 'name\nwith newline.xml', attack: 'a newline in the file name', state: 'IN_INTEGRE', codes: [], generate: true }, content: () => valid('NEWLINE') },
  { spec: { file: 'zero-byte-attachment.xml', attack: 'an empty attachment', state: 'IN_REJETE', codes: ['RULE_ATTACHMENT_EMPTY'] }, content: () => pj(valid('ZERO'), '') },
  { spec: { file: 'wrong-extension.xml', attack: 'an executable as attachment', state: 'IN_REJETE', codes: ['RULE_ATTACHMENT_EXTENSION'] }, content: () => pj(valid('EXE'), null, 'facture.exe') },
  { spec: { file: 'garbage-base64.xml', attack: 'attachment content that is not base64', state: 'IN_REJETE', codes: ['RULE_ATTACHMENT_BASE64'] }, content: () => pj(valid('B64'), '%%%not*base64!!!') },
  { spec: { file: 'oversize-attachment.xml', attack: 'an 11 MB attachment', state: 'IN_REJETE', codes: ['RULE_ATTACHMENT_TOO_LARGE'], generate: true }, content: () => valid('BIGPJ', 1, 11 * MB) },
  { spec: { file: 'oversize-flow.xml', attack: 'a flow over the size limit (64 MB in the test)', state: 'QP_IRRECEVABLE', codes: ['FLOW_TOO_LARGE'], generate: true },
    content: () => valid('BIGFLOW').replace('</Valeurparametre>', `</Valeurparametre><Note>${'x'.repeat(70 * MB)}</Note>`) },
  { spec: { file: 'huge-text-node.xml', attack: 'a 30 MB text node in an element the hub ignores', state: 'IN_INTEGRE', codes: [], generate: true },
    content: () => valid('HUGE').replace('</Valeurparametre>', `</Valeurparametre><Note>${'x'.repeat(30 * MB)}</Note>`) },
  { spec: { file: 'duplicated-numordre.xml', attack: 'two invoices with NumOrdre 1', state: 'QP_IRRECEVABLE', codes: ['FLOW_DUPLICATE_NUMORDRE'] },
    content: () => valid('DUPNUM', 2).replace('CPPFactureMixteUnitaire NumOrdre="2"', 'CPPFactureMixteUnitaire NumOrdre="1"') },
  { spec: { file: 'lying-compteur.xml', attack: 'Compteur says 5 for 2 invoices', state: 'QP_IRRECEVABLE', codes: ['FLOW_COUNTER_MISMATCH'] },
    content: () => valid('CPT', 2).replace('Compteur="2"', 'Compteur="5"') },
  { spec: { file: 'negative-amounts.xml', attack: 'negative totals on an invoice', state: 'IN_REJETE', codes: ['RULE_AMOUNT_NEGATIVE'] },
    content: () => valid('NEG').replace(/<Montants><MontantHT>([^<]+)<\/MontantHT><MontantTTC>([^<]+)<\/MontantTTC><MontantNetAPayer>([^<]+)</, '<Montants><MontantHT>-$1</MontantHT><MontantTTC>-$2</MontantTTC><MontantNetAPayer>-$3<')
      .replace(/<BaseHt>([^<]+)<\/BaseHt><MontantTVA>([^<]+)</, '<BaseHt>-$1</BaseHt><MontantTVA>-$2<').replace(/<MontantHT>([\d.]+)<\/MontantHT><TauxTVA>/g, '<MontantHT>-$1</MontantHT><TauxTVA>') },
  // Issue 13: placement past any buffer, encodings, big numbers, names, overlapping archives.
  { spec: { file: 'doctype-after-newlines.xml', attack: 'an internal DTD after 70,000 newlines (past the first 64 KB)', state: 'QP_IRRECEVABLE', codes: ['XML_DOCTYPE_FORBIDDEN'], generate: true },
    content: () => withDoctype('<!DOCTYPE CPPFactureMixte [<!ENTITY e "INJECTED">]>', valid('DTDNL').replace('<?xml version="1.0" encoding="UTF-8"?>\n', `<?xml version="1.0" encoding="UTF-8"?>${'\n'.repeat(70_000)}`)).replace('ACME FOURNITURES SAS', '&e;') },
  { spec: { file: 'doctype-after-comment.xml', attack: 'an internal DTD after a 100 KB comment', state: 'QP_IRRECEVABLE', codes: ['XML_DOCTYPE_FORBIDDEN'], generate: true },
    content: () => withDoctype(`<!--${'x'.repeat(100_000)}-->\n<!DOCTYPE CPPFactureMixte [<!ENTITY e "INJECTED">]>`, valid('DTDCOM')).replace('ACME FOURNITURES SAS', '&e;') },
  { spec: { file: 'xxe-parameter-entity-far.xml', attack: 'a parameter-entity XXE past the first 64 KB', state: 'QP_IRRECEVABLE', codes: ['XML_DOCTYPE_FORBIDDEN'], generate: true },
    content: () => withDoctype(`<!--${'x'.repeat(70_000)}-->\n<!DOCTYPE CPPFactureMixte [<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;]>`, valid('PEXXE')) },
  { spec: { file: 'utf16be-no-bom.xml', attack: 'UTF-16 big-endian without a byte order mark', state: 'IN_INTEGRE', codes: [] }, content: () => utf16(valid('U16BE'), true) },
  { spec: { file: 'utf16le-no-bom.xml', attack: 'UTF-16 little-endian without a byte order mark', state: 'IN_INTEGRE', codes: [] }, content: () => utf16(valid('U16LE'), false) },
  { spec: { file: 'base64-space-bomb.xml', attack: 'attachment "QUJD" + 200,000 spaces + "!" (quadratic for a backtracking regex)', state: 'IN_REJETE', codes: ['RULE_ATTACHMENT_BASE64'], generate: true },
    content: () => pj(valid('B64BOMB'), `QUJD${' '.repeat(200_000)}!`) },
  { spec: { file: 'huge-amounts.xml', attack: 'a correct invoice of 555,555,555,555,555,555.55 (wrong in floating point)', state: 'IN_INTEGRE', codes: [] },
    content: () => withAmounts('HUGEAMT', '555555555555555555.55', '111111111111111111.11', '666666666666666666.66', ['555555555555555555.50', '0.05']) },
  { spec: { file: 'ttc-off-at-1e17.xml', attack: 'TTC 8 EUR off HT + VAT with HT 1e17 (invisible in floating point)', state: 'IN_REJETE', codes: ['RULE_AMOUNT_TTC_MISMATCH'] },
    content: () => withAmounts('TTCOFF', '100000000000000000.00', '20000000000000000.00', '120000000000000008.00') },
  { spec: { file: 'overflowing-amounts.xml', attack: 'amounts of 10^22, beyond the digits the hub relays', state: 'IN_REJETE', codes: ['RULE_AMOUNT_OUT_OF_RANGE'] },
    content: () => withAmounts('OVERAMT', '10000000000000000000000.00', '2000000000000000000000.00', '12000000000000000000000.00') },
  { spec: { file: 'big-numordre.xml', attack: 'NumOrdre 9007199254740993 and 9007199254740992 (equal as JS numbers)', state: 'IN_INTEGRE', codes: [] },
    content: () => valid('BIGNUM', 2).replace('CPPFactureMixteUnitaire NumOrdre="1"', 'CPPFactureMixteUnitaire NumOrdre="9007199254740993"').replace('CPPFactureMixteUnitaire NumOrdre="2"', 'CPPFactureMixteUnitaire NumOrdre="9007199254740992"') },
  { spec: { file: 'traversal-pj-mixed.xml', attack: 'mixed PJ named ../../../evil.pdf', state: 'IN_REJETE', codes: ['RULE_ATTACHMENT_NAME_UNSAFE'] }, content: () => pj(valid('PJDOTDOT'), null, '../../../evil.pdf') },
  { spec: { file: 'absolute-pj-mixed.xml', attack: 'mixed PJ named /etc/passwd.pdf', state: 'IN_REJETE', codes: ['RULE_ATTACHMENT_NAME_UNSAFE'] }, content: () => pj(valid('PJABS'), null, '/etc/passwd.pdf') },
  { spec: { file: 'traversal-pj-ubl.xml', attack: 'UBL EmbeddedDocumentBinaryObject/@filename ../../../evil.pdf', state: 'IN_REJETE', codes: ['RULE_ATTACHMENT_NAME_UNSAFE'] },
    content: () => ublInvoice({ seed: 1313, number: 'UBL-SLIP-1', recipient: commune[0], attachmentBytes: 256 }).replace('filename="bon-livraison.pdf"', 'filename="../../../evil.pdf"') },
  { spec: { file: 'overlapping-entries.zip', attack: '2,000 zip entries sharing one 60 MB deflate stream', state: 'QP_IRRECEVABLE', codes: ['ARCHIVE_OVERLAPPING_ENTRIES'], generate: true },
    content: () => writeOverlappingZip(2000, 60 * MB) },
  { spec: { file: 'pdf-many-objects.pdf', attack: 'a PDF of 60,000 objects', state: 'QP_IRRECEVABLE', codes: ['PDF_TOO_COMPLEX'], generate: true }, content: HOSTILE_PDFS.manyObjects },
  { spec: { file: 'pdf-deep-nesting.pdf', attack: 'a PDF array nested 100,000 deep', state: 'QP_IRRECEVABLE', codes: ['PDF_TOO_COMPLEX'] }, content: HOSTILE_PDFS.deepNesting },
  { spec: { file: 'pdf-flate-bomb.pdf', attack: 'an embedded factur-x.xml inflating to 64 MB', state: 'QP_IRRECEVABLE', codes: ['PDF_TOO_COMPLEX'] }, content: HOSTILE_PDFS.flateBomb },
  { spec: { file: 'pdf-objstm-bomb.pdf', attack: 'an object stream inflating to 64 MB', state: 'QP_IRRECEVABLE', codes: ['PDF_TOO_COMPLEX'] }, content: HOSTILE_PDFS.objectStreamBomb },
  { spec: { file: 'pdf-name-tree-loop.pdf', attack: 'an embedded-files name tree whose Kids loop', state: 'QP_IRRECEVABLE', codes: ['PDF_TOO_COMPLEX'] }, content: HOSTILE_PDFS.nameTreeLoop },
  { spec: { file: 'pdf-encrypted.pdf', attack: 'an encrypted PDF', state: 'QP_IRRECEVABLE', codes: ['PDF_ENCRYPTED'] }, content: HOSTILE_PDFS.encrypted },
  { spec: { file: 'ten-thousand-invoices.xml', attack: '10,000 invoices in one flow', state: 'IN_INTEGRE', codes: [], generate: true }, content: () => valid('TENK', 10_000, 64) },
];

/** Writes into `dir` the committed cases, or (generated: true) the ones made at test time. */
export function writeHostileCorpus(dir: string, opts: { generated: boolean }): HostileCase[] {
  fs.mkdirSync(dir, { recursive: true });
  for (const { spec, content } of HOSTILE) {
    if (!!spec.generate !== opts.generated) continue;
    if (spec.file === 'symlink.xml') fs.symlinkSync('/etc/passwd', path.join(dir, spec.file));
    else fs.writeFileSync(path.join(dir, spec.file), content());
  }
  return HOSTILE.map((h) => h.spec);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/hostile');
  const specs = writeHostileCorpus(dir, { generated: false });
  fs.writeFileSync(path.join(dir, 'EXPECTED.json'), JSON.stringify(specs, null, 2) + '\n');
  console.log(`wrote ${specs.filter((s) => !s.generate).length} files and EXPECTED.json to ${dir}`);
}
