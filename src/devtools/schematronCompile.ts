#!/usr/bin/env node
/**
 * `npm run rules:generate [-- <schematron dir>]`: reads the official Schematron files (default
 * ../shared/corpus/schematron) and writes one TypeScript module per rule set under
 * src/rules/generated/: its namespaces, lets, xsl:functions, patterns, rules (context, lets)
 * and checks (id, flag, assert/report, test expression), plus the code-list documents the
 * Factur-X rules read with document(). Only structure, ids and expressions are taken: the
 * assert texts are not copied (our own messages are in src/rules/messages.ts). Run at
 * development time; the generated modules are committed and compiled with the project.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XmlDocument, XmlElement, type XmlTreeNode } from 'libxml2-wasm';
import type { DocSource, RuleSetSource } from '../rules/schematron.js';

const SCH = 'http://purl.oclc.org/dsdl/schematron';
const XSL = 'http://www.w3.org/1999/XSL/Transform';

/** The rule sets factflow knows: name, file under the Schematron folder, version, documents read by document(). */
export const RULE_SETS: { name: string; file: string; version: string; documents?: string[] }[] = [
  { name: 'EN16931-UBL', file: 'en16931-1.3.16/EN16931-UBL-validation-preprocessed.sch', version: 'CEN EN 16931 1.3.16' },
  { name: 'EN16931-CII', file: 'en16931-1.3.16/EN16931-CII-validation-preprocessed.sch', version: 'CEN EN 16931 1.3.16' },
  { name: 'BRFR-UBL', file: 'fr-ctc-1.4.0.03/UBL/BR-FR-Flux2-Schematron-UBL.sch', version: 'FNFE BR-FR 1.4.0.03 (fatal)' },
  { name: 'BRFR-UBL-WARNING', file: 'fr-ctc-1.4.0.03/UBL/BR-FR-Flux2-Schematron-UBL_WARNING.sch', version: 'FNFE BR-FR 1.4.0.03 (warning)' },
  { name: 'BRFR-CII', file: 'fr-ctc-1.4.0.03/CII/BR-FR-Flux2-Schematron-CII.sch', version: 'FNFE BR-FR 1.4.0.03 (fatal)' },
  { name: 'BRFR-CII-WARNING', file: 'fr-ctc-1.4.0.03/CII/BR-FR-Flux2-Schematron-CII_WARNING.sch', version: 'FNFE BR-FR 1.4.0.03 (warning)' },
  { name: 'EXTFR-UBL', file: 'fr-ctc-1.4.0.03/UBL/EXTENDED-CTC-FR-UBL.sch', version: 'FNFE EXTENDED-CTC-FR 1.4.0.03' },
  { name: 'EXTFR-CII', file: 'fr-ctc-1.4.0.03/CII/EXTENDED-CTC-FR-CII.sch', version: 'FNFE EXTENDED-CTC-FR 1.4.0.03' },
  { name: 'FX-EN16931', file: 'facturx-1.09.2/EN16931/FACTUR-X_EN16931.sch', version: 'Factur-X 1.09.2 EN 16931', documents: ['FACTUR-X_EN16931_codedb.xml'] },
  { name: 'FX-BASICWL', file: 'facturx-1.09.2/BASICWL/FACTUR-X_BASIC-WL.sch', version: 'Factur-X 1.09.2 BASIC WL', documents: ['FACTUR-X_BASIC-WL_codedb.xml'] },
  { name: 'FX-EXTENDED', file: 'facturx-1.09.2/EXTENDED/FACTUR-X_EXTENDED.sch', version: 'Factur-X 1.09.2 EXTENDED', documents: ['FACTUR-X_EXTENDED_codedb.xml'] },
  { name: 'BRFR-CDV-CDAR', file: 'fr-ctc-1.4.0.03/CDAR/BR-FR-CDV-Schematron-CDAR.sch', version: 'FNFE BR-FR-CDV 1.4.0.03 (fatal)' },
  { name: 'BRFR-CDV-CDAR-WARNING', file: 'fr-ctc-1.4.0.03/CDAR/BR-FR-CDV-Schematron-CDAR_WARNING.sch', version: 'FNFE BR-FR-CDV 1.4.0.03 (warning)' },
];

const elements = (e: XmlElement): XmlElement[] => {
  const out: XmlElement[] = [];
  for (let c: XmlTreeNode | null = e.firstChild; c; c = c.next) if (c instanceof XmlElement) out.push(c);
  return out;
};
const attr = (e: XmlElement, name: string): string | undefined => e.attr(name)?.value;
const need = (e: XmlElement, name: string): string => {
  const v = attr(e, name);
  if (v === undefined) throw new Error(`<${e.name}> at line ${e.line} has no ${name}`);
  return v;
};
const is = (e: XmlElement, ns: string, name: string): boolean => e.namespaceUri === ns && e.name === name;

function lets(e: XmlElement): [string, string][] {
  return elements(e)
    .filter((c) => is(c, SCH, 'let'))
    .map((c) => [need(c, 'name'), need(c, 'value')]);
}

export function readSchematron(file: string, name: string, source: string, documents: string[] = []): RuleSetSource {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(file));
  try {
    const schema = doc.root;
    const namespaces: Record<string, string> = {};
    const functions: RuleSetSource['functions'] = [];
    const patterns: RuleSetSource['patterns'] = [];
    const globals = lets(schema);
    for (const c of elements(schema)) {
      if (is(c, SCH, 'ns')) namespaces[need(c, 'prefix')] = need(c, 'uri');
      else if (is(c, XSL, 'function')) {
        const f = { name: need(c, 'name'), params: [] as { name: string; as?: string }[], variables: [] as { name: string; select: string }[], select: '' };
        for (const p of elements(c)) {
          if (is(p, XSL, 'param')) f.params.push({ name: need(p, 'name'), ...(attr(p, 'as') ? { as: attr(p, 'as')! } : {}) });
          else if (is(p, XSL, 'variable')) f.variables.push({ name: need(p, 'name'), select: need(p, 'select') });
          else if (is(p, XSL, 'sequence')) f.select = need(p, 'select');
          else throw new Error(`unsupported xsl:${p.name} in function ${f.name} (line ${p.line})`);
        }
        functions.push(f);
      } else if (is(c, SCH, 'pattern')) {
        // A pattern's lets are global variables in the official XSLT.
        globals.push(...lets(c));
        const rules: RuleSetSource['patterns'][number]['rules'] = [];
        for (const r of elements(c).filter((x) => is(x, SCH, 'rule'))) {
          if (attr(r, 'abstract') === 'true') throw new Error(`abstract rules are not supported (line ${r.line})`);
          const checks: RuleSetSource['patterns'][number]['rules'][number]['checks'] = [];
          for (const a of elements(r)) {
            if (!is(a, SCH, 'assert') && !is(a, SCH, 'report')) continue;
            const flag = attr(a, 'flag') === 'warning' || attr(a, 'flag') === 'information' ? 'warning' : 'fatal';
            checks.push([attr(a, 'id') ?? '', flag, a.name as 'assert' | 'report', need(a, 'test')]);
          }
          rules.push({ context: need(r, 'context'), lets: lets(r), checks });
        }
        patterns.push({ id: attr(c, 'id') ?? '', rules });
      } else if (is(c, SCH, 'phase') || is(c, SCH, 'title') || is(c, SCH, 'let')) continue;
      else throw new Error(`unsupported <${c.name}> in ${file} (line ${c.line})`);
    }
    const set: RuleSetSource = { name, source, namespaces, lets: globals, functions, patterns };
    if (documents.length) set.documents = Object.fromEntries(documents.map((d) => [d, readDocument(path.join(path.dirname(file), d))]));
    return set;
  } finally {
    doc.dispose();
  }
}

function readDocument(file: string): DocSource {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(file));
  try {
    const read = (e: XmlElement): DocSource => [e.name, Object.fromEntries(e.attrs.map((a) => [a.name, a.value])), elements(e).map(read)];
    return read(doc.root);
  } finally {
    doc.dispose();
  }
}

/** The module text for one rule set (deterministic: the jest test compares it with the committed file). */
export function moduleText(set: RuleSetSource, from: string): string {
  return [
    `// Generated by src/devtools/schematronCompile.ts (npm run rules:generate) from ${from}: ${set.source}. Do not edit.`,
    "import type { RuleSetSource } from '../schematron.js';",
    '',
    // A function, so that a rule set is built in memory only where it is used (see rules/index.ts).
    `export const ruleSet = (): RuleSetSource => (${JSON.stringify(set, null, 1)});`,
    '',
  ].join('\n');
}

export const moduleFile = (name: string): string => `${name.toLowerCase()}.ts`;

export function generate(schematronDir: string, outDir: string): string[] {
  const written: string[] = [];
  for (const r of RULE_SETS) {
    const set = readSchematron(path.join(schematronDir, r.file), r.name, r.version, r.documents);
    const out = path.join(outDir, moduleFile(r.name));
    fs.writeFileSync(out, moduleText(set, path.basename(r.file)));
    written.push(out);
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const project = path.resolve(here, '..', '..');
  const dir = process.argv[2] ?? path.resolve(project, '..', 'shared', 'corpus', 'schematron');
  for (const f of generate(dir, path.join(project, 'src', 'rules', 'generated'))) console.log(`wrote ${path.relative(project, f)}`);
}
