/**
 * Speed of the official rules: median CPU ms per invoice for EN16931 + BR-FR over the corpus
 * UBL and CII examples (parse, tree and rules together, as checkRulesOnBytes runs them).
 * Usage: node dist/devtools/rulesSpeed.js [corpusDir] [rounds]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRulesOnBytes, type RuleSyntax } from '../rules/index.js';

const corpus = process.argv[2] ?? '../shared/corpus';
const rounds = Number(process.argv[3] ?? 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

for (const [dir, syntax] of [['ubl', 'UBL'], ['cii', 'CII']] as [string, RuleSyntax][]) {
  const base = join(corpus, 'examples', dir);
  const files = (readdirSync(base, { recursive: true }) as string[]).filter((f) => f.endsWith('.xml')).map((f) => readFileSync(join(base, f)));
  // The first round compiles the rule sets; it is not counted.
  for (const b of files) checkRulesOnBytes(b, syntax, ['EN16931', 'BR-FR']);
  const perInvoice: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // CPU time of this process, not wall time: the machine is shared.
    const t0 = process.cpuUsage();
    for (const b of files) checkRulesOnBytes(b, syntax, ['EN16931', 'BR-FR']);
    const used = process.cpuUsage(t0);
    perInvoice.push((used.user + used.system) / 1000 / files.length);
  }
  console.log(`${syntax}: ${files.length} files, median ${median(perInvoice).toFixed(2)} ms per invoice (best round ${Math.min(...perInvoice).toFixed(2)})`);
}
