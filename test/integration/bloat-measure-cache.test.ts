/**
 * pgstattuple results reused between collections on one target (the daemon's case): a second collection
 * does not read the bloated relations again, and a rewrite (VACUUM FULL) is measured at once, so the
 * fixed table's finding goes away with the next sample. The healthy control is measured, never flagged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tableBloat from '../../rules/table-bloat.js';
import { collectSnapshot, connectTarget, type Target } from '../../src/collector/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('pgstattuple measurements reused between collections', () => {
  let db: TestDatabase;
  let target: Target;

  /** Calls of the advisor's pgstattuple_approx statement so far (pg_stat_statements, cluster-wide for this database). */
  const measurements = async (): Promise<number> => {
    const { rows } = await db.admin.query<{ calls: string | null }>(
      `select sum(calls)::text as calls from pg_stat_statements
       where dbid = (select oid from pg_database where datname = current_database()) and query like '%pgstattuple_approx(%'`,
    );
    return Number(rows[0]?.calls ?? 0);
  };
  const bloatedTables = (snapshot: Snapshot) =>
    evaluateRules({ rules: [tableBloat], snapshot, window: null })
      .findings.map((f) => f.object.name)
      .sort();

  beforeAll(async () => {
    db = await createTestDatabase({ extensions: ['pgstattuple'] });
    for (const name of ['cache_bloated', 'cache_healthy']) {
      await db.admin.query(`create table ${name} (id int primary key, payload text) with (autovacuum_enabled = off)`);
      await db.admin.query(`insert into ${name} select i, repeat('x', 120) from generate_series(1, 120000) i`);
    }
    await db.admin.query('delete from cache_bloated where id % 10 <> 0'); // 90 % dead, then reusable free space
    await db.admin.query('vacuum cache_bloated');
    await db.admin.query('analyze cache_healthy');
    target = await connectTarget({ url: await db.createMonitorRole() });
  }, 120_000);

  afterAll(async () => {
    await target?.close();
    await db?.drop();
  });

  it('measures once, reuses while size and vacuums are unchanged, and measures a rewritten table again', async () => {
    const before = await measurements();
    const first = await collectSnapshot(target);
    const measuredFirst = (await measurements()) - before;
    expect(measuredFirst).toBeGreaterThanOrEqual(1);
    expect(bloatedTables(first)).toEqual(['cache_bloated']);
    expect(first.bloat?.tables.find((t) => t.name === 'cache_bloated')?.method).toBe('pgstattuple_approx');

    const second = await collectSnapshot(target);
    expect((await measurements()) - before).toBe(measuredFirst); // nothing read again
    expect(second.meta.sources.bloat).toMatchObject({ status: 'ok', note: expect.stringContaining('reused from earlier collections') });
    expect(bloatedTables(second)).toEqual(['cache_bloated']);
    expect(second.bloat?.tables.find((t) => t.name === 'cache_bloated')).toEqual(first.bloat?.tables.find((t) => t.name === 'cache_bloated'));

    await db.admin.query('vacuum full cache_bloated'); // the fix: the file shrinks to a tenth
    const third = await collectSnapshot(target);
    expect(bloatedTables(third)).toEqual([]);
    const other = await connectTarget({ url: await db.createMonitorRole() });
    try {
      // A fresh target (as `check` has) measures everything again: the cache lives with the Target.
      const before2 = await measurements();
      await collectSnapshot(other);
      expect((await measurements()) - before2).toBeGreaterThanOrEqual(1);
    } finally {
      await other.close();
    }
  });
});
