/**
 * replication-slot on a real PostgreSQL as a pg_monitor-only role: a physical slot that reserved WAL and has
 * no consumer fires once WAL is written after it; a slot that reserves nothing yet stays silent; the generated
 * pg_drop_replication_slot silences it. Slots are cluster-wide and the test server is shared, so the slots get
 * random names, only they are asserted, and they are dropped at the end. Thresholds are lowered through the
 * rule settings (4 MiB instead of 64 MiB; no inactivity delay).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { evaluateRules, type RuleSettings } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

const MiB = 1024 * 1024;
const suffix = randomBytes(4).toString('hex');
const STALE = `stale_standby_${suffix}`;
const FUTURE = `future_standby_${suffix}`;
const SETTINGS: Readonly<Record<string, RuleSettings>> = {
  'replication-slot': { thresholds: { inactiveRetainedBytes: 4 * MiB, minInactiveSeconds: 0 } },
};
const ours = (e: Evaluation): Finding[] => e.findings.filter((f) => f.rule === 'replication-slot' && [STALE, FUTURE].includes(f.object.name ?? ''));

describe('replication-slot on planted slots', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let before: Evaluation;

  beforeAll(async () => {
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    await db.admin.query(`select pg_create_physical_replication_slot($1, true)`, [STALE]);
    await db.admin.query(`select pg_create_physical_replication_slot($1)`, [FUTURE]);
    await db.admin.query(`create table wal_filler (id int, filler text)`);
    await db.admin.query(`insert into wal_filler select g, repeat('x', 500) from generate_series(1, 20000) g`);
    before = await collectAndEvaluate(monitorUrl, { settings: SETTINGS });
  }, 60_000);

  afterAll(async () => {
    for (const name of [STALE, FUTURE]) {
      await db?.admin.query(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1`, [name]);
    }
    await db?.drop();
  });

  it('fires on the inactive slot keeping WAL, silent on the slot that reserves none', () => {
    expect(before.snapshot.meta.sources.replication).toEqual({ status: 'ok' });
    expect(before.diagnostics.filter((d) => d.rule === 'replication-slot')).toEqual([]);
    expect(ours(before).map((f) => `${f.severity} ${f.object.name}`)).toEqual([`warning ${STALE}`]);
    const [finding] = ours(before);
    expect(finding!.evidence).toMatchObject({ reasons: ['inactive'], slotType: 'physical', active: false, walStatus: 'reserved', xminAge: null });
    expect(Number(finding!.evidence.retainedBytes)).toBeGreaterThanOrEqual(4 * MiB);
    expect(finding!.recommendation.sql).toBe(`SELECT pg_drop_replication_slot('${STALE}');`);
  });

  it('stays silent under the default 64 MiB (about 12 MiB of WAL was written)', () => {
    const { findings } = evaluateRules({ rules: allRules, snapshot: before.snapshot, window: null });
    expect(ours({ ...before, findings })).toEqual([]);
  });

  it('goes silent once the recommended SQL ran', async () => {
    await db.admin.query(ours(before)[0]!.recommendation.sql!);
    const after = await collectAndEvaluate(monitorUrl, { settings: SETTINGS });
    expect(ours(after)).toEqual([]);
    expect(after.snapshot.replication!.slots.some((s) => s.name === STALE)).toBe(false);
  });
});
