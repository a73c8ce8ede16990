/**
 * The Markdown report: for a pull-request comment or `$GITHUB_STEP_SUMMARY`. Verdict first, a table per
 * severity, a collapsible block per finding, diagnostics with hints. Every text from the database
 * (identifiers, summaries, evidence) is escaped; the whole report stays under GitHub's comment limit.
 */
import { SEVERITIES, type Finding, type Severity } from '../engine/types.js';
import type { FailOn } from '../config/schema.js';
import { baselineStateOf, baselineSummaryOf, gateCounts } from './baseline.js';
import { formatEvidenceValue, formatObject, labelOf } from './format-values.js';
import type { Report, ReportDiagnostic } from './types.js';
import { countAtOrAbove, crashedRules, ruleErrors } from './verdict.js';

/** GitHub rejects issue and pull-request comments longer than this (characters). */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface MarkdownRenderOptions {
  readonly failOn: FailOn;
  /** Upper bound on the output length (characters); default GitHub's comment limit. */
  readonly maxChars?: number;
}

const MAX_DIAGNOSTICS = 30;
const MAX_EVIDENCE = 12;
const CAP = { cell: 300, text: 2000, value: 300, sql: 4000, diagnostic: 400 } as const;
const QUERY_TEXT_KEY = /quer(y|ies)|sql|statement/i;
const HEADINGS: Record<Severity, string> = { critical: '🔴 Critical', warning: '🟠 Warning', info: '🔵 Info' };

/**
 * Renders the report as GitHub-flavoured Markdown, never longer than `maxChars`: when everything does
 * not fit, finding details are dropped first (from the least severe), then table rows, each replaced by
 * an "and N more" line pointing to the JSON report. Pure.
 */
export function renderMarkdown(report: Report, options: MarkdownRenderOptions): string {
  const limit = options.maxChars ?? GITHUB_COMMENT_LIMIT;
  const findings = SEVERITIES.slice()
    .reverse()
    .flatMap((s) => report.findings.filter((f) => f.severity === s));
  const compose = (rows: number, details: number): string =>
    [
      ...head(report, options.failOn),
      ...tables(findings, rows, baselineSummaryOf(report) !== null),
      ...diagnostics(report.diagnostics),
      ...detailsSection(findings, details),
      footer(report),
    ].join('\n');

  const all = findings.length;
  let text = compose(all, all);
  if (text.length <= limit) return text;
  // Most details that still fit with every row, else most rows without details (binary search: lengths grow monotonically).
  if (compose(all, 0).length <= limit) {
    text = compose(
      all,
      largest(all, (k) => compose(all, k).length <= limit),
    );
  } else {
    text = compose(
      largest(all, (r) => compose(r, 0).length <= limit),
      0,
    );
  }
  // Only pathological head or diagnostics texts get here; cut rather than be rejected.
  return text.length <= limit ? text : `${text.slice(0, Math.max(0, limit - 80))}\n\n… (cut to fit ${limit} characters; see the JSON report)\n`;
}

function largest(max: number, fits: (n: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function head(report: Report, failOn: FailOn): string[] {
  const baseline = baselineSummaryOf(report);
  const gated = gateCounts(report);
  const failing = countAtOrAbove(gated, failOn);
  const crashed = crashedRules(report);
  const stopped = ruleErrors(report) - crashed;
  const status =
    crashed > 0
      ? `⚠️ error: ${crashed} rule${crashed === 1 ? '' : 's'} crashed`
      : stopped > 0
        ? `⚠️ error: ${stopped} rule${stopped === 1 ? '' : 's'} could not run (a source failed)`
        : failOn === 'never'
          ? 'ℹ️ not gated (`--fail-on never`)'
          : failing > 0
            ? `❌ fails \`--fail-on ${failOn}\``
            : `✅ passes \`--fail-on ${failOn}\``;
  const found = SEVERITIES.slice()
    .reverse()
    .filter((s) => report.counts[s] > 0)
    .map((s) => `${report.counts[s]} ${s}`);
  const gate = failOn === 'never' ? '' : ` — **${failing}** ${baseline ? 'new ' : ''}finding${failing === 1 ? '' : 's'} at or above \`${failOn}\``;
  const window = report.window ? `window ${report.window.durationSeconds} s` : 'single snapshot';
  const lines = [
    `## pg-advisor check: ${status}`,
    '',
    `${found.length > 0 ? found.join(', ') : 'No findings'}${gate}.`,
    '',
    `Database ${code(report.target.database)} · PostgreSQL ${escapeInline(report.target.serverVersion)} ` +
      `· as ${code(report.target.user)} · ${escapeInline(report.collectedAt)} · ${window} · ` +
      `${report.rulesEvaluated.length} rule${report.rulesEvaluated.length === 1 ? '' : 's'} evaluated`,
  ];
  if (baseline) {
    lines.push(
      '',
      `Baseline ${code(baseline.file)} (${baseline.entries} ` +
        `fingerprint${baseline.entries === 1 ? '' : 's'}${baseline.createdAt ? `, ${escapeInline(baseline.createdAt)}` : ''}): ` +
        `${baseline.new} new, ${baseline.escalated} escalated, ${baseline.baselined} baselined (not gated).`,
    );
  }
  lines.push('');
  return lines;
}

function tables(findings: readonly Finding[], rows: number, withStatus: boolean): string[] {
  const out: string[] = [];
  const shown = findings.slice(0, rows);
  for (const severity of SEVERITIES.slice().reverse()) {
    const group = shown.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    const total = findings.filter((f) => f.severity === severity).length;
    out.push(`### ${HEADINGS[severity]} (${total})`, '');
    out.push(withStatus ? '| Rule | Object | Key number | Summary | Baseline |' : '| Rule | Object | Key number | Summary |');
    out.push(withStatus ? '| --- | --- | --- | --- | --- |' : '| --- | --- | --- | --- |');
    for (const f of group) {
      const cells = [code(f.rule), escapeInline(formatObject(f.object)), escapeInline(keyNumberOf(f) ?? '—'), escapeInline(cap(f.summary, CAP.cell))];
      if (withStatus) cells.push(baselineCell(f));
      out.push(`| ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  if (rows < findings.length) out.push(moreLine(findings.length - rows, 'findings'), '');
  return out;
}

function baselineCell(f: Finding): string {
  const state = baselineStateOf(f);
  if (state === 'escalated') return `**escalated** from ${(f as { baselineSeverity?: string }).baselineSeverity ?? '?'}`;
  return state === 'new' ? '**new**' : 'baselined';
}

function detailsSection(findings: readonly Finding[], count: number): string[] {
  if (findings.length === 0) return [];
  const out = ['### Details', ''];
  for (const f of findings.slice(0, count)) out.push(...details(f));
  if (count < findings.length) out.push(moreLine(findings.length - count, 'finding details'), '');
  return out;
}

function details(f: Finding): string[] {
  const state = baselineStateOf(f);
  const tag = state === null ? '' : ` · ${state}`;
  const out = [
    '<details>',
    `<summary><b>${escapeHtml(f.severity)}</b> · <code>${escapeHtml(f.rule)}</code> · ${escapeHtml(formatObject(f.object))}${escapeHtml(tag)}</summary>`,
    '',
    escapeParagraph(cap(f.summary, CAP.text)),
    '',
  ];
  const evidence: string[] = [];
  const queries: [string, string][] = [];
  for (const [key, value] of Object.entries(f.evidence)) {
    if (typeof value === 'string' && QUERY_TEXT_KEY.test(key) && !/ids?$/i.test(key)) {
      queries.push([labelOf(key), value]);
      continue;
    }
    const formatted = formatEvidenceValue(key, value) ?? (value !== null && typeof value === 'object' ? JSON.stringify(value) : null);
    if (formatted !== null && evidence.length < MAX_EVIDENCE) evidence.push(`- ${escapeInline(labelOf(key))}: ${escapeInline(cap(formatted, CAP.value))}`);
  }
  if (evidence.length > 0) out.push('**Evidence**', '', ...evidence, '');
  for (const [label, text] of queries) out.push(`**${escapeInline(label)}**`, '', ...sqlFence(cap(text, CAP.sql)), '');
  out.push(`**Fix:** ${escapeInline(cap(f.recommendation.text, CAP.text))}`, '');
  if (f.recommendation.sql) out.push(...sqlFence(cap(f.recommendation.sql, CAP.sql)), '');
  out.push(`<sub>fingerprint <code>${escapeHtml(f.fingerprint)}</code></sub>`, '', '</details>', '');
  return out;
}

function diagnostics(list: readonly ReportDiagnostic[]): string[] {
  if (list.length === 0) return [];
  const out = [`### Diagnostics (${list.length})`, ''];
  for (const d of list.slice(0, MAX_DIAGNOSTICS)) {
    const hint = d.hint ? ` — hint: ${escapeInline(cap(d.hint, CAP.diagnostic))}` : '';
    out.push(`- **${escapeInline(d.status)}** ${escapeInline(cap(d.message, CAP.diagnostic))}${hint}`);
  }
  if (list.length > MAX_DIAGNOSTICS) out.push(`- ${moreLine(list.length - MAX_DIAGNOSTICS, 'diagnostics')}`);
  out.push('');
  return out;
}

function footer(report: Report): string {
  return (
    `<sub>${escapeHtml(report.generator.name)} ${escapeHtml(report.generator.version)} · the JSON ` +
    `report (<code>--format json</code>) has every number</sub>\n`
  );
}

function moreLine(n: number, what: string): string {
  return `_… and ${n} more ${what} not shown here (GitHub's comment size limit); the JSON report (\`--format json\`) has all._`;
}

/**
 * The number that matters for a finding: its impact number (what findings are ranked by), unless it is
 * a ratio too small to read — then the first numeric evidence. Null when there is none.
 */
export function keyNumberOf(finding: Finding): string | null {
  const impact = Object.entries(finding.impact)[0];
  const readable = impact && !(/(Ratio|Share|Fraction)$/.test(impact[0]) && Math.abs(impact[1]) < 0.001);
  const candidate = readable ? impact : Object.entries(finding.evidence).find(([, v]) => typeof v === 'number');
  if (!candidate) return null;
  const [key, value] = candidate;
  const formatted = formatEvidenceValue(key, value);
  return formatted === null ? null : `${labelOf(key)} ${formatted}`;
}

/**
 * Escapes text for inline Markdown (table cells, list items, after a label): HTML-significant characters
 * as entities, Markdown punctuation with backslashes (GitHub tables honour `\|` even inside code), and
 * newlines folded to spaces.
 */
export function escapeInline(text: string): string {
  return text
    .replace(/\r\n?|\n/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~#]/g, (c) => `\\${c}`);
}

/** `escapeInline` for text that starts a line: a leading list, quote or heading marker is neutralised too. */
export function escapeParagraph(text: string): string {
  return escapeInline(text)
    .replace(/^(\s*)([-+=])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/** Escapes text for HTML context (`<summary>`, `<code>`). */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\r\n?|\n/g, ' ');
}

/** An inline code span that survives tables: `<code>` with HTML escaping, `|` as an entity. */
function code(text: string): string {
  return `<code>${escapeHtml(text).replace(/\|/g, '&#124;')}</code>`;
}

/** A ```sql fence longer than any backtick run inside the text, so SQL can never close it early. */
export function sqlFence(sql: string): string[] {
  const longest = Math.max(0, ...[...sql.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}sql`, sql.replace(/\r\n?/g, '\n'), fence];
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
