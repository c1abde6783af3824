/**
 * Hardening against hostile input (issue 13): each case through the real components (libxml2,
 * real files, readFlow/readFlowFile) and refused with its code. Inputs are sized so that the
 * fixed code answers well under a second and a regression to backtracking or quadratic work
 * runs into a timeout (the CPU bombs are read in a bounded child process: see readBounded).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DEFAULTS } from '../src/config.js';
import { writeOverlappingZip, writeTarGz, writeZip } from '../src/devtools/archives.js';
import { mixedFlow, FIXTURE_RECIPIENTS } from '../src/devtools/synth.js';
import { invoiceStatusesXml } from '../src/emit/statuses.js';
import { processFile } from '../src/app/run.js';
import { readFlow, readFlowFile } from '../src/pipeline/read.js';
import { openRegular } from '../src/util/openRegular.js';
import { safeName } from '../src/util/paths.js';
import { unzipOne, zipOne } from '../src/util/zip.js';
import { checkInvoice } from '../src/validate/rules.js';
import { closeHubs, fixture, ROOT, tempDir, trackedHub } from './helpers.js';

afterEach(closeHubs);

const settings = { ...DEFAULTS, readThreads: 0 };
const valid = (tag = 'HARD', invoices = 1) => mixedFlow({ seed: 7, flowTag: tag, invoices, pdfBytes: 256, recipients: [FIXTURE_RECIPIENTS[0]!] });
const codesOf = (xml: string | Buffer) => {
  const r = readFlow(Buffer.isBuffer(xml) ? xml : Buffer.from(xml, 'utf8'), settings);
  return [...new Set(r.errors.map((e) => e.code))];
};
/**
 * Reads a flow in a child process bounded to 20 s: a synchronous regression to backtracking
 * or quadratic work cannot be interrupted by Jest's own timeout, a child process can.
 */
const readBounded = (bytes: Buffer | string) => {
  const file = path.join(tempDir(), 'bounded.bin');
  fs.writeFileSync(file, bytes);
  const script = `
    import { readFlowFile } from ${JSON.stringify(path.join(ROOT, 'dist/pipeline/read.js'))};
    import { DEFAULTS } from ${JSON.stringify(path.join(ROOT, 'dist/config.js'))};
    const r = readFlowFile(process.argv[1], { ...DEFAULTS, readThreads: 0 });
    console.log(JSON.stringify({
      codes: r.errors.map((e) => e.code),
      entryCodes: [...(r.entryErrors ?? new Map()).values()].map((es) => es.map((e) => e.code)),
      badBase64: r.invoices.flatMap((i) => (i ? i.attachments.map((a) => !!a.badBase64) : [])),
    }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`reading took too long or failed (${r.signal ?? r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { codes: string[]; entryCodes: string[][]; badBase64: boolean[] };
};
const withDoctype = (doctype: string, before = '') => valid().replace('<CPPFactureMixte>', `${before}${doctype}\n<CPPFactureMixte>`);

describe('a DOCTYPE is refused wherever it stands (the parser says so, not a text scan)', () => {
  const entity = '<!DOCTYPE CPPFactureMixte [<!ENTITY e "INJECTED">]>';
  test('after 70,000 newlines', () => {
    expect(codesOf(withDoctype(entity, '\n'.repeat(70_000)).replace('ACME FOURNITURES SAS', '&e;'))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
  });
  test('after a 100 KB comment', () => {
    expect(codesOf(withDoctype(entity, `<!--${'x'.repeat(100_000)}-->\n`).replace('ACME FOURNITURES SAS', '&e;'))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
  });
  test('a parameter-entity XXE past 64 KB is a coded refusal, not a fault', () => {
    const xxe = '<!DOCTYPE CPPFactureMixte [<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;]>';
    expect(codesOf(withDoctype(xxe, `<!--${'x'.repeat(70_000)}-->\n`))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
  });
  test('in UTF-16 after a long comment', () => {
    const xml = withDoctype(entity, `<!--${'x'.repeat(70_000)}-->\n`).replace('encoding="UTF-8"', 'encoding="UTF-16"');
    expect(codesOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
  });
});

test('line numbers past 65,535 are the real ones', () => {
  // A bad supplier SIRET on line 108,001 or so: the rule error names its real line.
  const xml = valid().replace('<Identifiant>81234567800013</Identifiant>', `${'\n'.repeat(108_000)}<Identifiant>81234567800014</Identifiant>`);
  const line = xml.slice(0, xml.indexOf('81234567800014')).split('\n').length;
  expect(line).toBeGreaterThan(108_000);
  const r = readFlow(Buffer.from(xml), settings);
  expect(r.errors).toEqual([]);
  const [inv] = r.invoices;
  expect(inv!.where.supplierId!.line).toBe(line);
  // The same when the flow is read one invoice at a time (each invoice its own document).
  const file = path.join(tempDir(), 'long.xml');
  const two = valid('LONG', 2);
  const second = two.lastIndexOf('<Identifiant>81234567800013</Identifiant>');
  const long = `${two.slice(0, second)}${'\n'.repeat(108_000)}<Identifiant>81234567800014</Identifiant>${two.slice(second + '<Identifiant>81234567800013</Identifiant>'.length)}`;
  fs.writeFileSync(file, long);
  const split = readFlowFile(file, { ...settings, chunkAboveBytes: 0 });
  expect(split.invoices[1]!.where.supplierId!.line).toBe(long.slice(0, long.indexOf('81234567800014')).split('\n').length);
  // And a schema error that far down.
  const bad = valid().replace('<Type>380</Type>', `${'\n'.repeat(108_000)}<Typo>380</Typo>`);
  const badLine = bad.slice(0, bad.indexOf('<Typo>')).split('\n').length;
  const refused = readFlow(Buffer.from(bad), settings);
  expect(refused.errors[0]).toMatchObject({ code: 'SCHEMA_INVALID', line: badLine });
});

describe('UTF-16 without a byte order mark is read in either byte order', () => {
  const xml = valid('U16NOBOM').replace('encoding="UTF-8"', 'encoding="UTF-16"');
  const swap = (b: Buffer) => Buffer.from(b).swap16();
  test('little-endian', () => {
    const r = readFlow(Buffer.from(xml, 'utf16le'), settings);
    expect(r.errors).toEqual([]);
    expect(r.invoices).toHaveLength(1);
  });
  test('big-endian', () => {
    const r = readFlow(swap(Buffer.from(xml, 'utf16le')), settings);
    expect(r.errors).toEqual([]);
    expect(r.invoices).toHaveLength(1);
  });
  test('without a declaration, and with white space first, both byte orders get the same verdict', () => {
    const bare = xml.replace(/^<\?xml[^>]*\?>/, '');
    const le = Buffer.from(`\n ${bare}`, 'utf16le');
    expect(codesOf(le)).toEqual([]);
    expect(codesOf(swap(le))).toEqual([]);
  });
});

test('the base64 check is one linear pass: "QUJD", 200,000 spaces and "!" is refused at once', () => {
  const xml = valid().replace(/<Contenu>[^<]*<\/Contenu>/, `<Contenu>QUJD${' '.repeat(200_000)}!</Contenu>`);
  expect(readBounded(xml)).toMatchObject({ codes: [], badBase64: [true] });
});

test('base64 with white space anywhere and padding at the end is accepted; padding in the middle is not', () => {
  const inv = (contenu: string) => readFlow(Buffer.from(valid().replace(/<Contenu>[^<]*<\/Contenu>/, `<Contenu>${contenu}</Contenu>`)), settings).invoices[0]!.attachments[0]!;
  expect(inv(' JVBE\nRi0x\r\n\tLjQ= ').content.toString()).toBe('%PDF-1.4');
  expect(inv('JVBERi0xLg==').badBase64).toBeUndefined();
  expect(inv('JV=BERi0xLg').badBase64).toBe(true);
  expect(inv('JVBERi0xLg===').badBase64).toBe(true);
  expect(inv('JVBERi0xLg= =').badBase64).toBe(true);
});

describe('amounts are exact decimals within the limits the hub relays', () => {
  const withAmounts = (ht: string, vat: string, ttc: string, lines = [ht]) =>
    valid()
      .replace(/<Montants>.*<\/Montants>/, `<Montants><MontantHT>${ht}</MontantHT><MontantTTC>${ttc}</MontantTTC><MontantNetAPayer>${ttc}</MontantNetAPayer></Montants>`)
      .replace(/<TVAS>.*<\/TVAS>/, `<TVAS><TVA><Taux>20</Taux><BaseHt>${ht}</BaseHt><MontantTVA>${vat}</MontantTVA></TVA></TVAS>`)
      .replace(/<Lignes>.*<\/Lignes>/, `<Lignes>${lines.map((l, i) => `<Ligne NumOrdre="${i + 1}"><PrixUnitaire>${l}</PrixUnitaire><Quantite>1</Quantite><MontantHT>${l}</MontantHT></Ligne>`).join('')}</Lignes>`);
  const ruleCodes = (xml: string) => {
    const r = readFlow(Buffer.from(xml), settings);
    expect(r.errors).toEqual([]);
    return checkInvoice(r.invoices[0]!, { depositDate: '2026-12-31', maxAttachmentBytes: 1e7, maxInvoiceTotalBytes: 1e8 }).map((e) => e.code);
  };
  test('a TTC 8 EUR off HT + VAT with HT 1e17 is refused', () => {
    expect(ruleCodes(withAmounts('100000000000000000.00', '20000000000000000.00', '120000000000000008.00'))).toEqual(['RULE_AMOUNT_TTC_MISMATCH']);
  });
  test('a correct invoice of 555,555,555,555,555,555.55 (18 digits) is accepted', () => {
    expect(ruleCodes(withAmounts('555555555555555555.55', '111111111111111111.11', '666666666666666666.66', ['555555555555555555.50', '0.05']))).toEqual([]);
  });
  test('cents are compared exactly, with one cent of tolerance per line', () => {
    expect(ruleCodes(withAmounts('0.30', '0.06', '0.37', ['0.10', '0.20']))).toEqual([]);
    expect(ruleCodes(withAmounts('0.30', '0.06', '0.38', ['0.10', '0.20']))).toEqual(['RULE_AMOUNT_TTC_MISMATCH']);
    expect(ruleCodes(withAmounts('0.30', '0.06', '0.36', ['0.10', '0.17']))).toEqual(['RULE_AMOUNT_LINES_MISMATCH']);
  });
  test('amounts beyond 18 digits before the point (10^22) get their own code', () => {
    const e22 = '10000000000000000000000.00';
    expect(ruleCodes(withAmounts(e22, '2000000000000000000000.00', '12000000000000000000000.00'))).toEqual(expect.arrayContaining(['RULE_AMOUNT_OUT_OF_RANGE']));
    expect(ruleCodes(withAmounts(e22, '2000000000000000000000.00', '12000000000000000000000.00'))).not.toContain('RULE_AMOUNT_VAT_MISMATCH');
  });
});

describe('NumOrdre is the supplier\'s text, compared as the integer the schema says it is', () => {
  const numbered = (a: string, b: string) => valid('NUMS', 2).replace('CPPFactureMixteUnitaire NumOrdre="1"', `CPPFactureMixteUnitaire NumOrdre="${a}"`).replace('CPPFactureMixteUnitaire NumOrdre="2"', `CPPFactureMixteUnitaire NumOrdre="${b}"`);
  test('9007199254740993 and 9007199254740992 are distinct', () => {
    const r = readFlow(Buffer.from(numbered('9007199254740993', '9007199254740992')), settings);
    expect(r.errors).toEqual([]);
    expect(r.invoices.map((i) => [i.position, i.label])).toEqual([[1, 'NumOrdre 9007199254740993'], [2, 'NumOrdre 9007199254740992']]);
  });
  test('10^23 stays its digits; positions are the hub\'s own counter', () => {
    const r = readFlow(Buffer.from(numbered('1' + '0'.repeat(23), '2')), settings);
    expect(r.invoices.map((i) => [i.position, i.label])).toEqual([[1, `NumOrdre 1${'0'.repeat(23)}`], [2, 'NumOrdre 2']]);
  });
  test('the same when a large flow is read one invoice at a time', () => {
    const file = path.join(tempDir(), 'big-numordre.xml');
    fs.writeFileSync(file, numbered('9007199254740993', '9007199254740992'));
    const r = readFlowFile(file, { ...settings, chunkAboveBytes: 0 });
    expect(r.errors).toEqual([]);
    expect(r.invoices.map((i) => [i.position, i.label])).toEqual([[1, 'NumOrdre 9007199254740993'], [2, 'NumOrdre 9007199254740992']]);
    fs.writeFileSync(file, numbered('007', '7'));
    expect(readFlowFile(file, { ...settings, chunkAboveBytes: 0 }).errors.map((e) => e.code)).toEqual(['FLOW_DUPLICATE_NUMORDRE']);
  });
  test('"01" and "1" are the same xs:positiveInteger, so duplicates', () => {
    expect(codesOf(numbered('01', '1'))).toEqual(['FLOW_DUPLICATE_NUMORDRE']);
    expect(codesOf(numbered('18014398509481985', '18014398509481984'))).toEqual([]);
  });
});

describe('names derived from data are an injective encoding, one safe path segment', () => {
  const tricky = [
    'ZZ/12345', 'ZZ_12345', 'ZZ%2F12345', 'ZZ\\12345', 'ZZ:12345', 'ZZ 12345', 'ZZ%12345', 'ZZ~12345',
    '', '.', '..', '...', '.hidden', ' lead', 'trail ', '%', '%25', '~', '-', '_',
    'Société', 'Socie\u0301te\u0301', 'Société'.normalize('NFD'), '\u{1F600}', '\uD800', '\uDC00x', '\uFFFD', 'a\0b', 'a\nb', 'a\u202Eb',
    'x'.repeat(120), 'x'.repeat(121), 'x'.repeat(119) + 'y', 'x'.repeat(119) + 'z', 'é'.repeat(200), `${'a'.repeat(300)}1`, `${'a'.repeat(300)}2`,
    '81234567800013', 'FA-2026-0001.xml', 'facture 12.pdf',
  ];
  // Plus every pair of characters from a small hostile alphabet, and random strings.
  const alphabet = ['a', '.', '/', '\\', '%', '~', ' ', '_', 'é', 'e\u0301', '\0', '\uD800', '2F', '25'];
  for (const x of alphabet) for (const y of alphabet) tricky.push(x + y, `${x}${y}${x}`);
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let n = 0; n < 2000; n++) tricky.push(Array.from({ length: Math.floor(rand() * 140) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
  const names = [...new Set(tricky)];

  test('distinct inputs give distinct outputs; every output is a single, bounded, non-dot segment', () => {
    const outputs = new Map<string, string>();
    for (const name of names) {
      const out = safeName(name);
      expect(outputs.get(out) ?? name).toBe(name);
      outputs.set(out, name);
      expect(out).not.toMatch(/[/\\\0]/);
      expect(out === '.' || out === '..' || out.startsWith('.') || out.startsWith(' ')).toBe(false);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(120);
      expect(out.length).toBeGreaterThan(0);
      expect(path.basename(out)).toBe(out);
    }
    expect(outputs.size).toBe(names.length);
  });

  test('common names stay as they are', () => {
    expect(['81234567800013', 'FA-2026-0001.xml', 'facture 12.pdf', 'ACM001'].map((n) => safeName(n))).toEqual(['81234567800013', 'FA-2026-0001.xml', 'facture 12.pdf', 'ACM001']);
  });

  test('suppliers ZZ/12345 and ZZ_12345 get their own status folders', async () => {
    const hub = await trackedHub();
    const flows = [];
    for (const [n, id] of ['ZZ/12345', 'ZZ_12345'].entries()) {
      const file = path.join(tempDir(), `foreign-${n}.xml`);
      const xml = valid(`FOREIGN${n}`)
        .replace('<TypeIdentifiant>1</TypeIdentifiant><Identifiant>81234567800013</Identifiant>', `<TypeIdentifiant>3</TypeIdentifiant><Identifiant>${id}</Identifiant>`)
        .replace('<CodePays>FR</CodePays>', '<CodePays>US</CodePays>');
      fs.writeFileSync(file, xml);
      flows.push((await processFile(hub, file))!);
    }
    const suppliers = fs.readdirSync(path.join(hub.layout.outbox, 'suppliers')).sort();
    expect(suppliers).toEqual(['ZZ%2F12345', 'ZZ_12345']);
    expect(fs.readdirSync(path.join(hub.layout.outbox, 'suppliers', 'ZZ_12345'))).toEqual([expect.stringContaining(flows[1]!.id)]);
  });
});

describe('attachment names cannot steer paths at the buyer\'s', () => {
  const ctx = { depositDate: '2026-12-31', maxAttachmentBytes: 1e7, maxInvoiceTotalBytes: 1e8 };
  const ruleCodesOf = (bytes: Buffer) => {
    const r = readFlow(bytes, settings);
    expect(r.errors).toEqual([]);
    return checkInvoice(r.invoices[0]!, ctx).map((e) => e.code);
  };
  const mixedNamed = (name: string) => Buffer.from(valid().replace(/<NomPJ>[^<]*<\/NomPJ>/, `<NomPJ>${name}</NomPJ>`));
  test.each(['../../../evil.pdf', '/etc/passwd.pdf', '..\\..\\evil.pdf', 'C:evil.pdf', '.hidden.pdf', 'a&#10;b.pdf', 'fdp&#x202E;.exe.pdf'])('mixed NomPJ %s is refused', (name) => {
    expect(ruleCodesOf(mixedNamed(name))).toContain('RULE_ATTACHMENT_NAME_UNSAFE');
  });
  test('plain names pass', () => {
    expect(ruleCodesOf(mixedNamed('facture 2026-01 été.pdf'))).toEqual([]);
    expect(ruleCodesOf(mixedNamed('a..b.pdf'))).toEqual([]);
  });
  test('UBL EmbeddedDocumentBinaryObject/@filename and CII AttachmentBinaryObject/@filename', () => {
    const ubl = fs.readFileSync(fixture('ubl', 'invoice-commune.xml'), 'utf8').replace('filename="bon-livraison.pdf"', 'filename="../../../evil.pdf"');
    const cii = fs.readFileSync(fixture('cii', 'invoice-etat.xml'), 'utf8').replace('filename="annexe.pdf"', 'filename="/etc/passwd.pdf"');
    expect(ruleCodesOf(Buffer.from(ubl))).toContain('RULE_ATTACHMENT_NAME_UNSAFE');
    expect(ruleCodesOf(Buffer.from(cii))).toContain('RULE_ATTACHMENT_NAME_UNSAFE');
  });
  test('an attachment sent already zipped whose entry is a path is an invalid attachment zip', () => {
    const zipped = writeZip([{ name: '../../evil.pdf', content: '%PDF-1.4 x' }]).toString('base64');
    const r = readFlow(Buffer.from(valid().replace(/<Contenu>[^<]*<\/Contenu>/, `<Contenu>${zipped}</Contenu>`)), settings);
    expect(checkInvoice(r.invoices[0]!, ctx).map((e) => e.code)).toContain('RULE_ATTACHMENT_ZIP_INVALID');
  });
  test('an attachment zip whose entry runs into its central directory is invalid', () => {
    const zip = zipOne('facture.pdf', Buffer.from('%PDF-1.4 facture'));
    const cd = zip.readUInt32LE(zip.length - 22 + 16);
    zip.writeUInt32LE(zip.readUInt32LE(cd + 20) + 30, cd + 20);
    expect(unzipOne(zip, 1e6)).toBeUndefined();
  });
  test('the zip writer refuses an unsafe entry name (defence in depth)', () => {
    expect(() => zipOne('../../evil.pdf', Buffer.from('x'))).toThrow(/refusing/);
    expect(() => zipOne('/etc/passwd.pdf', Buffer.from('x'))).toThrow(/refusing/);
    expect(zipOne('facture.pdf', Buffer.from('x')).length).toBeGreaterThan(0);
  });
});

describe('archive caps bound the work actually done, whatever the headers say', () => {
  const MB = 1024 * 1024;
  test('a zip whose entries share one deflate stream is refused before anything is inflated', () => {
    const zip = writeOverlappingZip(2000, 60 * MB);
    expect(zip.length).toBeLessThan(200 * 1024);
    expect(readBounded(zip).codes).toEqual(['ARCHIVE_OVERLAPPING_ENTRIES']);
  });
  test('an entry whose data runs into the central directory is refused', () => {
    const zip = writeZip([{ name: 'a.xml', content: '<a/>' }, { name: 'b.xml', content: '<b/>' }]);
    const cd = zip.readUInt32LE(zip.length - 22 + 16);
    zip.writeUInt32LE(zip.readUInt32LE(cd + 20) + 40, cd + 20); // first entry's compressed size
    expect(codesOf(zip)).toEqual(['ARCHIVE_OVERLAPPING_ENTRIES']);
  });
  test('bytes really inflated count against the total, not the declared sizes', () => {
    const zip = writeZip(Array.from({ length: 10 }, (_, i) => ({ name: `${i}.xml`, content: Buffer.alloc(MB, 0x20), declaredSize: 1 })));
    const r = readFlow(zip, { ...settings, archiveMaxEntryBytes: 2 * MB, archiveMaxTotalBytes: 4 * MB });
    expect(r.errors.map((e) => e.code)).toEqual(['ARCHIVE_TOO_LARGE']);
  });
  test('a tar.gz expanding past the total cap is refused while inflating', () => {
    const tgz = writeTarGz([{ name: 'a.xml', content: Buffer.alloc(8 * MB, 0x20) }]);
    const r = readFlow(tgz, { ...settings, archiveMaxTotalBytes: 2 * MB, archiveMaxEntryBytes: 16 * MB });
    expect(r.errors.map((e) => e.code)).toEqual(['ARCHIVE_TOO_LARGE']);
  });
  test('a tar long name of 200,000 NULs is read in one pass (and refused as a path)', () => {
    const long = Buffer.concat([Buffer.alloc(200_000), Buffer.from('x.xml')]);
    const tgz = writeTarGz([{ name: '././@LongLink', content: long, type: 'L' }, { name: 'ignored', content: '<x/>' }]);
    expect(readBounded(tgz).entryCodes[0]).toEqual(['ARCHIVE_UNSAFE_PATH']);
  });
});

describe('non-regular files are never opened', () => {
  // Run in a child process: a regression blocks in open() forever, and a blocked test
  // process cannot time out by itself.
  const probe = (file: string) => {
    const script = `
      import { fingerprint } from ${JSON.stringify(path.join(ROOT, 'dist/ingest/claim.js'))};
      import { readFlowFile } from ${JSON.stringify(path.join(ROOT, 'dist/pipeline/read.js'))};
      import { DEFAULTS } from ${JSON.stringify(path.join(ROOT, 'dist/config.js'))};
      const f = fingerprint(process.argv[1]);
      const r = readFlowFile(process.argv[1], DEFAULTS);
      console.log(JSON.stringify({ size: f.size, sha: f.sha256.length, codes: r.errors.map((e) => e.code), message: r.errors[0]?.message }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`probe failed (${r.signal ?? r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as { size: number; sha: number; codes: string[]; message: string };
  };
  test('a FIFO: fingerprinted and refused FLOW_NOT_REGULAR_FILE without waiting for a writer', () => {
    const fifo = path.join(tempDir(), 'pipe.xml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(probe(fifo)).toEqual({ size: 0, sha: 64, codes: ['FLOW_NOT_REGULAR_FILE'], message: expect.stringContaining('FIFO') });
  });
  test('a symbolic link and a directory are refused the same way', () => {
    const dir = tempDir();
    fs.symlinkSync('/etc/passwd', path.join(dir, 'link.xml'));
    fs.mkdirSync(path.join(dir, 'folder.xml'));
    expect(readFlowFile(path.join(dir, 'link.xml'), settings).errors[0]).toMatchObject({ code: 'FLOW_NOT_REGULAR_FILE', message: expect.stringContaining('symbolic link') });
    expect(readFlowFile(path.join(dir, 'folder.xml'), settings).errors[0]).toMatchObject({ code: 'FLOW_NOT_REGULAR_FILE', message: expect.stringContaining('directory') });
    expect(openRegular(path.join(dir, 'link.xml'))).toMatchObject({ ok: false, what: 'symbolic link' });
  });
  test('a regular file reads as before, in one piece or one invoice at a time', () => {
    const file = path.join(tempDir(), 'ok.xml');
    fs.writeFileSync(file, valid('REG', 3));
    expect(readFlowFile(file, settings).invoices).toHaveLength(3);
    expect(readFlowFile(file, { ...settings, chunkAboveBytes: 0 }).invoices).toHaveLength(3);
  });
});

test('billion laughs after a long comment: libxml2 gives up on the entities, the refusal is still the DOCTYPE', () => {
  const laughs = `<!DOCTYPE CPPFactureMixte [<!ENTITY l0 "ha">${Array.from({ length: 10 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('')}]>`;
  expect(codesOf(withDoctype(laughs, `<!--${'x'.repeat(70_000)}-->\n`).replace('ACME FOURNITURES SAS', '&l10;'))).toEqual(['XML_DOCTYPE_FORBIDDEN']);
});

test('status lines sent back by a recipient are counted by the hub, not by their NumOrdre as a JS number', () => {
  const entry = { supplier: { idType: '1', id: '81234567800013', name: 'ACME' }, recipient: { siret: '21450001200015' }, status: '04', at: '2026-11-05T10:00:00', invoiceNumber: 'FA-1' };
  const xml = invoiceStatusesXml('FF1', '2026-11-05', { id: 'FFL001' }, { id: 'ACM001' }, [entry, { ...entry, invoiceNumber: 'FA-2' }])
    .replace('NumOrdre="1"', `NumOrdre="1${'0'.repeat(23)}"`);
  const r = readFlow(Buffer.from(xml), settings);
  expect(r.errors).toEqual([]);
  expect(r.statuses!.updates.map((u) => [u.position, u.number])).toEqual([[1, 'FA-1'], [2, 'FA-2']]);
});
