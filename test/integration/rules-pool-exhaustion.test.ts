/**
 * pool-exhaustion on its own embedded cluster (max_connections 60, as in the demo), so other test files'
 * connections cannot change the counts. First only healthy connections (20 mostly idle, u ≈ 0.37): no
 * finding at all. Then the planted scenario: server slots, a role and a database at their limits, and a
 * pegged busy pool.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../src/embedded/cluster.js';
import { DEMO_CLUSTER_SETTINGS, plantHealthyConnections, scenarios, type Scenario } from '../../src/demo/scenarios/index.js';
import { collectAndEvaluate, expectScenarios } from '../support/scenario-check.js';

const scenario = scenarios.find((s) => s.id === 'pool-exhaustion') as Scenario;
const WINDOW_MS = 4000;

describe('pool-exhaustion on a 60-connection cluster', () => {
  let cluster: EmbeddedCluster;
  let adminUrl: string;
  let monitorUrl: string;

  beforeAll(async () => {
    cluster = await startEmbeddedCluster({ settings: DEMO_CLUSTER_SETTINGS });
    const server = new pg.Client({ connectionString: cluster.url() });
    await server.connect();
    try {
      await server.query('create database shop');
      await server.query(`create role advisor login password 'advisor-pw' in role pg_monitor`);
    } finally {
      await server.end();
    }
    adminUrl = cluster.url('shop');
    monitorUrl = cluster.url('shop', 'advisor', 'advisor-pw');
    const shop = new pg.Client({ connectionString: adminUrl });
    await shop.connect();
    try {
      await shop.query('create extension pg_stat_statements');
    } finally {
      await shop.end();
    }
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('stays silent on 20 mostly idle connections, a role under its limit and a fixed idle pool', async () => {
    const planted = await plantHealthyConnections({ adminUrl, log: () => {} });
    try {
      const evaluation = await collectAndEvaluate(monitorUrl, { windowMs: WINDOW_MS });
      expect(evaluation.snapshot.activity.length).toBeGreaterThanOrEqual(20);
      expect(evaluation.findings.filter((f) => f.rule === 'pool-exhaustion')).toEqual([]);
      expect(evaluation.diagnostics.filter((d) => d.rule === 'pool-exhaustion')).toEqual([]);
    } finally {
      await planted.release();
    }
  });

  it('fires on the server slots, the role and database at their limits and the pegged busy pool, silent on the look-alikes', async () => {
    const planted = await scenario.plant({ adminUrl, log: () => {} });
    try {
      const evaluation = await collectAndEvaluate(monitorUrl, { windowMs: WINDOW_MS });
      expectScenarios(evaluation, [scenario]);
      const server = evaluation.findings.find((f) => f.rule === 'pool-exhaustion' && f.object.type === 'database' && f.object.name !== 'analytics');
      expect(server?.object.name).toBe('shop');
      expect(Number(server?.evidence.utilisationRatio)).toBeGreaterThanOrEqual(0.8);
    } finally {
      await planted.release();
    }
  });
});
