/** Large outputs are streamed: produced a piece at a time, identical to the whole-string forms. */
import fs from 'node:fs';
import path from 'node:path';
import { setFaultHook, writeFileAtomic, writeFilesAtomic } from '../src/emit/atomic.js';
import { reportJsonChunks, reportXml, reportXmlChunks, type IntegrationReport, type InvoiceReport } from '../src/emit/report.js';
import { invoiceStatusesChunks, invoiceStatusesXml, type StatusEntry } from '../src/emit/statuses.js';
import { flowError } from '../src/errors/catalog.js';
import { tempDir } from './helpers.js';

const invoice = (i: number, refused = false): InvoiceReport => ({
  label: `NumOrdre ${i}`,
  number: `FA-${i}`,
  supplier: '81234567800013',
  recipient: '21450001200015',
  ...(i % 2 ? { serviceCode: 'TECHNIQUE' } : {}),
  status: refused ? 'REJECTED' : 'ACCEPTED',
  errors: refused ? [flowError('FLOW_EMPTY')] : [],
});

const report = (invoices: InvoiceReport[], extra: Partial<IntegrationReport> = {}): IntegrationReport => ({
  flowId: 'F1', file: 'flow.xml', sha256: 'ab', kind: undefined, receivedAt: '2026-12-01T10:00:00Z', state: 'IN_INTEGRE', statusCode: '90', errors: [], invoices, ...extra,
});

const entry = (n: number): StatusEntry => ({
  supplier: { idType: '1', id: '81234567800013', name: 'ACME <SAS>' },
  recipient: { siret: '21450001200015' },
  status: '03',
  at: '2026-12-01T10:00:00Z',
  invoiceNumber: `FA-${n}`,
});

test('the JSON report written in chunks is byte for byte JSON.stringify, whatever the lists hold', () => {
  const cases = [
    report([]),
    report([invoice(1)]),
    report([invoice(1), invoice(2, true), invoice(3)], { kind: 'mixed', duplicateOf: 'F0' }),
    report([], { errors: [flowError('FLOW_EMPTY')], state: 'QP_IRRECEVABLE', statusCode: '93' }),
    report([], { statusUpdates: [{ ...invoice(1, true), requestedStatus: '10' }, { ...invoice(2), requestedStatus: '04' }] }),
  ];
  for (const r of cases) {
    const chunks = [...reportJsonChunks(r)];
    expect(chunks.join('')).toBe(JSON.stringify(r, null, 2) + '\n');
    expect(JSON.parse(chunks.join(''))).toEqual(JSON.parse(JSON.stringify(r)));
  }
});

test('the XML report yields one chunk per error line', () => {
  const r = report(Array.from({ length: 50 }, (_, i) => invoice(i, true)), { state: 'IN_REJETE', statusCode: '93' });
  const chunks = [...reportXmlChunks(r, '2026-12-01T10:00:00Z', { id: 'FFL001' }, { id: 'MAI001' })];
  expect(chunks.length).toBeGreaterThan(50);
  expect(chunks.filter((c) => c.startsWith('<LigneErreurDetail')).length).toBe(50);
  expect(chunks.join('')).toBe(reportXml(r, '2026-12-01T10:00:00Z', { id: 'FFL001' }, { id: 'MAI001' }));
  expect(chunks.join('')).toContain('<Details NbLignesErreur="50">');
});

test('the status file reads its entries one at a time, as it is written', () => {
  let taken = 0;
  function* entries() {
    for (let n = 1; n <= 1000; n++) {
      taken++;
      yield entry(n);
    }
  }
  const it = invoiceStatusesChunks('F1', '2026-12-01', { id: 'FFL001' }, { id: 'MAI001' }, 1000, entries());
  const head = [it.next(), it.next(), it.next(), it.next(), it.next()].map((r) => r.value as string);
  expect(head[3]).toBe('<CPPFactureStatuts compteur="1000">\n');
  expect(head[4]).toContain('<IdFacture>FA-1</IdFacture>');
  expect(taken).toBe(1);
  const all = [...head, ...it].join('');
  expect(taken).toBe(1000);
  expect(all).toBe(invoiceStatusesXml('F1', '2026-12-01', { id: 'FFL001' }, { id: 'MAI001' }, Array.from({ length: 1000 }, (_, i) => entry(i + 1))));
  expect(all).toContain('RaisonSociale>ACME &lt;SAS&gt;<');
});

test('an atomic write takes its chunks lazily and recreates a folder removed since it was first used', () => {
  const dir = path.join(tempDir(), 'out', 'sub');
  const file = path.join(dir, 'big.xml');
  let produced = 0;
  function* chunks() {
    for (let i = 0; i < 5000; i++) {
      produced++;
      yield i % 2 ? Buffer.from(`<b>${i}</b>\n`) : `<a>${i}</a>\n`;
    }
  }
  writeFileAtomic(file, chunks());
  expect(produced).toBe(5000);
  const text = fs.readFileSync(file, 'utf8');
  expect(text.split('\n').length).toBe(5001);
  expect(text.startsWith('<a>0</a>\n<b>1</b>\n')).toBe(true);
  fs.rmSync(path.dirname(dir), { recursive: true });
  writeFileAtomic(file, ['again\n']);
  expect(fs.readFileSync(file, 'utf8')).toBe('again\n');
  expect(fs.readdirSync(dir)).toEqual(['big.xml']);
});

test('a group of files is written, fsynced, then renamed: a fault before the renames leaves none of them, nor a temp', () => {
  const dir = path.join(tempDir(), 'group');
  const files = Array.from({ length: 40 }, (_, i) => ({ path: path.join(dir, `f${i}.xml`), chunks: [`<f>${i}</f>\n`] }));
  const steps: string[] = [];
  setFaultHook((op, file) => {
    steps.push(`${op} ${path.basename(file)}`);
    if (op === 'fsync' && file.endsWith('f35.xml')) throw Object.assign(new Error('EIO'), { code: 'EIO' });
  });
  try {
    expect(() => writeFilesAtomic(files)).toThrow('EIO');
  } finally {
    setFaultHook(undefined);
  }
  // Groups of 32: the first group appeared whole; the second, faulted before its renames, not at all.
  expect(fs.readdirSync(dir).sort()).toEqual(files.slice(0, 32).map((f) => path.basename(f.path)).sort());
  const second = steps.slice(steps.indexOf('write f32.xml'));
  expect(second.slice(0, 8)).toEqual(['write f32.xml', 'write f33.xml', 'write f34.xml', 'write f35.xml', 'write f36.xml', 'write f37.xml', 'write f38.xml', 'write f39.xml']);
  expect(second.slice(8)).toEqual(['fsync f32.xml', 'fsync f33.xml', 'fsync f34.xml', 'fsync f35.xml']);
  writeFilesAtomic(files);
  expect(fs.readdirSync(dir).length).toBe(40);
  expect(fs.readFileSync(path.join(dir, 'f39.xml'), 'utf8')).toBe('<f>39</f>\n');
});
