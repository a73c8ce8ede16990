import { describe, expect, it } from 'vitest';
import type { EvaluateResult } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import { buildReport, countAtOrAbove, renderJson, renderReport, renderText, verdictLine } from '../../src/report/index.js';
import nPlusOne from '../../rules/n-plus-one/index.js';
import { formatEvidenceValue, formatObject, labelOf } from '../../src/report/format-values.js';
import { checkExitCode, isStrict } from '../../src/cli/check.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { makeSnapshot } from '../support/builders.js';
import { fingerprintOf } from '../../src/engine/fingerprint.js';

function finding(overrides: Partial<Finding>): Finding {
  return {
    rule: 'table-bloat',
    severity: 'warning',
    title: 'Table bloat',
    summary: 'wastes space',
    object: { type: 'table', schema: 'public', name: 'orders' },
    evidence: {},
    recommendation: { text: 'repack it' },
    impact: {},
    fingerprint: `fp-${Math.random()}`,
    ...overrides,
  };
}

const FINDINGS: Finding[] = [
  finding({
    severity: 'critical',
    rule: 'xid-wraparound',
    object: { type: 'database', name: 'Shop DB' },
    summary: 'XID age is close to the stop limit.',
    evidence: { xidAge: 1_900_000_000, freezeRatio: 0.95 },
    recommendation: { text: 'Vacuum it.', sql: 'VACUUM (FREEZE, VERBOSE);' },
  }),
  finding({
    object: { type: 'table', schema: 'Sales', name: 'Weird "Table" ü' },
    evidence: { method: 'pgstattuple_approx', sizeBytes: 100 * 1024 * 1024, ratio: 0.72, lastVacuumAgeSeconds: 7200, deadTuples: null },
    impact: { wasteBytes: 72 * 1024 * 1024 },
  }),
  finding({
    rule: 'idle-in-transaction',
    severity: 'info',
    object: { type: 'application', name: "o'neil app" },
    evidence: { sessions: 3, query: "select * from t where secret = 'hunter2'" },
  }),
];

const EVALUATION: EvaluateResult = {
  findings: FINDINGS,
  diagnostics: [
    { rule: 'n-plus-one', status: 'skipped', message: 'rule n-plus-one skipped: source statements unavailable', hint: 'CREATE EXTENSION pg_stat_statements;' },
  ],
  evaluated: ['xid-wraparound', 'table-bloat', 'idle-in-transaction'],
};

const snapshot = makeSnapshot({
  meta: {
    sources: {
      statements: { status: 'unavailable', reason: 'pg_stat_statements is not installed in database app', hint: 'CREATE EXTENSION pg_stat_statements;' },
    },
  },
});
const redact = (text: string): string => text.replace(/'[^']*'/g, '$1');
const report = buildReport({ snapshot, window: null, evaluation: EVALUATION, redact, version: '9.9.9' });

describe('buildReport (JSON contract version 1)', () => {
  it('has the contract fields and counts per severity', () => {
    const json = JSON.parse(renderJson(report)) as Record<string, unknown>;
    expect(json).toMatchObject({
      version: 1,
      target: { database: 'app', serverVersion: '17.10' },
      collectedAt: '2026-01-01T12:00:00.000Z',
      counts: { critical: 1, warning: 1, info: 1 },
      window: null,
      rulesEvaluated: ['xid-wraparound', 'table-bloat', 'idle-in-transaction'],
    });
    expect((json.findings as unknown[]).length).toBe(3);
  });

  it('lists unavailable sources first, then rule diagnostics, each with a hint (null when none)', () => {
    expect(report.diagnostics).toEqual([
      {
        source: 'statements',
        status: 'unavailable',
        message: 'source statements unavailable: pg_stat_statements is not installed in database app',
        hint: 'CREATE EXTENSION pg_stat_statements;',
      },
      {
        rule: 'n-plus-one',
        status: 'skipped',
        message: 'rule n-plus-one skipped: source statements unavailable',
        hint: 'CREATE EXTENSION pg_stat_statements;',
      },
    ]);
  });

  it('redacts query texts in evidence, and only those', () => {
    const idle = report.findings.find((f) => f.rule === 'idle-in-transaction')!;
    expect(idle.evidence.query).toBe('select * from t where secret = $1');
    expect(idle.evidence.sessions).toBe(3);
    expect(JSON.stringify(report)).not.toContain('hunter2');
  });

  it('names the missing pg_monitor grant when the role lacks it', () => {
    const weak = makeSnapshot({
      meta: { currentUser: 'App User', capabilities: { ...makeSnapshot().meta.capabilities, pgMonitor: false, readAllStats: false } },
    });
    const r = buildReport({ snapshot: weak, window: null, evaluation: { findings: [], diagnostics: [], evaluated: [] }, redact, version: '1' });
    expect(r.diagnostics).toContainEqual(expect.objectContaining({ status: 'degraded', hint: 'GRANT pg_monitor TO "App User";' }));
  });
});

describe('renderText', () => {
  const text = renderText(report, { color: false, failOn: 'warning' });

  it('groups findings by severity, critical first, with quoted objects and the key number', () => {
    const critical = text.indexOf('CRITICAL (1)');
    const warning = text.indexOf('WARNING (1)');
    const info = text.indexOf('INFO (1)');
    expect(critical).toBeGreaterThan(0);
    expect(warning).toBeGreaterThan(critical);
    expect(info).toBeGreaterThan(warning);
    expect(text).toContain('database "Shop DB"  xid age 1,900,000,000');
    expect(text).toContain('table "Sales"."Weird ""Table"" ü"  waste 72.0 MiB');
    expect(text).toContain("application 'o''neil app'");
    expect(text).toContain('VACUUM (FREEZE, VERBOSE);');
  });

  it('shows evidence with units and skips nulls', () => {
    expect(text).toMatch(/evidence {2}method pgstattuple_approx · size 100\.0 MiB · ratio 72 % · last vacuum age 2 h 0 min\n/);
  });

  it('lists diagnostics with hints and ends with the verdict', () => {
    expect(text).toContain('DIAGNOSTICS (2)');
    expect(text).toContain('hint: CREATE EXTENSION pg_stat_statements;');
    expect(text.trimEnd().split('\n').at(-1)).toBe('1 critical, 1 warning, 1 info — fails --fail-on warning · 1 rule skipped (see diagnostics)');
  });

  it('has no ANSI escapes without colour and some with it', () => {
    expect(text).not.toContain('\x1b[');
    expect(renderText(report, { color: true, failOn: 'warning' })).toContain('\x1b[');
  });

  it('says when nothing was found', () => {
    const empty = buildReport({ snapshot, window: null, evaluation: { findings: [], diagnostics: [], evaluated: ['a'] }, redact, version: '1' });
    const out = renderText(empty, { color: false, failOn: 'info' });
    expect(out).toContain('No findings.');
    expect(out.trimEnd().split('\n').at(-1)).toBe('no findings — passes --fail-on info');
  });
});

describe('verdict', () => {
  it('counts findings at or above --fail-on', () => {
    expect(countAtOrAbove(report.counts, 'critical')).toBe(1);
    expect(countAtOrAbove(report.counts, 'warning')).toBe(2);
    expect(countAtOrAbove(report.counts, 'info')).toBe(3);
    expect(countAtOrAbove(report.counts, 'never')).toBe(0);
    expect(verdictLine(report, 'never')).toBe('1 critical, 1 warning, 1 info — not gated (--fail-on never) · 1 rule skipped (see diagnostics)');
  });

  it('mentions crashed rules', () => {
    const crashed = { ...report, diagnostics: [...report.diagnostics, { rule: 'x', status: 'error' as const, message: 'boom', hint: null }] };
    expect(verdictLine(crashed, 'critical')).toBe(
      '1 critical, 1 warning, 1 info — fails --fail-on critical · 1 rule skipped (see diagnostics); 1 rule crashed (see diagnostics)',
    );
  });
});

describe('skipped rules and --strict', () => {
  const skipped = {
    ...report,
    counts: { critical: 0, warning: 0, info: 0 },
    findings: [],
    diagnostics: [
      {
        source: 'statements',
        status: 'unavailable' as const,
        message: 'source statements unavailable: not installed',
        hint: 'CREATE EXTENSION pg_stat_statements;',
      },
      {
        rule: 'n-plus-one',
        status: 'skipped' as const,
        message: 'rule n-plus-one skipped: source statements unavailable',
        hint: 'CREATE EXTENSION pg_stat_statements;',
      },
      { rule: 'table-bloat', status: 'skipped' as const, message: 'rule table-bloat skipped: source bloat unavailable', hint: 'CREATE EXTENSION pgstattuple;' },
    ],
  };
  const config = resolveConfig({ flags: { databaseUrl: 'postgres://a@h/db' }, env: {}, rules: [] });

  it('the verdict line counts skipped rules', () => {
    expect(verdictLine(skipped, 'warning')).toBe('no findings — passes --fail-on warning · 2 rules skipped (see diagnostics)');
    expect(renderText(skipped, { color: false, failOn: 'warning' })).toContain('· 2 rules skipped (see diagnostics)');
  });

  it('exits 0 without strict and 2 with it, naming the rules, why and the hint on stderr', () => {
    let loose = '';
    expect(checkExitCode(skipped, config, { stdout: { write: () => true }, stderr: { write: (t: string) => (loose += t) }, env: {} })).toBe(0);
    expect(loose).toBe('');
    let stderr = '';
    expect(checkExitCode(skipped, config, { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) }, env: {} }, true)).toBe(2);
    expect(stderr).toContain('2 selected rules were skipped (n-plus-one, table-bloat)');
    expect(stderr).toContain('rule table-bloat skipped: source bloat unavailable');
    expect(stderr).toContain('hint: CREATE EXTENSION pgstattuple;');
  });

  it('is strict by default with --baseline, and --no-strict turns that off', () => {
    expect(isStrict({})).toBe(false);
    expect(isStrict({ baseline: 'b.json' })).toBe(true);
    expect(isStrict({ baseline: 'b.json', strict: false })).toBe(false);
    expect(isStrict({ strict: true })).toBe(true);
  });
});

describe('value formatting', () => {
  it('formats by the unit in the key', () => {
    expect(formatEvidenceValue('wasteBytes', 1536)).toBe('1.5 KiB');
    expect(formatEvidenceValue('xactAgeSeconds', 42)).toBe('42 s');
    expect(formatEvidenceValue('bloatRatio', 0.425)).toBe('42.5 %');
    expect(formatEvidenceValue('lagRatio', 3.5)).toBe('3.5×');
    expect(formatEvidenceValue('meanExecTimeMs', 0.25)).toBe('0.25 ms');
    expect(formatEvidenceValue('calls', 1234567)).toBe('1,234,567');
    expect(formatEvidenceValue('x', null)).toBeNull();
    expect(labelOf('lastAutovacuumAgeSeconds')).toBe('last autovacuum age');
  });

  it('quotes identifiers the way SQL needs them', () => {
    expect(formatObject({ type: 'index', schema: 'public', name: 'Idx', table: 'orders', columns: ['Customer Id'] })).toBe(
      'index public."Idx" on public.orders ("Customer Id")',
    );
    expect(formatObject({ type: 'role', name: 'user' })).toBe('role "user"');
    expect(formatObject({ type: 'query', queryId: '-42' })).toBe('query -42');
  });
});

describe('a query object with a label (an N+1 loop)', () => {
  const QUERY_ID = '-7531837409562840630';
  const LABEL = 'users by id, once per row of posts';
  const loop = finding({
    rule: 'n-plus-one',
    title: `N+1 query loop: ${LABEL}`,
    object: { type: 'query', queryId: QUERY_ID, schema: 'public', name: 'users', label: LABEL },
    evidence: { parentQueryId: '42', childCalls: 20_000 },
  });
  const labelled = buildReport({ snapshot, window: null, evaluation: { findings: [loop], diagnostics: [], evaluated: ['n-plus-one'] }, redact, version: '1' });

  it('reads as what the statement does in text, Markdown, SARIF and JUnit; the query id stays in the JSON', () => {
    expect(formatObject(loop.object)).toBe(LABEL);
    for (const format of ['text', 'markdown', 'sarif', 'junit'] as const) {
      const out = renderReport(labelled, format, { rules: [nPlusOne], failOn: 'warning' });
      expect(out, format).toContain(LABEL);
      expect(out, format).not.toContain(`query ${QUERY_ID}`);
    }
    const json = JSON.parse(renderJson(labelled)) as { findings: { object: { queryId: string; label: string } }[] };
    expect(json.findings[0]?.object).toMatchObject({ queryId: QUERY_ID, label: LABEL });
  });

  it('keeps the fingerprint of an object without a label', () => {
    const { label: _label, ...plain } = loop.object;
    expect(fingerprintOf('n-plus-one', loop.object)).toBe(fingerprintOf('n-plus-one', plain));
    expect(formatObject(plain)).toBe(`query ${QUERY_ID}`);
  });
});

describe('check exit code (src/cli decides it from the report)', () => {
  const config = (failOn: string) => resolveConfig({ flags: { failOn, databaseUrl: 'postgres://a@h/db' }, env: {}, rules: [] });
  const io = () => {
    let stderr = '';
    return { io: { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) }, env: {} }, stderr: () => stderr };
  };

  it('is 1 with findings at or above --fail-on and 0 otherwise', () => {
    const clean = { ...report, diagnostics: [] };
    expect(checkExitCode(clean, config('warning'), io().io)).toBe(1);
    expect(checkExitCode(clean, config('never'), io().io)).toBe(0);
    const onlyInfo = { ...clean, counts: { critical: 0, warning: 0, info: 1 } };
    expect(checkExitCode(onlyInfo, config('warning'), io().io)).toBe(0);
    expect(checkExitCode(onlyInfo, config('info'), io().io)).toBe(1);
  });

  it('is 2 when a rule crashed, whatever --fail-on says, and says so on stderr', () => {
    const crashed = { ...report, diagnostics: [{ rule: 'x', status: 'error' as const, message: 'rule x crashed: boom', hint: 'report it' }] };
    const out = io();
    expect(checkExitCode(crashed, config('never'), out.io)).toBe(2);
    expect(out.stderr()).toMatch(/1 rule\(s\) crashed; the report above is incomplete/);
    expect(out.stderr()).toContain('hint: ');
  });

  it('is 2 when a source a selected rule needs failed (not when it is merely unavailable), naming source and rules', () => {
    const failed = {
      ...report,
      diagnostics: [
        {
          source: 'tables',
          status: 'error' as const,
          message: 'source tables failed: canceling statement (SQLSTATE 57014)',
          hint: 'raise --statement-timeout',
        },
        { rule: 'vacuum-lag', source: 'tables', status: 'error' as const, message: 'rule vacuum-lag could not run', hint: 'raise --statement-timeout' },
        { rule: 'xid-wraparound', source: 'tables', status: 'error' as const, message: 'rule xid-wraparound could not run', hint: null },
      ],
    };
    const out = io();
    expect(checkExitCode(failed, config('never'), out.io)).toBe(2);
    expect(out.stderr()).toContain(
      'pg-advisor: source tables failed: canceling statement (SQLSTATE 57014); rules vacuum-lag, xid-wraparound could not run, so this report is incomplete',
    );
    expect(out.stderr()).toContain('hint: raise --statement-timeout');
    expect(verdictLine(failed, 'critical')).toContain('2 rules could not run: a source failed');
    const unavailable = {
      ...report,
      counts: { critical: 0, warning: 0, info: 0 },
      diagnostics: [
        { source: 'statements', status: 'unavailable' as const, message: 'source statements unavailable: not installed', hint: 'CREATE EXTENSION' },
        { rule: 'n-plus-one', status: 'skipped' as const, message: 'rule n-plus-one skipped', hint: 'CREATE EXTENSION' },
      ],
    };
    expect(checkExitCode(unavailable, config('warning'), io().io)).toBe(0);
    // A failed source no selected rule needs is reported, but does not fail the gate.
    const unneeded = { ...unavailable, diagnostics: [{ source: 'columns', status: 'error' as const, message: 'source columns failed: x', hint: null }] };
    expect(checkExitCode(unneeded, config('warning'), io().io)).toBe(0);
  });
});
