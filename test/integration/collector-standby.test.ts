import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { collectSnapshot, connectTarget } from '../../src/collector/index.js';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../src/embedded/cluster.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { buildReport } from '../../src/report/index.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { findBasebackup, startStandby, type Standby } from '../support/standby.js';

const basebackup = findBasebackup();
if (!basebackup) {
  console.warn('[test] collector-standby: SKIPPED — no pg_basebackup under /usr/lib/postgresql/<major>/bin (apt install postgresql-client)');
}

describe.skipIf(!basebackup)('a physical standby', () => {
  let primary: EmbeddedCluster | undefined;
  let standby: Standby | undefined;
  let snapshot: Snapshot;

  beforeAll(async () => {
    // The primary's major is pg_basebackup's: it copies servers of its own major or older.
    primary = await startEmbeddedCluster({ major: basebackup!.major, settings: { wal_level: 'replica', max_wal_senders: '4' } });
    const admin = new pg.Client({ connectionString: primary.url() });
    await admin.connect();
    try {
      await admin.query('create extension if not exists pg_stat_statements');
      await admin.query('create table orders (id serial primary key, v int)');
      await admin.query('insert into orders (v) select i from generate_series(1, 20000) i');
      await admin.query('delete from orders where id % 2 = 0'); // dead tuples on the primary
    } finally {
      await admin.end();
    }
    standby = await startStandby(primary, basebackup!.path);
    const target = await connectTarget({ url: standby.url() });
    try {
      snapshot = await collectSnapshot(target);
    } finally {
      await target.close();
    }
  }, 120_000);

  afterAll(async () => {
    await standby?.stop();
    await primary?.stop();
  });

  it('records the vacuum source as unavailable because the server is in recovery, with a hint', () => {
    expect(snapshot.meta.sources.vacuum).toMatchObject({
      status: 'unavailable',
      reason: expect.stringContaining('standby (in recovery)'),
      hint: expect.stringContaining('primary'),
    });
    expect(snapshot.meta.sources.tables).toEqual({ status: 'ok' });
  });

  it('skips vacuum-lag (reported as skipped, not clean) and still runs the rules that can judge a standby', () => {
    const evaluation = evaluateRules({ rules: allRules, snapshot, window: null });
    expect(evaluation.evaluated).not.toContain('vacuum-lag');
    expect(evaluation.evaluated).toContain('xid-wraparound');
    expect(evaluation.diagnostics).toContainEqual(
      expect.objectContaining({ rule: 'vacuum-lag', status: 'skipped', message: expect.stringContaining('standby') }),
    );
    const report = buildReport({ snapshot, window: null, evaluation, redact: (t) => t, version: 'test' });
    expect(report.diagnostics).toContainEqual(
      expect.objectContaining({ source: 'vacuum', status: 'unavailable', message: expect.stringContaining('standby') }),
    );
  });
});
