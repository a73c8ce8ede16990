import type { AnyRule } from '../engine/types.js';
import { UsageError } from '../errors/errors.js';
import { describeRule, renderRuleDocs, renderRulesJson, renderRulesText } from '../report/rules.js';
import { EXIT } from './failure.js';
import { colorEnabled, type CliIo } from '../terminal/io.js';

/** `pg-advisor rules [id] [--format text|json]`. */
export function runRulesCommand(rules: readonly AnyRule[], id: string | undefined, format: string, io: CliIo): number {
  const color = colorEnabled(io.stdout, io.env);
  if (id === undefined) {
    io.stdout.write(format === 'json' ? renderRulesJson(rules) : renderRulesText(rules, color));
    return EXIT.OK;
  }
  const rule = rules.find((r) => r.id === id);
  if (!rule) {
    throw new UsageError(`unknown rule "${id}"; valid: ${rules.map((r) => r.id).join(', ') || '(none registered)'}`, {
      hint: 'pg-advisor rules lists every rule',
    });
  }
  io.stdout.write(format === 'json' ? `${JSON.stringify(describeRule(rule), null, 2)}\n` : renderRuleDocs(rule, color));
  return EXIT.OK;
}
