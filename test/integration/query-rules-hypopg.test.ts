/**
 * missing-index with hypopg verification on a Debian PostgreSQL 15 cluster (PREPARE/EXECUTE generic
 * plans; PG16+ uses EXPLAIN (GENERIC_PLAN), covered where hypopg is available for that major).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import missingIndex from '../../rules/missing-index/index.js';
import { collectSnapshot, connectTarget } from '../../src/collector/index.js';
import { enrichSnapshot } from '../../src/collector/enrich/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { initSqlParser } from '../../src/sql/index.js';
import { debianHypopgUnavailableReason, startHypopgApp, type DebianCluster } from '../support/sql-debian-cluster.js';
import { INDEX_SCHEMA_SQL, TEXTS } from '../support/sql-plant.js';

const unavailable = debianHypopgUnavailableReason();
if (unavailable) console.warn(`[query-rules-hypopg] skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('missing-index verified with hypopg (Debian PostgreSQL 15)', () => {
  let cluster: DebianCluster;
  let appUrl: string;
  const roleUrl = (role: string) => appUrl.replace('postgres@', `${role}:pw@`);

  beforeAll(async () => {
    await initSqlParser();
    ({ cluster, appUrl } = await startHypopgApp([
      INDEX_SCHEMA_SQL,
      `create role app login password 'pw'; grant select on all tables in schema public to app;
        create role advisor login password 'pw' in role pg_monitor; grant select on all tables in schema public to advisor;
        create role watcher login password 'pw' in role pg_monitor;`,
    ]));
    const app = new pg.Client({ connectionString: roleUrl('app') });
    await app.connect();
    try {
      for (let i = 0; i < 60; i++) {
        await app.query(TEXTS.ordersByCustomer, [(i * 37) % 20_000]);
        await app.query(TEXTS.eventsRecent, [i % 50, new Date(Date.now() - 3_600_000)]);
        if (i % 2 === 0) await app.query(TEXTS.statusReport, ['done']);
      }
    } finally {
      await app.end();
    }
  });

  afterAll(() => {
    cluster?.stop();
  });

  async function checkAs(role: string) {
    const target = await connectTarget({ url: roleUrl(role) });
    try {
      const snapshot = await enrichSnapshot(target, await collectSnapshot(target));
      return { snapshot, ...evaluateRules({ rules: [missingIndex], snapshot, window: null }) };
    } finally {
      await target.close();
    }
  }

  it('verifies the suggestions with hypothetical indexes and reports the generic-plan costs', async () => {
    const { snapshot, findings } = await checkAs('advisor');
    console.log(`[query-rules-hypopg] verifications: ${JSON.stringify(snapshot.enrichments?.indexVerifications)}`);
    expect(snapshot.meta.capabilities.hypopg).toBe(true);
    const orders = findings.find((f) => f.object.name === 'orders');
    expect(orders?.object.columns).toEqual(['customer_id']);
    expect(orders?.evidence.verification).toBe('hypopg');
    expect(Number(orders?.evidence.costAfter)).toBeLessThan(Number(orders?.evidence.costBefore) / 2);
    const events = findings.find((f) => f.object.name === 'events');
    expect(events?.evidence.verification).toBe('hypopg');
    expect(events?.object.columns?.[0]).toBe('account_id');
    // pg_stats make the range look like the filter (account_id has 50 values), so (created_at) is the heuristic
    // choice; hypopg plans it next to (account_id, created_at) and the pair, saving more, is recommended.
    expect(events?.object.columns).toEqual(['account_id', 'created_at']);
    expect(events?.evidence.alternatives).toEqual([expect.stringMatching(/^\(created_at\): cost [\d.]+ → [\d.]+/)]);
    expect(findings).toHaveLength(2);
  });

  it('without SELECT on the tables, verification fails with a hint and the heuristic finding stays', async () => {
    const { snapshot, findings } = await checkAs('watcher');
    const failures = snapshot.enrichments?.indexVerifications ?? [];
    expect(failures.length).toBeGreaterThan(0);
    for (const v of failures) {
      expect(v.status).toBe('failed');
      expect(v.reason).toMatch(/permission denied.*grant the advisor role SELECT/);
    }
    expect(findings.map((f) => [f.object.name, f.evidence.verification]).sort()).toEqual([
      ['events', 'not-verified'],
      ['orders', 'not-verified'],
    ]);
    for (const f of findings) expect(f.evidence.verificationFailure).toMatch(/permission denied/);
  });
});
