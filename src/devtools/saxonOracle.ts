/**
 * The official verdict of a document: an official Schematron compiled to XSLT, run by SaxonJS
 * (a devDependency: tests and benchmarks only, never the product). Each XSLT is compiled to SEF
 * once with xslt3 and kept in a cache folder keyed by its content, so that the next run only
 * loads it.
 *   officialVerdict(xmlBytes, xsltPath) → { failed: [{ id, flag, location }] } or { error }
 * `failed` holds the SVRL failed-assert and successful-report elements in document order; `flag`
 * is the rule's own (`fatal`, `warning`, `information`), `error` where it has none (Factur-X).
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface SaxonApi {
  transform(options: Record<string, unknown>, mode: 'sync'): { principalResult: string };
  getProcessorInfo(): { productVersion: string };
}
const saxon = (): SaxonApi => require('saxon-js') as SaxonApi;

export interface OfficialFinding {
  id: string;
  flag: string;
  location: string;
}

export type OfficialVerdict = { failed: OfficialFinding[] } | { error: string };

/** Where compiled stylesheets are kept: FACTFLOW_SEF_CACHE, else var/sef-cache/ of the checkout (ignored by git). */
export const sefCacheDir = (): string => process.env.FACTFLOW_SEF_CACHE ?? path.join(ROOT, 'var', 'sef-cache');

/** The SEF of an XSLT, compiled on first use (about 30 s for the large CEN files) and reused after. */
export function compiledSef(xsltPath: string): string {
  const digest = crypto.createHash('sha256').update(fs.readFileSync(xsltPath)).digest('hex').slice(0, 16);
  const dir = sefCacheDir();
  const sef = path.join(dir, `${path.basename(xsltPath, path.extname(xsltPath))}-${digest}.sef.json`);
  if (fs.existsSync(sef)) return sef;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${sef}.${process.pid}.tmp`;
  const r = spawnSync(process.execPath, [require.resolve('xslt3/xslt3.js'), `-xsl:${xsltPath}`, `-export:${tmp}`, '-nogo', '-relocate:on'], { encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(tmp)) throw new Error(`xslt3 could not compile ${xsltPath}: ${r.stderr || r.stdout}`);
  fs.renameSync(tmp, sef); // another process compiling the same file renames the same bytes
  return sef;
}

/** Loaded stylesheets, by XSLT path: one parse of the SEF per process. */
const loaded = new Map<string, { sef: unknown; base: string }>();

function stylesheet(xsltPath: string): { sef: unknown; base: string } {
  let s = loaded.get(xsltPath);
  if (!s) {
    s = { sef: JSON.parse(fs.readFileSync(compiledSef(xsltPath), 'utf8')), base: pathToFileURL(xsltPath).href };
    loaded.set(xsltPath, s);
  }
  return s;
}

const ATTR = /([\w:-]+)="([^"]*)"/g;
const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The failed-assert and successful-report elements of an SVRL document. */
export function svrlFindings(svrl: string): OfficialFinding[] {
  const found: OfficialFinding[] = [];
  for (const m of svrl.matchAll(/<(?:svrl:)?(?:failed-assert|successful-report)\b([^>]*)>/g)) {
    const attrs = Object.fromEntries([...m[1]!.matchAll(ATTR)].map((a) => [a[1]!, unescape(a[2]!)]));
    found.push({ id: attrs.id ?? '', flag: attrs.flag ?? 'error', location: attrs.location ?? '' });
  }
  return found;
}

/** Runs one official XSLT on one document; a dynamic error of the XSLT itself is returned as `error` (the corpus's ENGINE-ERROR). */
export function officialVerdict(xml: Buffer | string, xsltPath: string): OfficialVerdict {
  const { sef, base } = stylesheet(xsltPath);
  try {
    const out = saxon().transform({ stylesheetInternal: sef, stylesheetBaseURI: base, sourceText: xml.toString(), destination: 'serialized' }, 'sync');
    return { failed: svrlFindings(out.principalResult) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** The ids that refuse: failed rules whose flag is neither warning nor information. */
export const fatalIds = (v: OfficialVerdict): string[] =>
  'error' in v ? [] : [...new Set(v.failed.filter((f) => f.flag !== 'warning' && f.flag !== 'information').map((f) => f.id))].sort();

export const saxonVersion = (): string => saxon().getProcessorInfo().productVersion;
