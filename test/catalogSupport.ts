/** The catalog cases that need a whole home: real ledger, real files, a real worker thread. */
import fs from 'node:fs';
import path from 'node:path';
import { deliverFlows } from '../src/app/deliver.js';
import { decideFlows } from '../src/app/decide.js';
import { flowReport, resolveInvoice } from '../src/app/queries.js';
import { completeInvoice } from '../src/app/requests.js';
import { processFile } from '../src/app/run.js';
import { FlowPool } from '../src/daemon/pool.js';
import { systemFault, type FlowError } from '../src/errors/catalog.js';
import { closeHub } from '../src/hub.js';
import { claimFile } from '../src/ingest/claim.js';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import { fixture, newHub, tempDir } from './helpers.js';

/** A Factur-X without XMP metadata: integrated, its report saying why it is not PDF/A-3 (structurally). */
export async function facturxWithoutXmp(pdf: Buffer): Promise<FlowError[]> {
  const hub = await newHub();
  try {
    const file = path.join(tempDir(), 'sans-xmp.pdf');
    fs.writeFileSync(file, pdf);
    const flow = (await processFile(hub, file, { copy: true }))!;
    const report = await flowReport(hub, flow);
    return flow.state === 'IN_INTEGRE' ? report.invoices.flatMap((i) => i.warnings ?? []) : [];
  } finally {
    await closeHub(hub);
  }
}

export async function completeInvoiceMissingFile(): Promise<FlowError[]> {
  const hub = await newHub();
  try {
    await processFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true });
    const invoice = await resolveInvoice(hub, '81234567800013/FA-2026-0002');
    return (await completeInvoice(hub, invoice, ['/nonexistent/bon.pdf'])).errors;
  } finally {
    await closeHub(hub);
  }
}

/** A decided flow whose source vanished from the spool before delivery. */
export async function deliverWithoutSource(): Promise<FlowError[]> {
  const hub = await newHub();
  try {
    const id = (await claimFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    await decideFlows(hub, [(await hub.ledger.flows.get(id))!]);
    fs.rmSync(path.join(hub.layout.spool, id));
    const [fault] = await deliverFlows(hub, [{ flow: (await hub.ledger.flows.get(id))! }]);
    return fault ? [systemFault(fault).fault] : [];
  } finally {
    await closeHub(hub);
  }
}

/**
 * A large flow whose source changed between its reading and its delivery: an attachment set
 * aside no longer reads back as it was read (one base64 character of its PDF changed).
 */
export async function deliverFromChangedSource(): Promise<FlowError[]> {
  const hub = await newHub({ chunkAboveBytes: 1 });
  try {
    const id = (await claimFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    const [decided] = await decideFlows(hub, [(await hub.ledger.flows.get(id))!]);
    const models = decided && 'read' in decided ? decided.read.invoices : [];
    const stored = models[0]?.attachments[0]?.stored;
    if (!stored) return [];
    const spooled = path.join(hub.layout.spool, id);
    const bytes = fs.readFileSync(spooled);
    bytes[stored.start] = bytes[stored.start] === 0x41 ? 0x42 : 0x41;
    fs.writeFileSync(spooled, bytes);
    const [fault] = await deliverFlows(hub, [{ flow: (await hub.ledger.flows.get(id))!, models }]);
    return fault ? [systemFault(fault).fault] : [];
  } finally {
    await closeHub(hub);
  }
}

export async function openCorruptLedger(): Promise<FlowError[]> {
  const file = path.join(tempDir(), 'factflow.db');
  fs.writeFileSync(file, 'this is not a database, it is a text file long enough to have a header');
  try {
    new SqliteLedger(file);
    return [];
  } catch (e) {
    return [systemFault(e).fault];
  }
}

/** A worker that dies while it holds a flow: the flow is reported with SYS_WORKER_FAILED. */
export async function crashAWorker(): Promise<FlowError[]> {
  const hub = await newHub({ workers: 1 });
  const pool = new FlowPool(hub, 1);
  try {
    const id = (await claimFile(hub, fixture('mixed', 'three-recipients.xml'), { copy: true }))!;
    const result = pool.run(id, 1);
    await pool.crashWorker(0);
    const fault = await result;
    return fault?.startsWith('SYS_WORKER_FAILED') ? [{ code: 'SYS_WORKER_FAILED', message: fault }] : [];
  } finally {
    await pool.stop();
    await closeHub(hub);
  }
}
