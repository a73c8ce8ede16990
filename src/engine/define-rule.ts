import { interpolateDocs } from './docs-template.js';
import type { RuleDefinition, ThresholdSpecs } from './types.js';

/**
 * Identity helper that keeps a rule's threshold keys typed inside `evaluate`. Docs placeholders
 * (`{thresholdKey}`) are filled with the thresholds' defaults here, once, so every consumer (docs pages,
 * `pg-advisor rules`, SARIF, the API) shows the same numbers as the code; `docsTemplate` keeps the source.
 */
export function defineRule<T extends ThresholdSpecs>(rule: RuleDefinition<T>): RuleDefinition<T> {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(rule.id)) {
    throw new Error(`rule id "${rule.id}" must be kebab-case`);
  }
  const template = rule.docsTemplate ?? rule.docs;
  return Object.freeze({ ...rule, docs: Object.freeze(interpolateDocs(template, rule.thresholds, rule.id)), docsTemplate: template });
}
