import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding, Severity } from '../../src/engine/types.js';
import { UsageError } from '../../src/errors/errors.js';
import {
  applyBaseline,
  buildBaseline,
  countAtOrAbove,
  gateCounts,
  loadBaselineFile,
  parseBaseline,
  renderJson,
  writeBaselineFile,
  type Report,
} from '../../src/report/index.js';

function finding(fingerprint: string, severity: Severity, name = fingerprint): Finding {
  return {
    rule: 'idle-in-transaction',
    severity,
    title: 'Sessions idle in transaction',
    summary: `1 session of ${name} idle in transaction`,
    object: { type: 'application', name },
    evidence: { sessions: 1 },
    recommendation: { text: 'commit' },
    impact: { idleSeconds: 90 },
    fingerprint,
  };
}

function report(findings: Finding[]): Report {
  const counts = { critical: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return {
    version: 1,
    target: { database: 'app', serverVersion: '17.10', user: 'advisor' },
    collectedAt: '2026-01-01T12:00:00.000Z',
    window: null,
    rulesEvaluated: ['idle-in-transaction'],
    counts,
    findings,
    diagnostics: [],
    generator: { name: 'pg-advisor', version: '0.1.0' },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-baseline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('baseline files', () => {
  const prod = report([finding('fp-a', 'warning', 'billing'), finding('fp-b', 'critical', 'reports')]);

  it('writes { version, createdAt, target, fingerprints[{fingerprint, rule, object, severity}] } and reads it back', () => {
    const path = join(dir, 'baseline.json');
    writeBaselineFile(path, buildBaseline(prod, '2026-02-02T00:00:00.000Z'));
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(raw).toEqual({
      version: 1,
      createdAt: '2026-02-02T00:00:00.000Z',
      target: { database: 'app', serverVersion: '17.10' },
      fingerprints: [
        { fingerprint: 'fp-a', rule: 'idle-in-transaction', object: { type: 'application', name: 'billing' }, severity: 'warning' },
        { fingerprint: 'fp-b', rule: 'idle-in-transaction', object: { type: 'application', name: 'reports' }, severity: 'critical' },
      ],
    });
    expect(loadBaselineFile(path).fingerprints.map((e) => [e.fingerprint, e.severity])).toEqual([
      ['fp-a', 'warning'],
      ['fp-b', 'critical'],
    ]);
  });

  it('accepts a JSON report (from production or the last release) as a baseline', () => {
    const baseline = parseBaseline(renderJson(prod), 'prod-report.json');
    expect(baseline.fingerprints.map((e) => e.fingerprint)).toEqual(['fp-a', 'fp-b']);
    expect(baseline.createdAt).toBe('2026-01-01T12:00:00.000Z');
  });

  it('accepts an empty baseline (nothing known: every finding gates)', () => {
    const baseline = parseBaseline(JSON.stringify({ version: 1, createdAt: 'x', fingerprints: [] }), 'empty.json');
    expect(gateCounts(applyBaseline(prod, baseline, 'empty.json'))).toEqual({ critical: 1, warning: 1, info: 0 });
  });

  it('rejects an unreadable file with the path and a hint (UsageError, exit 2)', () => {
    const error = usageError(() => loadBaselineFile(join(dir, 'missing.json')));
    expect(error.message).toContain('missing.json');
    expect(error.message).toContain('ENOENT');
    expect(error.hint).toMatch(/--write-baseline/);
    expect(error.exitCode).toBe(2);
  });

  it.each([
    ['not JSON', '{ nope', /not valid JSON/],
    ['an array', '[]', /expected a JSON object/],
    ['neither kind', '{"version":1}', /neither a baseline .* nor a JSON report/],
    ['a future version', '{"version":2,"createdAt":"x","fingerprints":[]}', /version/],
    ['an entry without fingerprint', '{"version":1,"createdAt":"x","fingerprints":[{"rule":"r","severity":"warning"}]}', /fingerprints\.0\.fingerprint/],
    ['an unknown severity', '{"version":1,"createdAt":"x","fingerprints":[{"fingerprint":"f","rule":"r","severity":"fatal"}]}', /fingerprints\.0\.severity/],
    [
      'a report whose findings lack fingerprints',
      '{"version":1,"findings":[{"rule":"r","severity":"info"}]}',
      /not a valid JSON report:\n {2}findings\.0\.fingerprint/,
    ],
  ])('rejects %s, saying what is wrong', (_name, text, problem) => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, text);
    const error = usageError(() => loadBaselineFile(path));
    expect(error.message).toContain(path);
    expect(error.message).toMatch(problem);
    expect(error.hint).toBeTruthy();
  });

  it('fails to write into a missing directory with a UsageError naming the file', () => {
    const path = join(dir, 'no-such-dir', 'b.json');
    const error = usageError(() => writeBaselineFile(path, buildBaseline(prod, 'now')));
    expect(error.message).toContain(path);
  });
});

describe('applyBaseline', () => {
  const baseline = buildBaseline(report([finding('fp-known', 'warning'), finding('fp-calmer', 'critical'), finding('fp-worse', 'info')]), 'then');
  const now = report([finding('fp-known', 'warning'), finding('fp-calmer', 'warning'), finding('fp-worse', 'warning'), finding('fp-new', 'warning')]);
  const applied = applyBaseline(now, baseline, 'prod-baseline.json');
  const state = (fp: string): unknown => applied.findings.find((f) => f.fingerprint === fp);

  it('keeps every finding and marks known ones as baselined', () => {
    expect(applied.findings).toHaveLength(4);
    expect(state('fp-known')).toMatchObject({ baselined: true, baselineState: 'baselined', baselineSeverity: 'warning' });
    expect(state('fp-calmer')).toMatchObject({ baselined: true, baselineState: 'baselined', baselineSeverity: 'critical' });
    expect(state('fp-new')).toMatchObject({ baselined: false, baselineState: 'new' });
  });

  it('counts a finding that escalated beyond its baseline severity', () => {
    expect(state('fp-worse')).toMatchObject({ baselined: false, baselineState: 'escalated', baselineSeverity: 'info' });
  });

  it('gates only on new and escalated findings; report counts still count all of them', () => {
    expect(applied.counts).toEqual({ critical: 0, warning: 4, info: 0 });
    expect(gateCounts(applied)).toEqual({ critical: 0, warning: 2, info: 0 });
    expect(countAtOrAbove(gateCounts(applied), 'warning')).toBe(2);
    expect(applied.baseline).toEqual({
      file: 'prod-baseline.json',
      createdAt: 'then',
      entries: 3,
      baselined: 2,
      escalated: 1,
      new: 1,
      gateCounts: { critical: 0, warning: 2, info: 0 },
    });
  });

  it('passes the gate when every finding is baselined', () => {
    const all = applyBaseline(report([finding('fp-known', 'warning')]), baseline, 'b.json');
    expect(countAtOrAbove(gateCounts(all), 'info')).toBe(0);
  });

  it('is additive to the JSON contract (version 1, findings keep their fields)', () => {
    const json = JSON.parse(renderJson(applied)) as { version: number; findings: Record<string, unknown>[]; baseline: unknown };
    expect(json.version).toBe(1);
    expect(json.findings[0]).toMatchObject({ rule: 'idle-in-transaction', fingerprint: expect.any(String), baselined: expect.any(Boolean) });
    expect(json.baseline).toBeTruthy();
  });

  it('without a baseline, gate counts are the report counts', () => {
    expect(gateCounts(now)).toEqual(now.counts);
  });
});
