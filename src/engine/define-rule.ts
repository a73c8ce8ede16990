import type { RuleDefinition, ThresholdSpecs } from './types.js';

/** Identity helper that keeps a rule's threshold keys typed inside `evaluate`. */
export function defineRule<T extends ThresholdSpecs>(rule: RuleDefinition<T>): RuleDefinition<T> {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(rule.id)) {
    throw new Error(`rule id "${rule.id}" must be kebab-case`);
  }
  return Object.freeze(rule);
}
