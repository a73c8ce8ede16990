import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { collectSnapshot, connectTarget } from '../../src/collector/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { createTestDatabase, type TestDatabase, snapshotAs } from '../support/database.js';

let db: TestDatabase;
let monitorUrl: string;
let monitorRole: string;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query('create table queued (id serial primary key, v int)');
  await db.admin.query('create table calm (id serial primary key, v int)');
  await db.admin.query('insert into queued (v) select i from generate_series(1, 1000) i');
  await db.admin.query('insert into calm (v) select i from generate_series(1, 1000) i');
  // Supabase-style: extensions live in their own schema, on which the monitoring role has no USAGE.
  await db.admin.query('create schema extensions');
  await db.admin.query('drop extension pg_stat_statements');
  await db.admin.query('create extension pg_stat_statements schema extensions');
  await db.admin.query('create extension pgstattuple schema extensions');
  monitorUrl = await db.createMonitorRole();
  monitorRole = decodeURIComponent(new URL(monitorUrl).username);
});

afterAll(async () => {
  await db?.drop();
});

describe('extensions in a schema the role cannot use', () => {
  it("never fail the collection: each becomes its source's unavailable (or note) with the exact grant", async () => {
    const s = await snapshotAs(monitorUrl);
    const grant = `GRANT USAGE ON SCHEMA extensions TO ${monitorRole}`;
    expect(s.meta.capabilities.pgstattuple).toBe(false);
    expect(s.meta.sources.statements).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('schema extensions'), hint: grant });
    // Without SELECT the role sees no pg_stats either, so bloat has neither estimates nor measurements.
    expect(s.meta.sources.bloat).toMatchObject({ status: 'unavailable', hint: expect.stringContaining(grant) });
    expect(s.meta.sources.tables).toEqual({ status: 'ok' });
    const result = evaluateRules({ rules: allRules.filter((r) => r.id === 'n-plus-one' || r.id === 'invalid-index'), snapshot: s, window: null });
    expect(result.evaluated).toEqual(['invalid-index']);
    expect(result.diagnostics).toEqual([expect.objectContaining({ rule: 'n-plus-one', status: 'skipped', hint: grant })]);
  });

  it('with USAGE granted, pg_stat_statements and pgstattuple are found there and used schema-qualified', async () => {
    await db.admin.query(`grant usage on schema extensions to ${monitorRole}`);
    try {
      for (let i = 0; i < 3; i++) await db.admin.query('select v from calm where id = $1', [i]);
      const s = await snapshotAs(monitorUrl);
      expect(s.meta.capabilities.pgstattuple).toBe(true);
      expect(s.meta.sources.statements).toMatchObject({ status: 'ok' });
      expect(s.statements.some((x) => x.query?.includes('from calm where id'))).toBe(true);
    } finally {
      await db.admin.query(`revoke usage on schema extensions from ${monitorRole}`);
    }
  });
});

describe('a queued DDL (ALTER TABLE waiting behind a long transaction)', () => {
  it('is skipped and counted; the sources stay ok and the other relations are measured', async () => {
    const reader = new pg.Client({ connectionString: db.adminUrl });
    const ddl = new pg.Client({ connectionString: db.adminUrl });
    reader.on('error', () => {});
    ddl.on('error', () => {});
    await reader.connect();
    await ddl.connect();
    let altered: Promise<unknown> = Promise.resolve();
    try {
      await reader.query('begin');
      await reader.query('select count(*) from queued');
      altered = ddl.query('alter table queued add column w int');
      // Wait (bounded) until the ALTER TABLE's AccessExclusiveLock request is queued, not granted.
      for (let i = 0; i < 50; i++) {
        const { rows } = await db.admin.query(
          `select count(*)::int as n from pg_locks where relation = 'queued'::regclass and mode = 'AccessExclusiveLock' and not granted`,
        );
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const s = await snapshotAs(db.adminUrl);
      expect(s.meta.sources.tables).toMatchObject({ status: 'ok', note: expect.stringContaining('1 table(s) not measured') });
      expect(s.meta.sources.tables).toMatchObject({ note: expect.stringContaining('public.queued') });
      expect(s.meta.sources.indexes).toMatchObject({ status: 'ok', note: expect.stringContaining('public.queued_pkey') });
      expect(s.meta.sources.bloat?.status).toBe('ok');
      const queued = s.tables.find((t) => t.name === 'queued');
      const calm = s.tables.find((t) => t.name === 'calm');
      expect(queued).toMatchObject({ locked: true, heapBytes: null });
      expect(calm?.locked).toBe(false);
      expect(calm?.heapBytes).toBeGreaterThan(0);
      expect(s.indexes.find((i) => i.name === 'calm_pkey')?.sizeBytes).toBeGreaterThan(0);
    } finally {
      await reader.query('rollback').catch(() => {});
      await altered.catch(() => {});
      await reader.end();
      await ddl.end();
    }
  });
});

describe('compute_query_id = off', () => {
  it('is named on the statements source with the fix, and the query rules are skipped, not clean', async () => {
    await db.admin.query(`alter database ${db.name} set compute_query_id = off`);
    try {
      const s = await snapshotAs(db.adminUrl);
      expect(s.meta.sources.statements).toMatchObject({
        status: 'unavailable',
        reason: expect.stringContaining('compute_query_id = off'),
        hint: expect.stringContaining("compute_query_id = 'auto'"),
      });
      const rules = allRules.filter((r) => r.id === 'n-plus-one' || r.id === 'missing-index');
      const result = evaluateRules({ rules, snapshot: s, window: null });
      expect(result.evaluated).toEqual([]);
      expect(result.diagnostics.map((d) => [d.rule, d.status])).toEqual([
        ['n-plus-one', 'skipped'],
        ['missing-index', 'skipped'],
      ]);
    } finally {
      await db.admin.query(`alter database ${db.name} reset compute_query_id`);
    }
  });
});
