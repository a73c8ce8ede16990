/**
 * JUnit XML for CI test-report views (GitLab `artifacts:reports:junit`, Jenkins, Azure DevOps): one
 * test case per selected rule. A rule with findings at or above `--fail-on` (not baselined) fails; its
 * other findings go to `<system-out>`; a rule that could not run is skipped, one that crashed errors.
 */
import { SEVERITIES, severityRank, type AnyRule, type Finding, type Severity } from '../engine/types.js';
import type { FailOn } from '../config/schema.js';
import { baselineStateOf, isBaselined } from './baseline.js';
import { formatObject } from './format-values.js';
import type { Report, ReportDiagnostic } from './types.js';

type CaseOutcome =
  | { readonly kind: 'passed' }
  | { readonly kind: 'failure'; readonly message: string; readonly type: Severity; readonly body: string }
  | { readonly kind: 'skipped'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string; readonly body: string };

interface TestCase {
  readonly rule: AnyRule;
  readonly outcome: CaseOutcome;
  /** Findings below --fail-on and baselined ones: reported, not failing. */
  readonly out: string;
}

/** The JUnit report of a `check` run, with the `--fail-on` level deciding failures. Pure. */
export function renderJunit(report: Report, rules: readonly AnyRule[], failOn: FailOn): string {
  const cases = rules.map((rule) => testCase(report, rule, failOn));
  const count = (kind: CaseOutcome['kind']): number => cases.filter((c) => c.outcome.kind === kind).length;
  const totals = `tests="${cases.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" time="0"`;
  const suiteName = `pg-advisor check (database ${report.target.database})`;
  const properties: readonly (readonly [string, string])[] = [
    ['database', report.target.database],
    ['serverVersion', report.target.serverVersion],
    ['user', report.target.user],
    ['failOn', failOn],
    ['generator', `${report.generator.name} ${report.generator.version}`],
  ];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="pg-advisor" ${totals}>`,
    `  <testsuite name="${attr(suiteName)}" ${totals} timestamp="${attr(report.collectedAt)}">`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property name="${attr(name)}" value="${attr(value)}"/>`),
    '    </properties>',
  ];
  for (const c of cases) {
    lines.push(`    <testcase name="${attr(c.rule.id)}" classname="${attr(`pg-advisor.${c.rule.category}`)}" time="0">`);
    const o = c.outcome;
    if (o.kind === 'failure') lines.push(`      <failure message="${attr(o.message)}" type="${o.type}">${text(o.body)}</failure>`);
    if (o.kind === 'error') lines.push(`      <error message="${attr(o.message)}" type="RuleError">${text(o.body)}</error>`);
    if (o.kind === 'skipped') lines.push(`      <skipped message="${attr(o.message)}"/>`);
    if (c.out) lines.push(`      <system-out>${text(c.out)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}

function testCase(report: Report, rule: AnyRule, failOn: FailOn): TestCase {
  const findings = report.findings.filter((f) => f.rule === rule.id);
  const gating = findings.filter((f) => !isBaselined(f) && failOn !== 'never' && severityRank(f.severity) >= severityRank(failOn));
  const others = findings.filter((f) => !gating.includes(f));
  const out = others.map(findingLine).join('\n');
  const diagnostic = report.diagnostics.find((d) => d.rule === rule.id && (d.status === 'error' || d.status === 'skipped'));

  if (diagnostic?.status === 'error') return { rule, outcome: { kind: 'error', message: diagnostic.message, body: hintOf(diagnostic) }, out };
  if (gating.length > 0) {
    const worst =
      SEVERITIES.slice()
        .reverse()
        .find((s) => gating.some((f) => f.severity === s)) ?? 'info';
    const message = `${gating.length} finding${gating.length === 1 ? '' : 's'} at or above --fail-on ${failOn} (worst: ${worst})`;
    return { rule, outcome: { kind: 'failure', message, type: worst, body: gating.map(findingLine).join('\n') }, out };
  }
  if (diagnostic?.status === 'skipped') return { rule, outcome: { kind: 'skipped', message: skipMessage(diagnostic) }, out };
  if (!report.rulesEvaluated.includes(rule.id) && findings.length === 0) {
    return { rule, outcome: { kind: 'skipped', message: `rule ${rule.id} was not evaluated` }, out };
  }
  return { rule, outcome: { kind: 'passed' }, out };
}

/** `[warning] application 'billing' — 1 session … Fix: … (fingerprint …)`, one line. */
function findingLine(f: Finding): string {
  const state = baselineStateOf(f);
  const tag = state === 'baselined' ? ' [baselined]' : state === 'escalated' ? ' [escalated]' : '';
  const line = `[${f.severity}]${tag} ${formatObject(f.object)} — ${f.summary} Fix: ${f.recommendation.text} (fingerprint ${f.fingerprint})`;
  return line.replace(/\r\n?|\n/g, ' ');
}

function skipMessage(d: ReportDiagnostic): string {
  return d.hint ? `${d.message} (hint: ${d.hint})` : d.message;
}

function hintOf(d: ReportDiagnostic): string {
  return d.hint ?? '';
}

/**
 * XML 1.0 text: the five special characters escaped (quotes and newlines too, for attributes), and the
 * characters XML 1.0 cannot carry at all (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF)
 * replaced with U+FFFD.
 */
export function escapeXml(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attr(value: string): string {
  return escapeXml(value).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function text(value: string): string {
  return escapeXml(value).replace(/\r/g, '&#13;');
}
