/**
 * The official rules (EN 16931 CEN, FNFE BR-FR and EXTENDED-CTC-FR, Factur-X profiles),
 * run natively over the parsed document: `checkRules(root, syntax, sets)` gives every failed
 * assert/report with its official id and flag, our own message, and where it is.
 */
import { parseXml, type XNode } from '../xml/parse.js';
import { ruleSet as brfrCdvCdar } from './generated/brfr-cdv-cdar.js';
import { ruleSet as brfrCdvCdarWarning } from './generated/brfr-cdv-cdar-warning.js';
import { ruleSet as brfrCii } from './generated/brfr-cii.js';
import { ruleSet as brfrCiiWarning } from './generated/brfr-cii-warning.js';
import { ruleSet as brfrUbl } from './generated/brfr-ubl.js';
import { ruleSet as brfrUblWarning } from './generated/brfr-ubl-warning.js';
import { ruleSet as en16931Cii } from './generated/en16931-cii.js';
import { ruleSet as en16931Ubl } from './generated/en16931-ubl.js';
import { ruleSet as extfrCii } from './generated/extfr-cii.js';
import { ruleSet as extfrUbl } from './generated/extfr-ubl.js';
import { ruleSet as fxBasicwl } from './generated/fx-basicwl.js';
import { ruleSet as fxEn16931 } from './generated/fx-en16931.js';
import { ruleSet as fxExtended } from './generated/fx-extended.js';
import { messageFor } from './messages.js';
import { EngineError, type RuleSetSource, runRuleSet } from './schematron.js';
import { treeOf, type RDocument } from './xpath/tree.js';

export { EngineError } from './schematron.js';

/** The syntaxes the rule sets are written for. */
export type RuleSyntax = 'UBL' | 'CII' | 'CDAR';

/**
 * Rule set names, per syntax (a set applies to its syntax only). Each generated set is a
 * function: only the sets a process runs are built (the Factur-X ones alone are 5 MB of text),
 * in every thread that reads.
 */
export const RULE_SETS = {
  'EN16931': { UBL: en16931Ubl, CII: en16931Cii },
  'BR-FR': { UBL: brfrUbl, CII: brfrCii },
  'BR-FR-WARNING': { UBL: brfrUblWarning, CII: brfrCiiWarning },
  'EXTENDED-CTC-FR': { UBL: extfrUbl, CII: extfrCii },
  'FX-EN16931': { CII: fxEn16931 },
  'FX-BASICWL': { CII: fxBasicwl },
  'FX-EXTENDED': { CII: fxExtended },
  'BR-FR-CDV': { CDAR: brfrCdvCdar },
  'BR-FR-CDV-WARNING': { CDAR: brfrCdvCdarWarning },
} as const satisfies Record<string, Partial<Record<RuleSyntax, () => RuleSetSource>>>;

export type RuleSetName = keyof typeof RULE_SETS;
export const RULE_SET_NAMES = Object.keys(RULE_SETS) as RuleSetName[];

export interface RuleFinding {
  /** The official id, exactly as in the Schematron (BR-CO-10, BR-FR-12_BT-49, FX-SCH-A-000556…). */
  rule: string;
  flag: 'fatal' | 'warning';
  message: string;
  line?: number;
  /** Location of the node the rule was checked on, like xml/parse.ts pathOf. */
  element?: string;
  /** The rule set that found it. */
  set: RuleSetName;
}

/** Each rule set built so far, by its generator (built once per thread, on first use). */
const built = new Map<() => RuleSetSource, RuleSetSource>();

/** The generated source of one rule set for a syntax, or undefined when it has none. */
export function ruleSetFor(name: RuleSetName, syntax: RuleSyntax): RuleSetSource | undefined {
  const make = (RULE_SETS[name] as Partial<Record<RuleSyntax, () => RuleSetSource>>)[syntax];
  if (!make) return undefined;
  let set = built.get(make);
  if (!set) built.set(make, (set = make()));
  return set;
}

/**
 * Runs rule sets over a document: the live root the reading stage holds (XNode from
 * xml/parse.ts) or a tree already built from it. A set the official engine would stop on
 * throws EngineError (the caller reports it; it is never a pass).
 */
export function checkRules(doc: XNode | RDocument, syntax: RuleSyntax, sets: readonly RuleSetName[]): RuleFinding[] {
  const tree = 'root' in doc && 'size' in doc ? (doc as RDocument) : treeOf(doc as XNode);
  const findings: RuleFinding[] = [];
  for (const name of sets) {
    const set = ruleSetFor(name, syntax);
    if (!set) continue;
    for (const f of runRuleSet(set, tree.root)) {
      // A check without an id (some Factur-X reports) has no official name, and the official
      // verdicts (which list ids) do not count it: it is kept as a warning under the set's name.
      const rule = f.id || `${name}-UNNAMED`;
      findings.push({ rule, flag: f.id ? f.flag : 'warning', message: messageFor(rule, f.test), ...(f.node.line ? { line: f.node.line } : {}), element: f.node.path(), set: name });
    }
  }
  return findings;
}

/** The outcome of one rule set on one document, as the conformance run compares it. */
export type SetOutcome = { ok: true; findings: RuleFinding[] } | { ok: false; error: string };

/** Convenience for tests and the bench: parse the bytes, then run each set separately (an engine error stops only its set). */
export function checkRulesOnBytes(bytes: Uint8Array, syntax: RuleSyntax, sets: readonly RuleSetName[]): Map<RuleSetName, SetOutcome> | { parseError: string } {
  const parsed = parseXml(bytes, undefined, (root) => {
    const tree = treeOf(root);
    const out = new Map<RuleSetName, SetOutcome>();
    for (const s of sets) {
      try {
        out.set(s, { ok: true, findings: checkRules(tree, syntax, [s]) });
      } catch (e) {
        if (!(e instanceof EngineError)) throw e;
        out.set(s, { ok: false, error: e.message });
      }
    }
    return out;
  });
  if (!parsed.ok) return { parseError: parsed.errors[0]!.message };
  return parsed.value;
}
