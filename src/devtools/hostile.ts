/**
 * The hostile-input corpus (`npm run hostile` writes fixtures/hostile/): each file with the
 * outcome the hub must give it. Small files are committed; large ones are generated when the
 * test runs (`generate: true` in EXPECTED.json).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeZip } from './archives.js';
import { HOSTILE_PDFS } from './pdfs.js';
import { FIXTURE_RECIPIENTS, mixedFlow } from './synth.js';

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
