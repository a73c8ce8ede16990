import pc from 'picocolors';
import { SEVERITIES, type Finding, type Severity } from '../engine/types.js';
import type { FailOn } from '../config/schema.js';
import { formatEvidenceValue, formatObject, labelOf } from './format-values.js';
import type { Report, ReportDiagnostic } from './types.js';
import { countAtOrAbove, ruleErrors, verdictLine } from './verdict.js';

export interface TextRenderOptions {
  /** ANSI colours (the CLI decides: TTY, NO_COLOR, FORCE_COLOR). */
  readonly color: boolean;
  readonly failOn: FailOn;
  /** Evidence entries shown per finding (the JSON report has all). */
  readonly maxEvidence?: number;
  /** Wrap evidence lines at this width (characters). */
  readonly width?: number;
}

type Colors = ReturnType<typeof pc.createColors>;

/**
 * The terminal report: header, findings grouped by severity (critical first) with one headline per
 * finding (rule, object, key number) and indented details, diagnostics with hints, a one-line verdict.
 */
export function renderText(report: Report, options: TextRenderOptions): string {
  const c = pc.createColors(options.color);
  const out: string[] = [];
  out.push(...header(report, c), '');

  for (const severity of [...SEVERITIES].reverse()) {
    const group = report.findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    out.push(paint(c, severity, `${severity.toUpperCase()} (${group.length})`));
    for (const finding of group) out.push(...renderFinding(finding, c, options), '');
  }
  if (report.findings.length === 0) {
    out.push(c.green('No findings.') + c.dim(` ${report.rulesEvaluated.length} rule(s) evaluated.`), '');
  }

  if (report.diagnostics.length > 0) {
    out.push(c.bold(`DIAGNOSTICS (${report.diagnostics.length})`));
    for (const d of report.diagnostics) out.push(...renderDiagnostic(d, c));
    out.push('');
  }

  const failing = countAtOrAbove(report.counts, options.failOn) > 0 || ruleErrors(report) > 0;
  const verdict = verdictLine(report, options.failOn);
  out.push(failing ? c.bold(c.red(verdict)) : c.bold(c.green(verdict)));
  return `${out.join('\n')}\n`;
}

function header(report: Report, c: Colors): string[] {
  const when = report.collectedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  const window = report.window ? `window ${report.window.durationSeconds} s (${report.window.samples} samples)` : 'single snapshot (no --window)';
  return [
    `${c.bold('pg-advisor check')} · database ${c.bold(report.target.database)} · PostgreSQL ${report.target.serverVersion} · as ${report.target.user}`,
    c.dim(`collected ${when} · ${window} · ${report.rulesEvaluated.length} rule(s) evaluated`),
  ];
}

function renderFinding(finding: Finding, c: Colors, options: TextRenderOptions): string[] {
  const headline = keyNumber(finding);
  const lines = [
    `  ${paint(c, finding.severity, finding.rule.padEnd(20))} ${c.bold(formatObject(finding.object))}${headline ? `  ${headline}` : ''}`,
    `      ${finding.summary}`,
  ];
  const evidence = Object.entries(finding.evidence)
    .map(([key, value]) => [labelOf(key), formatEvidenceValue(key, value)] as const)
    .filter((entry): entry is readonly [string, string] => entry[1] !== null)
    .slice(0, options.maxEvidence ?? 8)
    .map(([label, value]) => `${label} ${value}`);
  if (evidence.length > 0) {
    for (const line of wrap(evidence, ' · ', (options.width ?? 100) - 16)) lines.push(`      ${c.dim('evidence')}  ${line}`);
  }
  lines.push(`      ${c.dim('fix')}       ${finding.recommendation.text}`);
  if (finding.recommendation.sql) {
    for (const sqlLine of finding.recommendation.sql.split('\n')) lines.push(`                ${c.cyan(sqlLine)}`);
  }
  return lines;
}

/**
 * The number that matters: the rule's impact number (what findings are ranked by), unless it is a
 * ratio too small to read (e.g. xid age / 2^31 early on) — then the first numeric evidence.
 */
function keyNumber(finding: Finding): string | null {
  const impact = Object.entries(finding.impact)[0];
  const readable = impact && !(/(Ratio|Share|Fraction)$/.test(impact[0]) && Math.abs(impact[1]) < 0.001);
  const candidate = readable ? impact : Object.entries(finding.evidence).find(([, v]) => typeof v === 'number');
  if (!candidate) return null;
  const [key, value] = candidate;
  const formatted = formatEvidenceValue(key, value);
  return formatted === null ? null : `${labelOf(key)} ${formatted}`;
}

function renderDiagnostic(d: ReportDiagnostic, c: Colors): string[] {
  // Messages name their subject ("source bloat unavailable: …", "rule vacuum-lag skipped: …").
  const subject = d.rule !== undefined ? `rule ${d.rule}` : `source ${d.source ?? '?'}`;
  const message = d.message.startsWith(subject) ? d.message : `${subject}: ${d.message}`;
  const status = d.status === 'error' ? c.red(d.status.padEnd(12)) : d.status === 'info' ? c.dim(d.status.padEnd(12)) : c.yellow(d.status.padEnd(12));
  const lines = [`  ${status}${message}`];
  if (d.hint) lines.push(`  ${' '.repeat(12)}${c.dim('hint:')} ${d.hint}`);
  return lines;
}

function paint(c: Colors, severity: Severity, text: string): string {
  if (severity === 'critical') return c.bold(c.red(text));
  if (severity === 'warning') return c.bold(c.yellow(text));
  return c.bold(c.cyan(text));
}

function wrap(items: readonly string[], separator: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const item of items) {
    if (current && current.length + separator.length + item.length > width) {
      lines.push(current);
      current = item;
    } else {
      current = current ? `${current}${separator}${item}` : item;
    }
  }
  if (current) lines.push(current);
  return lines;
}
