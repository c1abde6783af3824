/**
 * PDFs written byte by byte, with a correct cross-reference table, so that hostile structures
 * can be shaped freely (the hostile corpus and the Factur-X tests use them).
 */
import zlib from 'node:zlib';

/**
 * A PDF written byte by byte from object bodies (object i+1 is bodies[i]), with a correct
 * cross-reference table, so that hostile structures can be shaped freely.
 */
export function rawPdf(bodies: (string | Buffer)[], trailer = '/Root 1 0 R'): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  bodies.forEach((body, i) => {
    offsets.push(offset);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), Buffer.from('\nendobj\n')]);
    parts.push(chunk);
    offset += chunk.length;
  });
  const xref = `xref\n0 ${bodies.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${bodies.length + 1} ${trailer} >>\nstartxref\n${offset}\n%%EOF\n`));
  return Buffer.concat(parts);
}

/** A stream object body, Flate-compressed. */
export function flateStream(content: Buffer, dict = ''): Buffer {
  const data = zlib.deflateSync(content);
  return Buffer.concat([Buffer.from(`<< /Length ${data.length} /Filter /FlateDecode ${dict} >>\nstream\n`), data, Buffer.from('\nendstream')]);
}

/** Objects 1-4: a catalog whose name tree holds one embedded file (object 4's stream is added by the caller as object 5). */
export const embeddingCatalog = (names = '(factur-x.xml) 3 0 R') => [
  '<< /Type /Catalog /Names 2 0 R /AF [3 0 R] >>',
  `<< /EmbeddedFiles << /Names [${names}] >> >>`,
  '<< /Type /Filespec /F (factur-x.xml) /UF (factur-x.xml) /AFRelationship /Alternative /EF << /F 4 0 R >> >>',
];

const MB = 1024 * 1024;
const XML = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>');

/** Hostile PDFs, each refused by a cap or a check before anything large is built in memory. */
export const HOSTILE_PDFS = {
  manyObjects: () => rawPdf(['<< /Type /Catalog >>', ...Array.from({ length: 60_000 }, () => 'null')]),
  deepNesting: () => rawPdf(['<< /Type /Catalog >>', '['.repeat(100_000)]),
  flateBomb: () => rawPdf([...embeddingCatalog(), flateStream(Buffer.alloc(64 * MB, 0x20), '/Type /EmbeddedFile')]),
  objectStreamBomb: () => rawPdf(['<< /Type /Catalog >>', flateStream(Buffer.alloc(64 * MB, 0x20), '/Type /ObjStm /N 1 /First 4')]),
  nameTreeLoop: () => rawPdf(['<< /Type /Catalog /Names 2 0 R >>', '<< /EmbeddedFiles 3 0 R >>', '<< /Kids [4 0 R] >>', '<< /Kids [3 0 R 4 0 R] >>']),
  encrypted: () => rawPdf([...embeddingCatalog(), flateStream(XML, '/Type /EmbeddedFile'), '<< /Filter /Standard /V 2 /R 3 >>'], '/Root 1 0 R /Encrypt 5 0 R'),
};
