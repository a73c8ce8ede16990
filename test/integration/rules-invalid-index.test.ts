/**
 * invalid-index on a real PostgreSQL, collected as a pg_monitor-only role (and, for the in-progress
 * controls, as a role without pg_monitor too). Planted: a CREATE UNIQUE INDEX CONCURRENTLY that failed on
 * duplicate keys (never ready) and a CREATE INDEX CONCURRENTLY cancelled while it waited for an old snapshot
 * (ready: writes maintain it), both with odd identifiers. Controls: valid indexes, and a CREATE INDEX
 * CONCURRENTLY, a REINDEX CONCURRENTLY and a DROP INDEX CONCURRENTLY each held mid-way by an old transaction
 * — their indexes are invalid while they wait, and must stay silent.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/demo/scenarios/sessions.js';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

const SCHEMA_SQL = `
create schema "Ledger";
create table "Ledger"."Entry Lines" (id bigint primary key, ref int not null, "Amount €" int not null);
insert into "Ledger"."Entry Lines" select g, g % 1000, g % 97 from generate_series(1, 50000) g;
create index "Entry Lines_ref" on "Ledger"."Entry Lines" (ref);
create table public.building (id bigint primary key, v int not null);
insert into public.building select g, g % 100 from generate_series(1, 20000) g;
create table public.reindexed (id bigint primary key, v int not null);
insert into public.reindexed select g, g from generate_series(1, 20000) g;
create table public.dropping (id bigint primary key, v int not null);
insert into public.dropping select g, g from generate_series(1, 20000) g;
create index dropping_v_idx on public.dropping (v);
`;
const OLD_SNAPSHOTS = 'waiting for old snapshots';
const FAILED_UNIQUE = 'Entry "ref" ünique';
const CANCELLED = 'Entry Lines_amount Ω';

function client(url: string, applicationName: string): pg.Client {
  const c = new pg.Client({ connectionString: url, application_name: applicationName });
  c.on('error', () => {});
  return c;
}

/** One row per invalid index of this database, by name (sorted in JS: server collations differ). */
async function invalidIndexes(db: TestDatabase): Promise<{ name: string; ready: boolean }[]> {
  const { rows } = await db.admin.query<{ name: string; ready: boolean }>(
    `select c.relname as name, i.indisready as ready from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
      where not i.indisvalid`,
  );
  return rows.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Waits until a concurrent build of `command` sits in `phase`. */
async function waitForPhase(db: TestDatabase, command: string, phase: string): Promise<boolean> {
  return waitUntil(
    async () => {
      const { rows } = await db.admin.query(`select 1 from pg_catalog.pg_stat_progress_create_index where command = $1 and phase = $2`, [command, phase]);
      return rows.length === 1;
    },
    20_000,
    100,
  );
}

const byName = <T extends { name: string }>(rows: T[]): T[] => rows.sort((a, b) => (a.name < b.name ? -1 : 1));
const invalidFindings = (e: Evaluation): Finding[] => e.findings.filter((f) => f.rule === 'invalid-index');
const names = (findings: readonly Finding[]): string[] => findings.map((f) => f.object.name ?? '').sort();

describe('invalid-index on planted failed and in-progress concurrent builds', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let planted: Evaluation;
  let inProgress: Evaluation;
  let inProgressNoMonitor: Evaluation;
  let after: Evaluation;
  const sessions: pg.Client[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    const plainUrl = await db.createMonitorRole({ pgMonitor: false });
    await db.admin.query(SCHEMA_SQL);
    const open = async (name: string) => {
      const c = client(db.adminUrl, name);
      await c.connect();
      sessions.push(c);
      return c;
    };
    const holder = await open('holder');
    const builder = await open('builder');
    const reindexer = await open('reindexer');
    const dropper = await open('dropper');

    // 1. A unique build on a column with duplicates fails and leaves an invalid index that never became ready.
    await expect(builder.query(`create unique index concurrently "Entry ""ref"" ünique" on "Ledger"."Entry Lines" (ref)`)).rejects.toMatchObject({
      code: '23505',
    });

    // 2. A build cancelled after it became ready, while it waited for an older snapshot to go away.
    const builderPid = Number((await builder.query('select pg_catalog.pg_backend_pid() as pid')).rows[0].pid);
    await holder.query('begin isolation level repeatable read');
    await holder.query('select 1');
    const cancelled = builder.query(`create index concurrently "Entry Lines_amount Ω" on "Ledger"."Entry Lines" ("Amount €")`);
    const cancelledFailure = cancelled.then(
      () => null,
      (error: unknown) => error,
    );
    expect(await waitForPhase(db, 'CREATE INDEX CONCURRENTLY', OLD_SNAPSHOTS), 'the build waits for the old snapshot').toBe(true);
    await db.admin.query('select pg_catalog.pg_cancel_backend($1)', [builderPid]);
    expect(await cancelledFailure).toMatchObject({ code: '57014' });
    await holder.query('commit');
    expect(await invalidIndexes(db)).toEqual(
      byName([
        { name: FAILED_UNIQUE, ready: false },
        { name: CANCELLED, ready: true },
      ]),
    );
    planted = await collectAndEvaluate(monitorUrl);

    // 3. Builds and a drop in progress, each held by an old transaction: its snapshot holds the CREATE INDEX
    // CONCURRENTLY after its index became ready; its write to public.reindexed holds the REINDEX CONCURRENTLY
    // before its _ccnew copy is built (progress then names the old index, not the copy); its lock on
    // public.dropping holds the DROP INDEX CONCURRENTLY after it marked the index invalid.
    await holder.query('begin isolation level repeatable read');
    await holder.query('select count(*) from public.dropping');
    await holder.query('update public.reindexed set v = v where id = 1');
    const running = [
      builder.query('create index concurrently building_v_idx on public.building (v)'),
      reindexer.query('reindex index concurrently public.reindexed_pkey'),
      dropper.query('drop index concurrently public.dropping_v_idx'),
    ];
    const settled = Promise.allSettled(running);
    try {
      expect(await waitForPhase(db, 'CREATE INDEX CONCURRENTLY', OLD_SNAPSHOTS), 'CREATE INDEX CONCURRENTLY waits').toBe(true);
      expect(await waitForPhase(db, 'REINDEX CONCURRENTLY', 'waiting for writers before build'), 'REINDEX CONCURRENTLY waits').toBe(true);
      const waiting = await waitUntil(async () => (await invalidIndexes(db)).length === 5, 20_000, 100);
      expect(waiting, 'five invalid indexes while the DDL waits').toBe(true);
      expect(await invalidIndexes(db)).toEqual(
        byName([
          { name: 'building_v_idx', ready: true },
          { name: 'dropping_v_idx', ready: true },
          { name: FAILED_UNIQUE, ready: false },
          { name: CANCELLED, ready: true },
          { name: 'reindexed_pkey_ccnew', ready: false },
        ]),
      );
      inProgress = await collectAndEvaluate(monitorUrl);
      inProgressNoMonitor = await collectAndEvaluate(plainUrl);
    } finally {
      await holder.query('commit');
    }
    const outcomes = await settled;
    expect(
      outcomes.map((o) => o.status),
      'the held DDL finishes once released',
    ).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    after = await collectAndEvaluate(monitorUrl);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sessions.map((c) => c.end().catch(() => {})));
    await db?.drop();
  });

  it('reports each planted invalid index exactly once, with its state', () => {
    const findings = invalidFindings(planted);
    expect(names(findings)).toEqual([FAILED_UNIQUE, CANCELLED].sort());
    const failed = findings.find((f) => f.object.name === FAILED_UNIQUE)!;
    expect(failed).toMatchObject({
      severity: 'warning',
      object: { type: 'index', schema: 'Ledger', table: 'Entry Lines' },
      evidence: { ready: false, unique: true, validDuplicate: null },
    });
    const cancelled = findings.find((f) => f.object.name === CANCELLED)!;
    expect(cancelled).toMatchObject({
      severity: 'warning',
      object: { type: 'index', schema: 'Ledger', table: 'Entry Lines' },
      evidence: { ready: true, unique: false },
    });
    expect(Number(cancelled.evidence.sizeBytes)).toBeGreaterThan(0);
    expect(Number(cancelled.evidence.tableBytes)).toBeGreaterThanOrEqual(1024 * 1024);
  });

  it('stays silent on valid indexes', () => {
    const valid = planted.snapshot.indexes.filter((i) => i.isValid).map((i) => i.name);
    expect(valid).toEqual(expect.arrayContaining(['Entry Lines_pkey', 'Entry Lines_ref', 'building_pkey', 'reindexed_pkey', 'dropping_v_idx']));
    expect(invalidFindings(planted).filter((f) => valid.includes(f.object.name ?? ''))).toEqual([]);
  });

  it('stays silent on builds and a drop in progress, with and without pg_monitor', () => {
    for (const evaluation of [inProgress, inProgressNoMonitor]) {
      const role = evaluation.snapshot.meta.capabilities.pgMonitor ? 'pg_monitor' : 'no pg_monitor';
      expect(names(invalidFindings(evaluation)), role).toEqual([FAILED_UNIQUE, CANCELLED].sort());
      const flags = (name: string) => {
        const i = evaluation.snapshot.indexes.find((x) => x.name === name);
        return i && { isValid: i.isValid, isReady: i.isReady, buildInProgress: i.buildInProgress, dropInProgress: i.dropInProgress };
      };
      expect(flags('building_v_idx'), role).toEqual({ isValid: false, isReady: true, buildInProgress: true, dropInProgress: false });
      expect(flags('reindexed_pkey_ccnew'), role).toEqual({ isValid: false, isReady: false, buildInProgress: true, dropInProgress: false });
      expect(flags('dropping_v_idx'), role).toEqual({ isValid: false, isReady: true, buildInProgress: false, dropInProgress: true });
      expect(flags(CANCELLED), role).toEqual({ isValid: false, isReady: true, buildInProgress: false, dropInProgress: false });
    }
    expect(inProgressNoMonitor.snapshot.meta.capabilities.readAllStats).toBe(false);
  });

  it('still reports only the planted indexes once the held DDL has finished', () => {
    expect(names(invalidFindings(after))).toEqual([FAILED_UNIQUE, CANCELLED].sort());
    const byName = new Map(after.snapshot.indexes.map((i) => [i.name, i]));
    expect(byName.get('building_v_idx')?.isValid).toBe(true);
    expect(byName.get('reindexed_pkey')?.isValid).toBe(true);
    expect(byName.has('reindexed_pkey_ccnew')).toBe(false);
    expect(byName.has('dropping_v_idx')).toBe(false);
  });

  it('recommends SQL that runs as given and fixes the index', async () => {
    const finding = invalidFindings(after).find((f) => f.object.name === CANCELLED)!;
    const statements = finding.recommendation.sql!.split('\n');
    expect(statements).toEqual([
      'DROP INDEX CONCURRENTLY "Ledger"."Entry Lines_amount Ω";',
      'CREATE INDEX CONCURRENTLY "Entry Lines_amount Ω" ON "Ledger"."Entry Lines" USING btree ("Amount €");',
    ]);
    for (const sql of statements) await db.admin.query(sql);
    const fixed = await collectAndEvaluate(monitorUrl);
    expect(names(invalidFindings(fixed))).toEqual([FAILED_UNIQUE]);
    expect(fixed.snapshot.indexes.find((i) => i.name === CANCELLED)).toMatchObject({ isValid: true, isReady: true });
  });
});
