import pc from 'picocolors';
import type { AnyRule } from '../engine/types.js';
import { formatEvidenceValue, formatNumber } from './format-values.js';

/** A rule as `pg-advisor rules --format json` prints it. */
export interface RuleDescription {
  readonly id: string;
  readonly title: string;
  readonly category: string;
  readonly defaultSeverity: string;
  readonly requires: readonly string[];
  readonly thresholds: readonly { readonly key: string; readonly default: number; readonly description: string }[];
  readonly docs: AnyRule['docs'];
  /** Relative path of the rule's documentation page. */
  readonly docsPage: string;
}

export function describeRule(rule: AnyRule): RuleDescription {
  return {
    id: rule.id,
    title: rule.title,
    category: rule.category,
    defaultSeverity: rule.defaultSeverity,
    requires: [...rule.requires],
    thresholds: Object.entries(rule.thresholds).map(([key, spec]) => ({ key, default: spec.default, description: spec.description })),
    docs: rule.docs,
    docsPage: `docs/rules/${rule.id}.md`,
  };
}

export function renderRulesJson(rules: readonly AnyRule[]): string {
  return `${JSON.stringify({ version: 1, rules: rules.map(describeRule) }, null, 2)}\n`;
}

/** The rule list: id, title, category, severity, requires, thresholds and the one-line summary. */
export function renderRulesText(rules: readonly AnyRule[], color: boolean): string {
  const c = pc.createColors(color);
  const out: string[] = [];
  for (const rule of rules) {
    out.push(`${c.bold(rule.id)}  ${rule.title}  ${c.dim(`[${rule.category} · default ${rule.defaultSeverity}]`)}`);
    out.push(`  ${rule.docs.summary}`);
    out.push(`  ${c.dim('requires')}   ${rule.requires.join(', ') || '(nothing)'}`);
    out.push(...thresholdLines(rule, c));
    out.push('');
  }
  out.push(
    c.dim(
      `${rules.length} rule(s). \`pg-advisor rules <id>\` prints a rule's full documentation; thresholds are set per rule in the config file (docs/config.md).`,
    ),
  );
  return `${out.join('\n')}\n`;
}

/** One rule's full documentation: problem, why it matters, fix, false positives, thresholds. */
export function renderRuleDocs(rule: AnyRule, color: boolean): string {
  const c = pc.createColors(color);
  const section = (title: string, body: string): string[] => [c.bold(title), ...indent(body), ''];
  return `${[
    `${c.bold(rule.id)} — ${rule.title}`,
    c.dim(`category ${rule.category} · default severity ${rule.defaultSeverity} · requires ${rule.requires.join(', ') || '(nothing)'}`),
    '',
    ...section('What it detects', rule.docs.summary),
    ...section('Why it matters', rule.docs.why),
    ...section('How to fix it', rule.docs.fix),
    ...section('False positives', rule.docs.falsePositives),
    c.bold('Thresholds'),
    ...thresholdLines(rule, c).slice(Object.keys(rule.thresholds).length > 0 ? 1 : 0),
  ].join('\n')}\n`;
}

function thresholdLines(rule: AnyRule, c: ReturnType<typeof pc.createColors>): string[] {
  const entries = Object.entries(rule.thresholds);
  if (entries.length === 0) return [`  ${c.dim('thresholds')} (none)`];
  const width = Math.max(...entries.map(([k]) => k.length));
  return [
    `  ${c.dim('thresholds')}`,
    ...entries.map(([key, spec]) => {
      // Only sizes and durations get a human form; ratios are clearer as the number itself.
      const human = /(Bytes|Seconds)$/.test(key) ? formatEvidenceValue(key, spec.default) : null;
      const shown = human && human !== formatNumber(spec.default) ? `${spec.default} (${human})` : String(spec.default);
      return `    ${key.padEnd(width)}  default ${shown} — ${spec.description}`;
    }),
  ];
}

function indent(text: string): string[] {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    if (current && current.length + word.length + 1 > 96) {
      lines.push(`  ${current}`);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(`  ${current}`);
  return lines;
}
