/**
 * sequence-exhaustion on a real PostgreSQL as a pg_monitor-only role: first without SELECT on the sequences
 * (the rule must say it is blind, with the grant, and never look clean), then with the grant: planted
 * sequences near their limit fire, healthy look-alikes stay silent; a window measures the consumption rate;
 * the recommended SQL makes a finding go away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, runWorkload, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

const PLANT = [
  `create schema "Shop"`,
  // Planted: a bigint sequence feeding an integer column (a pre-PostgreSQL-10 serial) at 2.0e9 of 2^31 − 1.
  `create sequence legacy_orders_id_seq`,
  `create table legacy_orders (id integer primary key default nextval('legacy_orders_id_seq'), note text)`,
  `alter sequence legacy_orders_id_seq owned by legacy_orders.id`,
  `select setval('legacy_orders_id_seq', 2000000000)`,
  // Planted: an integer identity column at 1.7e9 (80 % of its own maximum), in a mixed-case schema and table.
  `create table "Shop"."Users" ("Id" integer generated always as identity primary key, name text)`,
  `select setval(pg_get_serial_sequence('"Shop"."Users"', 'Id'), 1717986918)`,
  // Planted: a descending sequence 95 % of the way to its minimum.
  `create sequence countdown increment by -1 minvalue -10001 maxvalue -1 start -1`,
  `select setval('countdown', -9501)`,
  // Healthy: a bigint identity far beyond 2^31 (bigint column, bigint sequence).
  `create table events (id bigint generated always as identity primary key)`,
  `select setval(pg_get_serial_sequence('events', 'id'), 3000000000)`,
  // Healthy: a cycling sequence at 99 % (wraps by design, feeds nothing).
  `create sequence ticket_no maxvalue 1000 cycle`,
  `select setval('ticket_no', 990)`,
  // Healthy: a legacy bigint sequence on an integer column at 10 % of the column.
  `create sequence small_legacy_seq`,
  `create table small_legacy (id integer primary key default nextval('small_legacy_seq'))`,
  `select setval('small_legacy_seq', 214748364)`,
  // Healthy: a never-used serial and a young bigserial.
  `create table fresh (id serial primary key)`,
  `create table busy (id bigserial primary key)`,
  `insert into busy select from generate_series(1, 100)`,
];

const seqFindings = (e: Evaluation): Finding[] => e.findings.filter((f) => f.rule === 'sequence-exhaustion');
const describeFinding = (f: Finding): string => `${f.severity} ${f.object.schema}.${f.object.name}`;

describe('sequence-exhaustion on planted sequences', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let role: string;
  let blind: Evaluation;

  beforeAll(async () => {
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    role = decodeURIComponent(new URL(monitorUrl).username);
    for (const sql of PLANT) await db.admin.query(sql);
    blind = await collectAndEvaluate(monitorUrl);
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('without SELECT on the sequences: no finding, a degraded diagnostic with the grant per schema', () => {
    expect(blind.snapshot.meta.sources.sequences).toMatchObject({ status: 'ok', note: expect.stringContaining('GRANT SELECT ON ALL SEQUENCES') });
    expect(blind.snapshot.sequences).toMatchObject({ sequences: [], total: 8 });
    expect(seqFindings(blind)).toEqual([]);
    expect(blind.diagnostics.filter((d) => d.rule === 'sequence-exhaustion')).toEqual([
      {
        rule: 'sequence-exhaustion',
        status: 'degraded',
        message: expect.stringContaining('8 of 8 sequences'),
        hint: `GRANT SELECT ON ALL SEQUENCES IN SCHEMA "Shop" TO ${role}; GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role};`,
      },
    ]);
  });

  describe('with SELECT on the sequences', () => {
    let seen: Evaluation;
    beforeAll(async () => {
      // Exactly the hint of the blind spot (no USAGE on schema "Shop" needed).
      const hint = blind.diagnostics.find((d) => d.rule === 'sequence-exhaustion')!.hint!;
      for (const grant of hint.split('; ')) await db.admin.query(grant);
      seen = await collectAndEvaluate(monitorUrl);
    }, 60_000);

    it('fires on the three planted sequences, silent on the look-alikes', () => {
      expect(seen.diagnostics.filter((d) => d.rule === 'sequence-exhaustion')).toEqual([]);
      expect(seqFindings(seen).map(describeFinding).sort()).toEqual([
        'critical public.countdown',
        'critical public.legacy_orders_id_seq',
        'warning Shop.Users_Id_seq',
      ]);
      const byName = new Map(seqFindings(seen).map((f) => [f.object.name, f]));
      expect(byName.get('legacy_orders_id_seq')!.evidence).toMatchObject({
        dataType: 'bigint',
        lastValue: '2000000000',
        limitValue: '2147483647',
        limitedBy: 'column',
        usedFraction: 0.9313,
        column: { schema: 'public', table: 'legacy_orders', column: 'id', columnType: 'integer', identity: false },
      });
      expect(byName.get('Users_Id_seq')!.evidence).toMatchObject({
        dataType: 'integer',
        limitedBy: 'sequence',
        usedFraction: 0.8,
        column: { schema: 'Shop', table: 'Users', column: 'Id', identity: true },
      });
      expect(byName.get('Users_Id_seq')!.recommendation.sql).toBe(
        'ALTER TABLE "Shop"."Users" ALTER COLUMN "Id" TYPE bigint;\nALTER SEQUENCE "Shop"."Users_Id_seq" AS bigint;',
      );
      expect(byName.get('countdown')!.evidence).toMatchObject({ descending: true, limitValue: '-10001', usedFraction: 0.95, callsLeft: 500, column: null });
    });

    it('measures the consumption rate over a window', async () => {
      const stop = Date.now() + 2500;
      const [windowed] = await Promise.all([
        collectAndEvaluate(monitorUrl, { windowMs: 2000 }),
        runWorkload(
          db.adminUrl,
          async (c) => {
            await c.query(`select nextval('legacy_orders_id_seq') from generate_series(1, 50)`);
            await new Promise((r) => setTimeout(r, 20));
          },
          { clients: 1, durationMs: stop - Date.now() },
        ),
      ]);
      const legacy = seqFindings(windowed).find((f) => f.object.name === 'legacy_orders_id_seq')!;
      expect(Number(legacy.evidence.valuesPerSecond)).toBeGreaterThan(100);
      expect(Number(legacy.evidence.daysLeft)).toBeGreaterThan(0);
    });

    it('goes silent on the identity column once the recommended SQL ran', async () => {
      const users = seqFindings(seen).find((f) => f.object.name === 'Users_Id_seq')!;
      for (const statement of users.recommendation.sql!.split('\n')) await db.admin.query(statement);
      const after = await collectAndEvaluate(monitorUrl);
      expect(seqFindings(after).map(describeFinding).sort()).toEqual(['critical public.countdown', 'critical public.legacy_orders_id_seq']);
      const { rows } = await db.admin.query(`select data_type from pg_catalog.pg_sequences where sequencename = 'Users_Id_seq'`);
      expect(rows[0].data_type).toBe('bigint');
    });
  });
});
