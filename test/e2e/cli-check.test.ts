import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allRules } from '../../rules/index.js';
import { createTestDatabase, holdConnections, type TestDatabase } from '../support/database.js';
import { runCli } from './run-cli.js';

/** The JSON report contract (ARCHITECTURE § CLI, version 1); strict where the contract is. */
const FINDING = z.object({
  rule: z.string(),
  severity: z.enum(['critical', 'warning', 'info']),
  title: z.string(),
  summary: z.string(),
  object: z.object({
    type: z.enum(['table', 'index', 'query', 'database', 'role', 'application', 'setting']),
    schema: z.string().optional(),
    name: z.string().optional(),
    queryId: z.string().optional(),
    columns: z.array(z.string()).optional(),
  }),
  evidence: z.record(z.string(), z.unknown()),
  recommendation: z.object({ text: z.string(), sql: z.string().optional() }),
  impact: z.record(z.string(), z.number()),
  fingerprint: z.string().min(8),
});
const DIAGNOSTIC = z
  .object({
    source: z.string().optional(),
    rule: z.string().optional(),
    status: z.string(),
    message: z.string(),
    hint: z.string().nullable(),
  })
  .refine((d) => (d.source === undefined) !== (d.rule === undefined), 'exactly one of source or rule');
const REPORT = z.looseObject({
  version: z.literal(1),
  target: z.object({ database: z.string(), serverVersion: z.string().regex(/^\d+(\.\d+)?/) }),
  collectedAt: z.iso.datetime(),
  findings: z.array(FINDING),
  diagnostics: z.array(DIAGNOSTIC),
});
type Report = z.infer<typeof REPORT> & { rulesEvaluated: string[]; window: { durationSeconds: number; samples: number } | null };

function parseReport(stdout: string): Report {
  return REPORT.parse(JSON.parse(stdout)) as Report;
}

const SCHEMA = 'Sales Ü';
const TABLE = 'Weird "Table"';
// application_name is ASCII-only in PostgreSQL (others become escapes), so quotes and case it is.
const APP = `Billing "Worker" O'Neil`;
const QUOTED_TABLE = '"Sales Ü"."Weird ""Table"""';

const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-e2e-check-'));
// Small relations are enough: the floors come down through the config file (this also exercises it).
const CONFIG = join(dir, 'thresholds.yaml');
writeFileSync(
  CONFIG,
  [
    'rules:',
    '  table-bloat:',
    '    thresholds: { minTableBytes: 1048576, warningWasteBytes: 1048576 }',
    '  idle-in-transaction:',
    '    thresholds: { maxIdleSeconds: 1 }',
    '',
  ].join('\n'),
);

describe('check against a real database (pg_monitor-only role)', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let idle: { release(): Promise<void> };

  beforeAll(async () => {
    db = await createTestDatabase({ extensions: ['pgstattuple'] });
    const q = (sql: string): Promise<pg.QueryResult> => db.admin.query(sql);
    await q(`create schema "Sales Ü"`);
    await q(`create table ${QUOTED_TABLE} (id int primary key, "Payload Ä" text) with (autovacuum_enabled = off)`);
    await q(`insert into ${QUOTED_TABLE} select g, repeat('x', 200) from generate_series(1, 40000) g`);
    await q(`delete from ${QUOTED_TABLE} where id % 10 <> 0`);
    await q(`vacuum analyze ${QUOTED_TABLE}`);
    // An application left idle in a transaction (READ COMMITTED SELECT: it holds no snapshot, so it
    // does not pin the horizon of other test files sharing this server).
    idle = await holdConnections(db.adminUrl, 1, {
      applicationName: APP,
      setup: async (c) => {
        await c.query('begin');
        await c.query(`select count(*) from ${QUOTED_TABLE}`);
      },
    });
    monitorUrl = await db.createMonitorRole();
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });

  afterAll(async () => {
    await idle?.release();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const isolated = ['--rules', 'table-bloat,idle-in-transaction', '--config', CONFIG];

  it('--format json follows the report contract and quotes nothing inside the data', async () => {
    const r = await runCli(['check', '--database-url', monitorUrl, '--format', 'json', ...isolated]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const report = parseReport(r.stdout);
    expect(report.target.database).toBe(db.name);
    expect(report.rulesEvaluated).toEqual(['table-bloat', 'idle-in-transaction']);
    const bloat = report.findings.find((f) => f.rule === 'table-bloat');
    expect(bloat?.object).toMatchObject({ type: 'table', schema: SCHEMA, name: TABLE });
    expect(bloat?.recommendation.text).toContain(QUOTED_TABLE);
    const idleFinding = report.findings.find((f) => f.rule === 'idle-in-transaction' && f.object.name === APP);
    expect(idleFinding?.object.type).toBe('application');
  });

  it('the text report quotes mixed-case, quoted and unicode identifiers as SQL needs them', async () => {
    const r = await runCli(['check', '--database-url', monitorUrl, ...isolated], { env: { FORCE_COLOR: '0' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`table-bloat +table ${escape(QUOTED_TABLE)}  waste \\d`));
    expect(r.stdout).toContain(`application 'Billing "Worker" O''Neil'`);
    expect(r.stdout).toMatch(/^pg-advisor check · database t_[0-9a-f]+ · PostgreSQL \d+/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^\d+ warning — fails --fail-on warning$/);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('exit code follows --fail-on: 1 at or above it, 0 below it or with never', async () => {
    const base = ['check', '--database-url', monitorUrl, '--format', 'json', ...isolated];
    // One after the other: the advisor refuses to open more sessions per role than its cap.
    const results = [];
    for (const level of ['info', 'warning', 'critical', 'never']) results.push(await runCli([...base, '--fail-on', level]));
    const [info, warning, critical, never] = results;
    const severities = parseReport(warning!.stdout).findings.map((f) => f.severity);
    expect(severities.length).toBeGreaterThan(0);
    expect(severities).not.toContain('critical');
    expect(info!.code).toBe(1);
    expect(warning!.code).toBe(1);
    expect(critical!.code).toBe(0);
    expect(never!.code).toBe(0);
  });

  it('the config file can disable a rule; DATABASE_URL names the target', async () => {
    const cfg = join(dir, 'disable.json');
    writeFileSync(cfg, JSON.stringify({ failOn: 'critical', rules: { 'table-bloat': { enabled: false } } }));
    const r = await runCli(['check', '--format', 'json', '--config', cfg], { env: { DATABASE_URL: monitorUrl } });
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.rulesEvaluated).not.toContain('table-bloat');
    expect(report.rulesEvaluated).toEqual(allRules.map((x) => x.id).filter((id) => id !== 'table-bloat'));
  });

  it('--window samples for the given time', async () => {
    const r = await runCli(['check', '--database-url', monitorUrl, '--format', 'json', '--window', '2s', '--rules', 'pool-exhaustion']);
    expect([0, 1]).toContain(r.code);
    const report = parseReport(r.stdout);
    expect(report.window?.samples).toBeGreaterThanOrEqual(2);
    expect(report.window?.durationSeconds).toBeGreaterThanOrEqual(1);
  });
});

describe('check with least privilege and missing extensions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.admin.query('drop extension pg_stat_statements');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a database without pg_stat_statements: the other rules still run, a diagnostic says how to enable it', async () => {
    const url = await db.createMonitorRole();
    const r = await runCli(['check', '--database-url', url, '--format', 'json', '--fail-on', 'never']);
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    const statements = report.diagnostics.find((d) => d.source === 'statements');
    expect(statements?.status).toBe('unavailable');
    expect(statements?.hint).toMatch(/CREATE EXTENSION pg_stat_statements/);
    expect(report.rulesEvaluated).toEqual(expect.arrayContaining(['vacuum-lag', 'xid-wraparound', 'pool-exhaustion', 'idle-in-transaction']));
  });

  it('a role without pg_monitor: a diagnostic names the missing grant', async () => {
    const url = await db.createMonitorRole({ pgMonitor: false });
    const role = decodeURIComponent(new URL(url).username);
    const r = await runCli(['check', '--database-url', url, '--format', 'json', '--fail-on', 'never']);
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.diagnostics.some((d) => d.hint?.includes(`GRANT pg_monitor TO ${role}`))).toBe(true);
    const text = await runCli(['check', '--database-url', url, '--fail-on', 'never']);
    expect(text.stdout).toContain(`hint: GRANT pg_monitor TO ${role}`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
