/**
 * The official rules in the reading stage: which rule sets apply to a structured invoice
 * (the `officialRules` setting, per syntax and Factur-X profile), and their findings as coded
 * errors (fatal failures, RULE_OFFICIAL, refusing the invoice when `officialRulesRefuse`) and
 * warnings (warning-flag failures, RULE_OFFICIAL_WARNING). Each carries the official id in `rule`.
 */
import { flowError, type FlowError } from '../errors/catalog.js';
import type { XNode } from '../xml/parse.js';
import { checkRules, EngineError, RULE_SET_NAMES, type RuleSetName, type RuleSyntax } from './index.js';

/** UBL and CII get CEN + BR-FR (fatal variant); a Factur-X gets them by profile, plus its profile's own rules for EN 16931. */
export const DEFAULT_OFFICIAL_RULES = 'UBL=EN16931+BR-FR CII=EN16931+BR-FR FX-EN16931=EN16931+BR-FR+FX-EN16931 FX-BASIC=EN16931+BR-FR FX-EXTENDED=EN16931+BR-FR';

/** What the reading stage needs of the settings (plain data: it crosses to reading threads). */
export interface OfficialRules {
  /** Rule sets per key: UBL, CII, FX-<profile>. */
  sets: Record<string, RuleSetName[]>;
  refuse: boolean;
}

/** The settings' rule sets, parsed (validated at start-up). */
export const officialRulesOf = (s: { officialRules: string; officialRulesRefuse: boolean }): OfficialRules => parseOfficialRules(s.officialRules, s.officialRulesRefuse);

/** Parses `KEY=SET+SET KEY=…`; throws on an unknown key or set (the setting is checked at start-up). */
export function parseOfficialRules(text: string, refuse = true): OfficialRules {
  const sets: Record<string, RuleSetName[]> = {};
  for (const entry of text.split(/[\s,;]+/).filter(Boolean)) {
    const [key, list = ''] = entry.split('=');
    if (!key || !/^(UBL|CII|FX-[A-Z0-9]+)$/.test(key)) throw new Error(`officialRules: "${entry}" is not KEY=SET+SET with KEY UBL, CII or FX-<profile>`);
    const names = list.split('+').filter(Boolean);
    for (const n of names) if (!(RULE_SET_NAMES as string[]).includes(n)) throw new Error(`officialRules: unknown rule set ${n} (known: ${RULE_SET_NAMES.join(', ')})`);
    sets[key] = names as RuleSetName[];
  }
  return { sets, refuse };
}

/** The official rules' findings on one invoice document, as coded errors and warnings. */
export function officialFindings(root: XNode, syntax: RuleSyntax, key: string, rules: OfficialRules | undefined): { errors: FlowError[]; warnings: FlowError[] } {
  const errors: FlowError[] = [];
  const warnings: FlowError[] = [];
  const sets = rules?.sets[key] ?? [];
  if (!sets.length) return { errors, warnings };
  for (const set of sets) {
    try {
      for (const f of checkRules(root, syntax, [set])) {
        const at = { ...(f.line ? { line: f.line } : {}), ...(f.element ? { element: f.element } : {}), rule: f.rule };
        if (f.flag === 'fatal' && rules!.refuse) errors.push(flowError('RULE_OFFICIAL', { rule: f.rule, detail: f.message }, at));
        else warnings.push(flowError('RULE_OFFICIAL_WARNING', { rule: f.rule, detail: f.message }, at));
      }
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      // The official engine stops on this document too: it has no verdict, so it cannot pass.
      const error = flowError('RULE_OFFICIAL_ENGINE', { set, rule: e.rule, detail: e.cause.message }, { rule: e.rule });
      (rules!.refuse ? errors : warnings).push(error);
    }
  }
  return { errors, warnings };
}
