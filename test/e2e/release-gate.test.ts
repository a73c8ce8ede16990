/**
 * The release gate end to end, through the built CLI (`node bin/pg-advisor.js`) on a real PostgreSQL:
 * run 1 writes a baseline while one application holds a transaction open; run 2 with --baseline passes;
 * a second application then does the same, and run 3 fails naming only that one. Every output format
 * is produced from the real report and validated (SARIF against the 2.1.0 schema, JUnit by expat).
 * Needs dist/: `npx tsc -p tsconfig.build.json` (npm test builds first).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { assertBuilt, runCli, type CliResult } from './run-cli.js';

interface JsonFinding {
  rule: string;
  severity: string;
  object: { type: string; name?: string };
  fingerprint: string;
  baselined?: boolean;
  baselineState?: string;
}
interface JsonReport {
  findings: JsonFinding[];
  baseline?: { new: number; baselined: number; escalated: number; gateCounts: Record<string, number> };
}

const OLD_APP = 'billing-worker';
const NEW_APP = 'report-exporter';
const HEALTHY_APP = 'healthy-api';

describe('release gate: --write-baseline, --baseline and the CI formats on a real database', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let dir: string;
  let config: string;
  let baselineFile: string;
  const sessions: pg.Client[] = [];

  /** A session of `app` that opens a transaction and goes quiet (idle in transaction), or just idles. */
  async function openSession(app: string, inTransaction: boolean): Promise<void> {
    const client = new pg.Client({ connectionString: db.adminUrl, application_name: app });
    client.on('error', () => {});
    await client.connect();
    sessions.push(client);
    if (inTransaction) await client.query('begin; select 1;');
    else await client.query('select 1');
  }

  /** Waits until every named application has been idle (in transaction) past the 1 s threshold. */
  async function waitIdle(apps: string[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { rows } = await db.admin.query<{ n: string }>(
        `select count(*) as n from pg_catalog.pg_stat_activity
          where application_name = any($1) and state like 'idle%' and now() - state_change > interval '1.5 seconds'`,
        [apps],
      );
      if (Number(rows[0]!.n) >= apps.length) return;
      if (Date.now() > deadline) throw new Error(`sessions of ${apps.join(', ')} did not become idle in time`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  function check(...args: string[]): Promise<CliResult> {
    return runCli(['check', '--database-url', monitorUrl, '--config', config, '--rules', 'idle-in-transaction', ...args], { timeoutMs: 60_000 });
  }

  function json(result: CliResult): JsonReport {
    expect(result.stderr).not.toMatch(/internal error/);
    return JSON.parse(result.stdout) as JsonReport;
  }

  const appsOf = (findings: JsonFinding[]): (string | undefined)[] => findings.map((f) => f.object.name).sort();

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    dir = mkdtempSync(join(tmpdir(), 'pg-advisor-gate-'));
    config = join(dir, 'pg-advisor.json');
    baselineFile = join(dir, 'prod-baseline.json');
    // A 1 s threshold keeps the test fast; the critical escalation stays at its default (1 h).
    writeFileSync(config, JSON.stringify({ rules: { 'idle-in-transaction': { thresholds: { maxIdleSeconds: 1 } } } }));
    await openSession(OLD_APP, true);
    await openSession(HEALTHY_APP, false); // the healthy control: idle, but not in a transaction
    await waitIdle([OLD_APP, HEALTHY_APP]);
  });

  afterAll(async () => {
    await Promise.all(sessions.map((c) => c.end().catch(() => {})));
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('run 1: --write-baseline records the existing problem (and still gates: exit 1)', async () => {
    const r = await check('--format', 'json', '--write-baseline', baselineFile);
    expect(r.code, r.stderr).toBe(1);
    const report = json(r);
    expect(appsOf(report.findings)).toEqual([OLD_APP]); // the healthy control stays silent
    const baseline = JSON.parse(readFileSync(baselineFile, 'utf8')) as {
      version: number;
      createdAt: string;
      target: { database: string };
      fingerprints: JsonFinding[];
    };
    expect(baseline).toMatchObject({ version: 1, target: { database: db.name } });
    expect(Date.parse(baseline.createdAt)).not.toBeNaN();
    expect(baseline.fingerprints).toEqual([
      { fingerprint: report.findings[0]!.fingerprint, rule: 'idle-in-transaction', object: { type: 'application', name: OLD_APP }, severity: 'warning' },
    ]);
  });

  it('run 2: --baseline passes (exit 0) and keeps the known finding, marked baselined', async () => {
    const r = await check('--format', 'json', '--baseline', baselineFile);
    expect(r.code, r.stderr).toBe(0);
    const report = json(r);
    expect(report.findings).toMatchObject([{ object: { name: OLD_APP }, baselined: true, baselineState: 'baselined' }]);
    expect(report.baseline).toMatchObject({ new: 0, baselined: 1, escalated: 0 });

    const md = await check('--format', 'markdown', '--baseline', baselineFile);
    expect(md.code).toBe(0);
    expect(md.stdout.split('\n')[0]).toBe('## pg-advisor check: ✅ passes `--fail-on warning`');
    expect(md.stdout).toMatch(new RegExp(`application '${OLD_APP}' .*\\| baselined \\|`));
  });

  describe('after another application leaves a transaction open', () => {
    beforeAll(async () => {
      await openSession(NEW_APP, true);
      await waitIdle([NEW_APP]);
    });

    it('run 3: --baseline fails (exit 1) naming only the new problem', async () => {
      const r = await check('--format', 'json', '--baseline', baselineFile);
      expect(r.code, r.stderr).toBe(1);
      const report = json(r);
      expect(appsOf(report.findings)).toEqual([OLD_APP, NEW_APP].sort());
      expect(appsOf(report.findings.filter((f) => !f.baselined))).toEqual([NEW_APP]);
      expect(report.baseline).toMatchObject({ new: 1, baselined: 1, gateCounts: { warning: 1 } });

      const text = await check('--baseline', baselineFile);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain(NEW_APP);
    });

    it('markdown names the new finding as new and the old one as baselined', async () => {
      const r = await check('--format', 'markdown', '--baseline', baselineFile);
      expect(r.code).toBe(1);
      expect(r.stdout.split('\n')[0]).toBe('## pg-advisor check: ❌ fails `--fail-on warning`');
      expect(r.stdout).toContain('— **1** new finding at or above `warning`.');
      expect(r.stdout).toMatch(new RegExp(`application '${NEW_APP}' .*\\| \\*\\*new\\*\\* \\|`));
      expect(r.stdout).toMatch(new RegExp(`application '${OLD_APP}' .*\\| baselined \\|`));
    });

    it('SARIF from the real report validates against the 2.1.0 schema, with baseline states', async () => {
      const r = await check('--format', 'sarif', '--baseline', baselineFile, '--sarif-artifact', 'db/schema.sql');
      expect(r.code).toBe(1);
      const log = JSON.parse(r.stdout) as SarifLog;
      expect(sarifSchemaErrors(log)).toEqual([]);
      const results = log.runs[0]!.results;
      expect(results.map((x) => x.baselineState).sort()).toEqual(['new', 'unchanged']);
      expect(JSON.stringify(results[0]!.locations)).toContain('db/schema.sql');
      const baseline = JSON.parse(readFileSync(baselineFile, 'utf8')) as { fingerprints: { fingerprint: string }[] };
      expect(results.map((x) => x.partialFingerprints['pgAdvisorFingerprint/v1'])).toContain(baseline.fingerprints[0]!.fingerprint);
    });

    it('JUnit from the real report parses, failing the rule with the new finding only', async () => {
      const r = await check('--format', 'junit', '--baseline', baselineFile);
      expect(r.code).toBe(1);
      const parsed = junitCases(r.stdout);
      expect(parsed).toHaveLength(1);
      expect(parsed[0]).toMatchObject({ name: 'idle-in-transaction', classname: 'pg-advisor.connections' });
      expect(parsed[0]!.failure).toContain(NEW_APP);
      expect(parsed[0]!.failure).not.toContain(OLD_APP);
      expect(parsed[0]!.out).toContain(`[warning] [baselined] application '${OLD_APP}'`);
    });

    it('one run writes every format with --output (the same report), stdout keeps --format', async () => {
      const files = {
        json: join(dir, 'out.json'),
        sarif: join(dir, 'out.sarif'),
        markdown: join(dir, 'comment.md'),
        junit: join(dir, 'junit.xml'),
        text: join(dir, 'out.txt'),
      };
      const r = await check(
        '--format',
        'json',
        '--baseline',
        baselineFile,
        ...Object.entries(files).flatMap(([format, path]) => ['--output', `${format}=${path}`]),
      );
      expect(r.code, r.stderr).toBe(1);
      const report = json(r);
      expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(report); // one collection, not five
      const log = JSON.parse(readFileSync(files.sarif, 'utf8')) as SarifLog;
      expect(sarifSchemaErrors(log)).toEqual([]);
      expect(log.runs[0]!.results.map((x) => x.baselineState).sort()).toEqual(['new', 'unchanged']);
      expect(readFileSync(files.markdown, 'utf8').split('\n')[0]).toBe('## pg-advisor check: ❌ fails `--fail-on warning`');
      const cases = junitCases(readFileSync(files.junit, 'utf8'));
      expect(cases.map((c) => c.failure?.includes(NEW_APP))).toEqual([true]);
      const text = readFileSync(files.text, 'utf8');
      expect(text).toContain(NEW_APP);
      expect(text).not.toMatch(/\u001b\[/); // no colour codes in files
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });

    it('a finding that escalated beyond its baseline severity fails the gate', async () => {
      const escalate = join(dir, 'escalate.json');
      writeFileSync(escalate, JSON.stringify({ rules: { 'idle-in-transaction': { thresholds: { maxIdleSeconds: 1, criticalIdleSeconds: 1 } } } }));
      const r = await runCli([
        'check',
        '--database-url',
        monitorUrl,
        '--config',
        escalate,
        '--rules',
        'idle-in-transaction',
        '--format',
        'json',
        '--baseline',
        baselineFile,
        '--fail-on',
        'critical',
      ]);
      expect(r.code, r.stderr).toBe(1);
      const report = json(r);
      expect(report.findings.find((f) => f.object.name === OLD_APP)).toMatchObject({ severity: 'critical', baselined: false, baselineState: 'escalated' });
    });

    it("a JSON report is accepted as a baseline (e.g. last release's report): everything known, exit 0", async () => {
      const reportFile = join(dir, 'last-release.json');
      writeFileSync(reportFile, (await check('--format', 'json')).stdout);
      const r = await check('--format', 'json', '--baseline', reportFile);
      expect(r.code, r.stderr).toBe(0);
      expect(json(r).baseline).toMatchObject({ new: 0, baselined: 2 });
    });
  });

  it('a bad --output is a usage error before anything connects: exit 2, what is wrong and a hint', async () => {
    const unreachable = 'postgres://nobody@127.0.0.1:9/none';
    const cases: [string, string][] = [
      ['xml=out.xml', 'unknown format xml; valid: text, json, markdown, sarif, junit'],
      ['sarif=', 'expected FORMAT=FILE'],
      ['results.sarif', 'expected FORMAT=FILE'],
      [`sarif=${join(dir, 'missing-dir', 'results.sarif')}`, `cannot write in ${join(dir, 'missing-dir')}`],
      [`sarif=${dir}`, 'is a directory'],
    ];
    for (const [spec, message] of cases) {
      const r = await runCli(['check', '--database-url', unreachable, '--output', spec]);
      expect(r.code, spec).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr, spec).toContain(message);
      expect(r.stderr).toContain('hint: ');
      expect(r.stderr).not.toMatch(/connect/i);
    }
    const twice = await runCli(['check', '--database-url', unreachable, '--output', `json=${join(dir, 'a.json')}`, '--output', `sarif=${join(dir, 'a.json')}`]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('is named twice');
  });

  it('an unreadable or malformed baseline is a usage error: exit 2, the path and what is wrong on stderr', async () => {
    const missing = await check('--baseline', join(dir, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain(`pg-advisor: cannot read baseline file ${join(dir, 'nope.json')} (ENOENT)`);
    expect(missing.stderr).toContain('hint: ');

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version":1,"createdAt":"x","fingerprints":[{"rule":"idle-in-transaction"}]}');
    const malformed = await check('--baseline', bad);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain(`baseline file ${bad} is not a valid baseline`);
    expect(malformed.stderr).toContain('fingerprints.0.fingerprint');
  });
});

interface SarifLog {
  runs: { results: { ruleId: string; baselineState: string; locations: unknown[]; partialFingerprints: Record<string, string> }[] }[];
}

/** Violations of the SARIF 2.1.0 schema (test/fixtures/sarif). */
function sarifSchemaErrors(log: SarifLog): unknown[] {
  const schema = JSON.parse(readFileSync(new URL('../fixtures/sarif/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  ajvFormats.default(ajv);
  const validate = ajv.compile(schema);
  return validate(log) ? [] : (validate.errors ?? []);
}

/** A JUnit document's test cases, parsed by python3's expat. */
function junitCases(xml: string): { name: string; classname: string; failure: string | null; out: string | null }[] {
  return JSON.parse(execFileSync('python3', ['-c', JUNIT_SUMMARY], { input: xml, encoding: 'utf8' })) as ReturnType<typeof junitCases>;
}

/** Python/expat: the test cases of a JUnit document as JSON (name, classname, failure text, system-out). */
const JUNIT_SUMMARY = `
import json, sys
import xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
cases = []
for case in root.iter("testcase"):
    failure = case.find("failure")
    out = case.find("system-out")
    cases.append({"name": case.get("name"), "classname": case.get("classname"),
                  "failure": None if failure is None else failure.get("message") + "\\n" + (failure.text or ""),
                  "out": None if out is None else out.text})
json.dump(cases, sys.stdout)
`;
