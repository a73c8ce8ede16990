/**
 * The Markdown report rendered sanely: no Markdown parser ships in node_modules, so the checks are
 * structural — every table row has exactly its columns (no unescaped pipe from an identifier), the only
 * raw HTML is our own tags, <details> and code fences are balanced, SQL cannot break out of its fence,
 * and the output never exceeds GitHub's comment limit.
 */
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/engine/types.js';
import {
  applyBaseline,
  buildBaseline,
  escapeInline,
  escapeParagraph,
  GITHUB_COMMENT_LIMIT,
  renderMarkdown,
  type Report,
  type ReportDiagnostic,
} from '../../src/report/index.js';
import { makeFinding, makeReport } from '../support/report-fixtures.js';

/** The report every case renders: a 10-second window over three rules. */
function reportOf(findings: readonly Finding[], diagnostics: readonly ReportDiagnostic[] = []): Report {
  return makeReport(findings, {
    target: { database: 'shop|db' },
    window: { durationSeconds: 10, samples: 11 },
    rulesEvaluated: ['table-bloat', 'xid-wraparound', 'idle-in-transaction'],
    diagnostics,
  });
}

const NASTY = 'we|rd `tick` <script>alert(1)</script> *bold* _u_ [x](y) & #h';
const FINDINGS: Finding[] = [
  makeFinding({
    rule: 'xid-wraparound',
    severity: 'critical',
    object: { type: 'database', name: 'shop' },
    fingerprint: 'fp-xid',
    summary: 'XID age is 1.9 billion.',
    evidence: { xidAge: 1_900_000_000 },
    impact: { xidAgeRatio: 0.88 },
    recommendation: { text: 'Vacuum it.', sql: 'VACUUM (FREEZE, VERBOSE);' },
  }),
  makeFinding({
    object: { type: 'table', schema: 'Sales', name: NASTY },
    summary: `Table ${NASTY} wastes space.\n- not a list`,
    recommendation: { text: 'Repack.', sql: 'select 1 as "```" -- ``` ````' },
    evidence: { wasteBytes: 1024, query: "select * from t where a = $1 and b = '|'" },
  }),
  makeFinding({
    rule: 'idle-in-transaction',
    severity: 'info',
    object: { type: 'application', name: "o'neil" },
    fingerprint: 'fp-app',
    impact: { idleSeconds: 90 },
  }),
];
const DIAGNOSTICS: ReportDiagnostic[] = [
  { rule: 'vacuum-lag', status: 'skipped', message: 'rule vacuum-lag skipped: source vacuum unavailable', hint: 'GRANT pg_monitor TO "a|b";' },
  { source: 'bloat', status: 'info', message: 'source bloat: estimates only', hint: null },
];

/** `|` not escaped by a backslash. */
function unescapedPipes(line: string): number {
  return (line.replace(/\\\\/g, '').match(/(?<!\\)\|/g) ?? []).length;
}

function expectSane(md: string): void {
  const lines = md.split('\n');
  // Tables: every row has as many cell separators as its header.
  for (let i = 0; i < lines.length; i++) {
    if (!/^\| Rule \|/.test(lines[i]!)) continue;
    const columns = unescapedPipes(lines[i]!);
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith('|'); j++) {
      expect(unescapedPipes(lines[j]!), `row ${lines[j]}`).toBe(columns);
    }
  }
  // Raw HTML: only our own tags (outside code fences).
  let fence: string | null = null;
  let opened = 0;
  let closed = 0;
  for (const line of lines) {
    const marker = /^(`{3,})/.exec(line)?.[1];
    if (fence === null && marker) {
      fence = marker;
      continue;
    }
    if (fence !== null) {
      if (line === fence) fence = null;
      continue;
    }
    for (const tag of line.matchAll(/<\/?([a-zA-Z]+)/g)) expect(['details', 'summary', 'b', 'code', 'sub']).toContain(tag[1]);
    opened += (line.match(/<details>/g) ?? []).length;
    closed += (line.match(/<\/details>/g) ?? []).length;
  }
  expect(fence, 'an unclosed code fence').toBeNull();
  expect(opened).toBe(closed);
}

describe('renderMarkdown', () => {
  const md = renderMarkdown(reportOf(FINDINGS, DIAGNOSTICS), { failOn: 'warning' });

  it('renders sanely: table columns intact, only our HTML, balanced details and fences', () => {
    expectSane(md);
  });

  it('starts with the verdict and the target', () => {
    const [title, , counts, , target] = md.split('\n');
    expect(title).toBe('## pg-advisor check: ❌ fails `--fail-on warning`');
    expect(counts).toBe('1 critical, 1 warning, 1 info — **2** findings at or above `warning`.');
    expect(target).toContain('Database <code>shop&#124;db</code> · PostgreSQL 17.10');
    expect(target).toContain('window 10 s');
  });

  it('passes when nothing reaches --fail-on', () => {
    const critical = renderMarkdown(reportOf(FINDINGS), { failOn: 'critical' }).split('\n');
    expect(critical[2]).toBe('1 critical, 1 warning, 1 info — **1** finding at or above `critical`.');
    expect(renderMarkdown(reportOf(FINDINGS.slice(1)), { failOn: 'critical' }).split('\n')[0]).toBe('## pg-advisor check: ✅ passes `--fail-on critical`');
    const clean = renderMarkdown(reportOf([]), { failOn: 'warning' });
    expect(renderMarkdown(reportOf([FINDINGS[2]!]), { failOn: 'warning' }).split('\n')[0]).toBe('## pg-advisor check: ✅ passes `--fail-on warning`');
    expect(clean).toContain('No findings — **0** findings at or above `warning`.');
    expect(clean).not.toContain('### Details');
    expectSane(clean);
  });

  it('has a table per severity: rule, object, key number, summary', () => {
    expect(md).toContain('### 🔴 Critical (1)');
    expect(md).toContain('| <code>xid-wraparound</code> | database shop | xid age ratio 88 % | XID age is 1.9 billion. |');
    expect(md).toContain("| <code>idle-in-transaction</code> | application 'o''neil' | idle 90 s |");
    expect(md.indexOf('Critical')).toBeLessThan(md.indexOf('Warning'));
    expect(md.indexOf('Warning (1)')).toBeLessThan(md.indexOf('Info (1)'));
  });

  it('escapes pipes, backticks, HTML and emphasis in identifiers and texts', () => {
    const row = md.split('\n').find((l) => l.startsWith('| <code>table-bloat</code>'))!;
    expect(row).toContain('we\\|rd \\`tick\\` &lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\* \\_u\\_ \\[x\\](y) &amp; \\#h');
    expect(md).not.toContain('<script>');
    // Folded to one line, so "- not a list" cannot start a list item.
    expect(md).toContain('wastes space. - not a list');
  });

  it('puts each finding in a <details> block with evidence and the recommendation in an sql fence', () => {
    expect(md.match(/<details>/g)).toHaveLength(3);
    expect(md).toContain('<summary><b>critical</b> · <code>xid-wraparound</code> · database shop</summary>');
    expect(md).toContain('- xid age: 1,900,000,000');
    expect(md).toContain('**Fix:** Vacuum it.');
    expect(md).toContain('```sql\nVACUUM (FREEZE, VERBOSE);\n```');
    // SQL with backtick runs gets a longer fence, so it cannot close early; query evidence is SQL too.
    expect(md).toContain('`````sql\nselect 1 as "```" -- ``` ````\n`````');
    expect(md).toContain("```sql\nselect * from t where a = $1 and b = '|'\n```");
    expect(md).toContain('<sub>fingerprint <code>fp-xid</code></sub>');
  });

  it('lists diagnostics with their hints', () => {
    expect(md).toContain('### Diagnostics (2)');
    expect(md).toContain('- **skipped** rule vacuum-lag skipped: source vacuum unavailable — hint: GRANT pg\\_monitor TO "a\\|b";');
    expect(md).toContain('- **info** source bloat: estimates only\n');
  });

  it('shows the baseline: new, escalated and baselined findings, and gates only on the new ones', () => {
    const baseline = buildBaseline(reportOf([FINDINGS[1]!, { ...FINDINGS[0]!, severity: 'warning' }]), '2026-01-01');
    const applied = renderMarkdown(applyBaseline(reportOf(FINDINGS), baseline, 'prod|baseline.json'), { failOn: 'warning' });
    expectSane(applied);
    expect(applied.split('\n')[2]).toBe('1 critical, 1 warning, 1 info — **1** new finding at or above `warning`.');
    expect(applied).toContain('Baseline <code>prod&#124;baseline.json</code> (2 fingerprints, 2026-01-01): 1 new, 1 escalated, 1 baselined (not gated).');
    expect(applied).toContain('| XID age is 1.9 billion. | **escalated** from warning |');
    expect(applied).toMatch(/wastes space\. - not a list \| baselined \|/);
    const allKnown = applyBaseline(reportOf([FINDINGS[1]!]), baseline, 'b.json');
    expect(renderMarkdown(allKnown, { failOn: 'warning' }).split('\n')[0]).toBe('## pg-advisor check: ✅ passes `--fail-on warning`');
  });

  it('reports crashed rules as an error and --fail-on never as not gated', () => {
    const crashed = reportOf(FINDINGS, [{ rule: 'n-plus-one', status: 'error', message: 'rule n-plus-one crashed: x', hint: 'report it' }]);
    expect(renderMarkdown(crashed, { failOn: 'warning' }).split('\n')[0]).toBe('## pg-advisor check: ⚠️ error: 1 rule crashed');
    expect(renderMarkdown(reportOf(FINDINGS), { failOn: 'never' }).split('\n')[0]).toBe('## pg-advisor check: ℹ️ not gated (`--fail-on never`)');
  });
});

describe('renderMarkdown truncation', () => {
  const many = Array.from({ length: 3000 }, (_, i) =>
    makeFinding({
      severity: (['critical', 'warning', 'info'] as const)[i % 3],
      fingerprint: `fp-${i}`,
      object: { type: 'table', schema: 'public', name: `table_${i}|x` },
      summary: `Table ${i} wastes a lot of space. `.repeat(5),
      recommendation: { text: 'Repack it. '.repeat(20), sql: `VACUUM (VERBOSE) public.table_${i};\n`.repeat(10) },
    }),
  );

  it(`stays within GitHub's ${GITHUB_COMMENT_LIMIT}-character comment limit, with "and N more" for what is left out`, () => {
    const md = renderMarkdown(reportOf(many, DIAGNOSTICS), { failOn: 'warning' });
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expectSane(md);
    const rows = md.split('\n').filter((l) => l.startsWith('| <code>table-bloat')).length;
    const more = /_… and (\d+) more findings not shown here/.exec(md);
    expect(more, 'an "and N more findings" line').not.toBeNull();
    expect(rows + Number(more![1])).toBe(3000);
    expect(rows).toBeGreaterThan(100);
    // Verdict, counts and diagnostics survive truncation; critical rows come first.
    expect(md).toContain('1000 critical, 1000 warning, 1000 info');
    expect(md).toContain('### Diagnostics (2)');
    expect(md.indexOf('table\\_0\\|x')).toBeGreaterThan(0);
  });

  it('drops details before table rows', () => {
    const some = many.slice(0, 120);
    const full = renderMarkdown(reportOf(some), { failOn: 'warning' });
    const limit = Math.floor(full.length * 0.6);
    const md = renderMarkdown(reportOf(some), { failOn: 'warning', maxChars: limit });
    expect(md.length).toBeLessThanOrEqual(limit);
    expectSane(md);
    expect(md.split('\n').filter((l) => l.startsWith('| <code>')).length).toBe(120);
    const details = (md.match(/<details>/g) ?? []).length;
    expect(details).toBeGreaterThan(0);
    expect(md).toContain(`_… and ${120 - details} more finding details not shown here`);
  });

  it('caps a single huge text instead of exceeding the limit', () => {
    const huge = makeFinding({ summary: 'x'.repeat(200_000), recommendation: { text: 'y'.repeat(100_000), sql: 'z'.repeat(100_000) } });
    const md = renderMarkdown(reportOf([huge]), { failOn: 'warning' });
    expect(md.length).toBeLessThan(20_000);
    expect(md).toContain('…');
  });
});

describe('escapeInline', () => {
  it('escapes inline punctuation but leaves numbers alone', () => {
    expect(escapeInline('1.0 KiB')).toBe('1.0 KiB');
    expect(escapeInline('a|b')).toBe('a\\|b');
  });

  it('escapeParagraph neutralises leading list and heading markers', () => {
    expect(escapeParagraph('- item')).toBe('\\- item');
    expect(escapeParagraph('1. item')).toBe('1\\. item');
    expect(escapeParagraph('# head')).toBe('\\# head');
  });
});
