/**
 * The CDAR checks, for tests: the D22B XSD (compiled by the project's schema tooling), the
 * project's own BR-FR-CDV rules (src/rules, blocking set), and the FNFE BR-FR-CDV 1.4.0.03
 * Schematron run by SaxonJS 2.7 from its compiled XSLT, exported to SEF once into a cache outside
 * the project. Absent ../shared: the XSD and the official Schematron are not available.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { XmlDocument } from 'libxml2-wasm';
import { checkRules } from '../src/rules/index.js';
import { parseXml } from '../src/xml/parse.js';
import { schemaFromFile } from '../src/xml/schemas.js';
import { ROOT, SHARED } from './helpers.js';

export const CDAR_XSD = path.join(SHARED, 'corpus', 'xsd', 'cdar-d22b-uncoupled', 'CrossDomainAcknowledgementAndResponse_100pD22B.xsd');
export const CDAR_EXAMPLES = path.join(SHARED, 'corpus', 'examples', 'cdar', 'fnfe-xp-z12-014-via-phive-rules');
const CDV_XSLT = path.join(SHARED, 'corpus', 'schematron-xslt', 'fnfe-1.4.0.03', 'CDAR', '2xslt', 'BR-FR-CDV-Schematron-CDAR.xslt');
export const hasCdarCorpus = fs.existsSync(CDAR_XSD) && fs.existsSync(CDV_XSLT) && fs.existsSync(CDAR_EXAMPLES);

export function cdarXsdErrors(xml: string): string[] {
  const doc = XmlDocument.fromString(xml);
  try {
    return schemaFromFile(CDAR_XSD).check(doc, 20).map((e) => `${e.message} (line ${e.line})`);
  } finally {
    doc.dispose();
  }
}

/** The SEF of the CDV rules, compiled once per version of the XSLT into the system's temp folder. */
function cdvSef(): string {
  const st = fs.statSync(CDV_XSLT);
  const dir = path.join(os.tmpdir(), 'factflow-sef-cache');
  const sef = path.join(dir, `BR-FR-CDV-CDAR-${st.size}-${Math.floor(st.mtimeMs)}.sef.json`);
  if (!fs.existsSync(sef)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${sef}.${process.pid}.tmp`;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'xslt3', 'xslt3.js'), `-xsl:${CDV_XSLT}`, `-export:${tmp}`, '-nogo', '-relocate:on'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`xslt3 could not compile the CDV rules: ${r.stderr}`);
    fs.renameSync(tmp, sef);
  }
  return sef;
}

interface SaxonJs { transform(o: Record<string, unknown>, mode: 'sync'): { principalResult: string } }
let saxon: SaxonJs | undefined;

/** Fatal failed asserts of the CDV rules (blocking mode), as `id: text`. */
export function cdvFailures(xml: string): string[] {
  saxon ??= createRequire(import.meta.url)('saxon-js') as SaxonJs;
  const svrl = saxon.transform({ stylesheetFileName: cdvSef(), sourceText: xml, destination: 'serialized' }, 'sync').principalResult;
  return [...svrl.matchAll(/<svrl:failed-assert\b([^>]*)>([\s\S]*?)<\/svrl:failed-assert>/g)]
    .filter((m) => !/flag="warning"/.test(m[1]!))
    .map((m) => `${/id="([^"]+)"/.exec(m[1]!)?.[1]}: ${m[2]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim().slice(0, 300)}`);
}

/** Fatal findings of the project's own BR-FR-CDV rules (the set the hub runs natively), as `id: message`. */
export function nativeCdvFailures(xml: string): string[] {
  const parsed = parseXml(Buffer.from(xml, 'utf8'), undefined, (root) => checkRules(root, 'CDAR', ['BR-FR-CDV']));
  if (!parsed.ok) return parsed.errors.map((e) => `${e.code}: ${e.message}`);
  return parsed.value.filter((f) => f.flag === 'fatal').map((f) => `${f.rule}: ${f.message}`);
}

/** Every check of a CDAR message at once: empty lists when it is valid. */
export const cdarChecks = (xml: string) => ({ xsd: cdarXsdErrors(xml), rules: nativeCdvFailures(xml), cdv: cdvFailures(xml) });
export const CDAR_VALID = { xsd: [], rules: [], cdv: [] };
