/**
 * Every planted scenario at once, as the demo plants them (demo cluster settings, one database), checked
 * through the real CLI: `node bin/pg-advisor.js check --format json --window 5s` as a pg_monitor-only
 * role. Every expected finding must be in the JSON report and every healthy look-alike absent.
 * Needs the compiled CLI (dist/): `npm test` builds first; alone, run `npm run build`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLUSTER_SETTINGS, DEMO_RULE_SETTINGS, plantAll, scenarios, type Planted } from '../../src/demo/scenarios/index.js';
import { waitUntil } from '../../src/demo/scenarios/sessions.js';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../src/embedded/cluster.js';
import { expectScenarios } from '../support/scenario-check.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../bin/pg-advisor.js');
const COMPILED = join(import.meta.dirname, '../../dist/src/cli/main.js');

interface JsonReport {
  version: number;
  target: { database: string; serverVersion: string };
  findings: { rule: string; severity: string; object: Record<string, unknown>; summary: string; evidence: Record<string, unknown> }[];
  diagnostics: { rule?: string; source?: string; status: string; message: string }[];
}

describe('check --format json on every planted scenario', () => {
  let cluster: EmbeddedCluster;
  let planted: Planted | null = null;
  let monitorUrl: string;
  let configDir: string;
  const plantSeconds: string[] = [];

  beforeAll(async () => {
    expect(existsSync(COMPILED), 'the compiled CLI (dist/src/cli/main.js) is missing: run `npm run build`').toBe(true);
    cluster = await startEmbeddedCluster({ settings: DEMO_CLUSTER_SETTINGS });
    const server = new pg.Client({ connectionString: cluster.url() });
    await server.connect();
    try {
      await server.query('create database shop');
      await server.query(`create role advisor login password 'advisor-pw' in role pg_monitor`);
    } finally {
      await server.end();
    }
    const adminUrl = cluster.url('shop');
    monitorUrl = cluster.url('shop', 'advisor', 'advisor-pw');
    const shop = new pg.Client({ connectionString: adminUrl });
    await shop.connect();
    try {
      await shop.query('create extension pg_stat_statements; create extension pgstattuple');
    } finally {
      await shop.end();
    }
    let last = performance.now();
    planted = await plantAll({
      adminUrl,
      log: () => {},
      onProgress: (done, _total, label) => {
        if (done > 0) plantSeconds.push(`${((performance.now() - last) / 1000).toFixed(1)} s`);
        last = performance.now();
        if (done < scenarios.length) plantSeconds.push(label);
      },
    });
    const threshold = DEMO_RULE_SETTINGS['idle-in-transaction']!.thresholds.maxIdleSeconds!;
    const check = new pg.Client({ connectionString: adminUrl });
    await check.connect();
    try {
      await waitUntil(async () => {
        const { rows } = await check.query(
          `select extract(epoch from now() - state_change) as idle from pg_catalog.pg_stat_activity where application_name = 'billing-worker'`,
        );
        return Number(rows[0]?.idle ?? 0) > threshold - 4; // the 5 s window adds the rest
      }, 20_000);
    } finally {
      await check.end();
    }
    configDir = mkdtempSync(join(tmpdir(), 'pg-advisor-cli-'));
    writeFileSync(join(configDir, 'advisor.json'), JSON.stringify({ rules: DEMO_RULE_SETTINGS }));
  }, 120_000);

  afterAll(async () => {
    console.log(`planting: ${plantSeconds.join(' ')}`);
    await planted?.release();
    await cluster?.stop();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('reports every planted problem, none of the look-alikes, and names the horizon holder', async () => {
    const result = await run(
      process.execPath,
      [CLI, 'check', '--database-url', monitorUrl, '--format', 'json', '--window', '5s', '--config', join(configDir, 'advisor.json')],
      { encoding: 'utf8', timeout: 60_000 },
    ).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
    );
    expect(result.code, `exit code (stderr: ${result.stderr})`).toBe(1); // warnings and criticals present
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.version).toBe(1);
    expect(report.target.database).toBe('shop');
    expectScenarios({ findings: report.findings as never, diagnostics: report.diagnostics as never }, scenarios);

    const server = report.findings.find((f) => f.rule === 'pool-exhaustion' && f.object.type === 'database' && f.object.name === 'shop');
    expect(Number(server?.evidence.utilisationRatio), 'server-wide utilisation finding on shop').toBeGreaterThanOrEqual(0.8);
    const blocked = report.findings.find((f) => f.rule === 'vacuum-lag' && f.object.name === 'job_queue');
    expect(blocked?.evidence, 'vacuum-lag names the oldest holder').toMatchObject({ holderKind: 'prepared-transaction', holderName: 'orders-tm-0042' });
  });
});
