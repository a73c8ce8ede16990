import { makeReport } from '../support/report-fixtures.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, Severity } from '../../src/engine/types.js';
import { createStoreDatabase, FindingConflictError, InvalidCursorError, migrateStore, type StatementDeltaInput, type Store } from '../../src/store/index.js';
import { createTestDatabase } from '../support/database.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../support/store.js';

function finding(over: Partial<Finding> & { fingerprint: string }): Finding {
  return {
    rule: 'idle-in-transaction',
    severity: 'warning',
    title: 'Sessions idle in transaction',
    summary: 's',
    object: { type: 'application', name: 'app' },
    evidence: { idleSeconds: 90 },
    recommendation: { text: 'commit' },
    impact: {},
    ...over,
  };
}

const T0 = new Date('2026-11-20T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const DAY = 86_400_000;
/** Fine data, resolved findings, audits and unused query texts kept one day; roll-ups the default weeks. */
const ONE_DAY = { samplesMs: DAY, resolvedFindingsMs: DAY, auditsMs: DAY, queryTextsMs: DAY };

for (const kind of STORE_KINDS) {
  describe(`store on ${kind}`, () => {
    let opened: TestStore | undefined;
    let store: Store;
    let targetId = 0;

    beforeAll(async () => {
      opened = await openTestStore(kind, { migrate: false });
      store = opened.store;
      const first = await store.migrate();
      expect(first.applied).toEqual(first.known);
      const again = await store.migrate();
      expect(again.applied).toEqual([]);
      const [t] = await store.targets.syncTargets([{ name: 'main', maskedUrl: 'postgres://u:***@h/db', intervalMs: 15_000 }]);
      targetId = t!.id;
    });

    afterAll(async () => {
      await opened?.close();
    });

    it('syncs targets: updates, disables the ones no longer configured, keeps status', async () => {
      await store.targets.syncTargets([
        { name: 'main', maskedUrl: 'postgres://u:***@h/db', intervalMs: 30_000 },
        { name: 'other', maskedUrl: 'postgres://h/o', intervalMs: 60_000 },
      ]);
      await store.targets.updateStatus('main', { state: 'ok', lastSuccessAt: at(1), consecutiveFailures: 0, serverVersion: '17.10' });
      const list = await store.targets.syncTargets([{ name: 'main', maskedUrl: 'postgres://u:***@h/db', intervalMs: 30_000 }]);
      expect(list.map((t) => t.name)).toEqual(['main']);
      expect(list[0]).toMatchObject({ intervalMs: 30_000, state: 'ok', lastSuccessAt: at(1).toISOString(), serverVersion: '17.10' });
      const all = await store.targets.listTargets({ includeDisabled: true });
      expect(all.find((t) => t.name === 'other')).toMatchObject({ enabled: false, state: 'disabled' });
    });

    it('records samples with series, statement deltas and query texts once per queryid', async () => {
      for (let i = 0; i < 3; i++) {
        await store.samples.recordSample({
          targetId,
          collectedAt: at(i),
          durationMs: 120,
          intervalSeconds: i === 0 ? null : 60,
          findings: 0,
          diagnostics: [],
          series: [
            { metric: 'connections', object: 'active', value: 3 + i },
            { metric: 'xid_age', value: 1000 * i },
          ],
          statements: [
            { queryId: '-9223372036854775808', userName: 'app', toplevel: true, calls: 100, rows: 100, totalExecTimeMs: 50, sharedBlks: 10 },
            { queryId: '42', userName: 'app', toplevel: true, calls: 1, rows: 1, totalExecTimeMs: 900, sharedBlks: 1000 },
          ],
          queryTexts: [
            { queryId: '-9223372036854775808', text: 'select * from orders where customer_id = $1' },
            { queryId: '42', text: 'select count(*) from orders' },
          ],
        });
      }
      expect(await store.samples.countSamples(targetId)).toBe(3);
      const series = await store.samples.listSeries(targetId, { metrics: ['connections'] });
      expect(series.map((p) => p.value)).toEqual([3, 4, 5]);
      expect(series[0]).toMatchObject({ metric: 'connections', object: 'active', at: at(0).toISOString() });
      const byTotal = await store.samples.topStatements(targetId, {});
      expect(byTotal.map((s) => s.queryId)).toEqual(['42', '-9223372036854775808']);
      expect(byTotal[0]).toMatchObject({ calls: 3, totalExecTimeMs: 2700, meanExecTimeMs: 900, samples: 3, query: 'select count(*) from orders' });
      const byCalls = await store.samples.topStatements(targetId, { orderBy: 'calls', from: at(1) });
      expect(byCalls[0]).toMatchObject({ queryId: '-9223372036854775808', calls: 200, samples: 2 });
    });

    it('runs the finding lifecycle: open, seen, severity change, resolved after N misses, reopened', async () => {
      const fp = `fp-${kind}-1`;
      const rules = ['idle-in-transaction'];
      let changes = await store.findings.applySample(targetId, at(0), [finding({ fingerprint: fp })], rules);
      expect(changes.opened).toHaveLength(1);
      const id = changes.opened[0]!;
      changes = await store.findings.applySample(targetId, at(1), [finding({ fingerprint: fp, severity: 'critical' })], rules);
      expect(changes).toMatchObject({ opened: [], escalated: [id] });
      // A sample in which the rule did not run does not count as a miss.
      await store.findings.applySample(targetId, at(2), [], []);
      await store.findings.applySample(targetId, at(3), [], rules, { resolveAfterMisses: 2 });
      let f = await store.findings.findFinding(id);
      expect(f).toMatchObject({ status: 'open', severity: 'critical', lastSeenAt: at(1).toISOString(), firstSeenAt: at(0).toISOString() });
      changes = await store.findings.applySample(targetId, at(4), [], rules, { resolveAfterMisses: 2 });
      expect(changes.resolved).toEqual([id]);
      f = await store.findings.findFinding(id);
      expect(f).toMatchObject({ status: 'resolved', resolvedAt: at(4).toISOString() });
      changes = await store.findings.applySample(targetId, at(5), [finding({ fingerprint: fp })], rules);
      expect(changes).toMatchObject({ opened: [], reopened: [id] });
      f = await store.findings.findFinding(id);
      expect(f?.status).toBe('open');
      expect(f?.resolvedAt).toBeNull();
      expect(f?.events.map((e) => e.kind)).toEqual(['opened', 'severity-changed', 'resolved', 'severity-changed', 'reopened']);
    });

    it('respects acknowledge and snooze; a snoozed finding that escalates reopens', async () => {
      const fp = `fp-${kind}-2`;
      const rules = ['idle-in-transaction'];
      const { opened } = await store.findings.applySample(targetId, at(10), [finding({ fingerprint: fp, severity: 'info' })], rules);
      const id = opened[0]!;
      expect(await store.findings.acknowledge(id, { actor: 'dba', at: at(11) })).toMatchObject({ status: 'acknowledged' });
      await store.findings.applySample(targetId, at(12), [finding({ fingerprint: fp, severity: 'warning' })], rules);
      expect((await store.findings.findFinding(id))?.status).toBe('acknowledged');
      await store.findings.snooze(id, at(100), { actor: 'dba', at: at(13) });
      await store.findings.applySample(targetId, at(14), [finding({ fingerprint: fp, severity: 'warning' })], rules);
      expect(await store.findings.findFinding(id)).toMatchObject({ status: 'snoozed', snoozedUntil: at(100).toISOString() });
      await store.findings.applySample(targetId, at(15), [finding({ fingerprint: fp, severity: 'critical' })], rules);
      const f = await store.findings.findFinding(id);
      expect(f).toMatchObject({ status: 'open', snoozedUntil: null, severity: 'critical' });
      expect(f?.events.at(-1)).toMatchObject({ kind: 'reopened', fromStatus: 'snoozed', toStatus: 'open' });
      expect(f?.events.find((e) => e.kind === 'acknowledged')).toMatchObject({ actor: 'dba' });
      // An expired snooze: seen again after `until` → open.
      await store.findings.snooze(id, at(16), { at: at(15) });
      await store.findings.applySample(targetId, at(17), [finding({ fingerprint: fp, severity: 'critical' })], rules);
      expect((await store.findings.findFinding(id))?.status).toBe('open');
      // Invalid transitions are conflicts; unknown ids are undefined.
      await store.findings.applySample(targetId, at(18), [], rules, { resolveAfterMisses: 1 });
      await expect(store.findings.acknowledge(id)).rejects.toBeInstanceOf(FindingConflictError);
      expect(await store.findings.reopen(id, { actor: 'dba' })).toMatchObject({ status: 'open' });
      expect(await store.findings.acknowledge(999_999)).toBeUndefined();
    });

    it('lists findings by severity then impact with filters and cursor pagination', async () => {
      const [other] = (
        await store.targets.syncTargets([
          { name: 'main', maskedUrl: 'x', intervalMs: 30_000 },
          { name: 'list', maskedUrl: 'y', intervalMs: 30_000 },
        ])
      ).filter((t) => t.name === 'list');
      const severities: Severity[] = ['info', 'warning', 'critical'];
      const drafts = Array.from({ length: 25 }, (_, i) =>
        finding({ fingerprint: `list-${i}`, rule: i % 2 ? 'table-bloat' : 'vacuum-lag', severity: severities[i % 3]!, impact: { dbTimeShare: (i % 5) / 10 } }),
      );
      await store.findings.applySample(other!.id, at(20), drafts, []);
      const seen: number[] = [];
      let cursor: string | undefined;
      const pages: { severity: Severity; impact: number }[] = [];
      do {
        const page = await store.findings.listFindings({ target: 'list' }, { cursor, limit: 7 });
        expect(page.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.items.map((f) => f.id));
        pages.push(...page.items.map((f) => ({ severity: f.severity, impact: f.impact.dbTimeShare ?? 0 })));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(new Set(seen).size).toBe(25);
      const rank = (s: Severity) => severities.indexOf(s);
      for (let i = 1; i < pages.length; i++) {
        const a = pages[i - 1]!;
        const b = pages[i]!;
        expect(rank(a.severity) > rank(b.severity) || (a.severity === b.severity && a.impact >= b.impact)).toBe(true);
      }
      const crit = await store.findings.listFindings({ target: 'list', severity: ['critical'], rule: 'vacuum-lag' });
      expect(crit.items.length).toBeGreaterThan(0);
      expect(crit.items.every((f) => f.severity === 'critical' && f.rule === 'vacuum-lag' && f.target === 'list')).toBe(true);
      expect((await store.findings.listFindings({ target: 'list', since: at(21) })).items).toEqual([]);
      expect((await store.findings.listFindings({ target: 'list', status: ['resolved'] })).items).toEqual([]);
      await expect(store.findings.listFindings({}, { cursor: 'bogus' })).rejects.toBeInstanceOf(InvalidCursorError);
      const counts = await store.findings.countActive();
      expect(counts.filter((c) => c.rule === 'table-bloat').reduce((n, c) => n + c.count, 0)).toBeGreaterThanOrEqual(12);
    });

    it('stores audits', async () => {
      const id = await store.audits.startAudit(targetId, { trigger: 'api', windowMs: 10_000 });
      expect((await store.audits.findAudit(id))?.status).toBe('running');
      await store.audits.finishAudit(id, { report: makeReport([]) });
      const [audit] = await store.audits.listAudits(targetId);
      expect(audit).toMatchObject({ id, target: 'main', status: 'done', windowMs: 10_000, report: { findings: [] } });
    });

    it('leases a target to one owner at a time, and hands it over when expired', async () => {
      expect(await store.leases.tryAcquire('main', 'a', 60_000)).toBe(true);
      expect(await store.leases.tryAcquire('main', 'b', 60_000)).toBe(false);
      expect(await store.leases.tryAcquire('main', 'a', 1)).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(await store.leases.tryAcquire('main', 'b', 60_000)).toBe(true);
      expect(await store.leases.holds('main', 'b')).toBe(true);
      expect(await store.leases.holds('main', 'a')).toBe(false);
      expect(await store.leases.countHeld('b')).toBe(1);
      await store.leases.heartbeat('a');
      await store.leases.heartbeat('b');
      expect(await store.leases.countLiveReplicas(60_000)).toBe(2);
      await new Promise((r) => setTimeout(r, 30));
      await store.leases.heartbeat('b');
      expect(await store.leases.countLiveReplicas(20)).toBe(1);
      await store.leases.releaseAll('b');
      expect(await store.leases.listLeases()).toEqual([]);
      expect(await store.leases.countLiveReplicas(60_000)).toBe(1);
    });

    it('applies retention without touching open findings, and measures its size', async () => {
      const before = await store.samples.countSamples();
      expect(before).toBeGreaterThan(0);
      const result = await store.applyRetention(
        { samplesMs: 86_400_000, resolvedFindingsMs: 86_400_000, auditsMs: 86_400_000, queryTextsMs: 86_400_000 },
        new Date(T0.getTime() + 3 * 86_400_000),
      );
      expect(result.samples).toBe(before);
      expect(result.rolledUp).toBeGreaterThan(0);
      expect(await store.samples.countSamples()).toBe(0);
      expect(await store.samples.listSeries(targetId, {})).toEqual([]);
      // The fine data lives on as hourly roll-ups.
      const hourly = await store.samples.listSeries(targetId, { metrics: ['connections'], resolution: 'hour' });
      expect(hourly).toEqual([{ at: '2026-11-20T10:00:00.000Z', metric: 'connections', object: 'active', value: 4 }]);
      const top = await store.samples.topStatements(targetId, { resolution: 'hour' });
      expect(top[0]).toMatchObject({ queryId: '42', calls: 3, totalExecTimeMs: 2700, samples: 3, query: 'select count(*) from orders' });
      // Idempotent: a second pass leaves the roll-ups as they are; old roll-ups expire with their own retention.
      await store.applyRetention(
        { samplesMs: 86_400_000, resolvedFindingsMs: 86_400_000, auditsMs: 86_400_000, queryTextsMs: 86_400_000 },
        new Date(T0.getTime() + 3 * 86_400_000),
      );
      expect(await store.samples.listSeries(targetId, { metrics: ['connections'], resolution: 'hour' })).toEqual(hourly);
      await store.applyRetention(
        { samplesMs: 86_400_000, resolvedFindingsMs: 86_400_000, auditsMs: 86_400_000, queryTextsMs: 86_400_000, rollupsMs: 86_400_000 },
        new Date(T0.getTime() + 3 * 86_400_000),
      );
      expect(await store.samples.listSeries(targetId, { resolution: 'hour' })).toEqual([]);
      expect((await store.findings.listFindings({ target: 'list' })).items.length).toBeGreaterThan(0);
      expect(await store.sizeBytes()).toBeGreaterThan(0);
    });

    // Retention acts on the whole store, so this runs after the test above, on hours of its own.
    it('reads top statements from hourly roll-ups once the fine data is gone: sums, order, range, limit, texts', async () => {
      const targets = await store.targets.syncTargets(['main', 'list', 'hourly'].map((name) => ({ name, maskedUrl: 'x', intervalMs: 30_000 })));
      const hourlyId = targets.find((t) => t.name === 'hourly')!.id;
      const H = (hour: number, minute = 0) => new Date(Date.UTC(2026, 10, 25, hour, minute));
      const delta = (queryId: string, calls: number, totalExecTimeMs: number, userName = 'app'): StatementDeltaInput => ({
        queryId,
        userName,
        toplevel: true,
        calls,
        rows: calls * 2,
        totalExecTimeMs,
        sharedBlks: calls * 3,
      });
      const record = (id: number, collectedAt: Date, statements: StatementDeltaInput[]) =>
        store.samples.recordSample({
          targetId: id,
          collectedAt,
          durationMs: 10,
          intervalSeconds: 1800,
          findings: 0,
          diagnostics: [],
          series: [],
          statements,
          queryTexts: [
            { queryId: 'heavy', text: 'select * from orders order by created_at' },
            { queryId: 'chatty', text: 'select * from users where id = $1' },
          ].filter((t) => statements.some((s) => s.queryId === t.queryId)),
        });
      // 'heavy': big and rare, every sample; 'chatty': cheap and frequent (two roles in one sample at
      // 08:10); 'slow' only at 10:20, without a stored text. Three hours, five samples.
      await record(hourlyId, H(8, 10), [delta('heavy', 2, 400), delta('chatty', 500, 100), delta('chatty', 100, 20, 'report')]);
      await record(hourlyId, H(8, 40), [delta('heavy', 2, 400), delta('chatty', 500, 100)]);
      await record(hourlyId, H(9, 10), [delta('heavy', 2, 400), delta('chatty', 500, 100)]);
      await record(hourlyId, H(9, 40), [delta('heavy', 2, 400), delta('chatty', 500, 100)]);
      await record(hourlyId, H(10, 20), [delta('heavy', 2, 400), delta('chatty', 500, 100), delta('slow', 1, 1500)]);
      // Another target's statement with the same queryid stays out of this target's sums.
      await record(targetId, H(9, 30), [delta('heavy', 1000, 99_000)]);

      const result = await store.applyRetention(ONE_DAY, new Date(H(10).getTime() + 2 * DAY));
      expect(result.samples).toBe(6);
      expect(await store.samples.topStatements(hourlyId, {})).toEqual([]);

      const top = (options: Parameters<Store['samples']['topStatements']>[1]) => store.samples.topStatements(hourlyId, { resolution: 'hour', ...options });
      const byTotal = await top({});
      expect(byTotal).toEqual([
        {
          queryId: 'heavy',
          query: 'select * from orders order by created_at',
          calls: 10,
          rows: 20,
          totalExecTimeMs: 2000,
          meanExecTimeMs: 200,
          sharedBlks: 30,
          samples: 5,
        },
        { queryId: 'slow', query: null, calls: 1, rows: 2, totalExecTimeMs: 1500, meanExecTimeMs: 1500, sharedBlks: 3, samples: 1 },
        {
          queryId: 'chatty',
          query: 'select * from users where id = $1',
          calls: 2600,
          rows: 5200,
          totalExecTimeMs: 520,
          meanExecTimeMs: 0.2,
          sharedBlks: 7800,
          samples: 5,
        },
      ]);
      expect((await top({ orderBy: 'calls' })).map((s) => s.queryId)).toEqual(['chatty', 'heavy', 'slow']);
      expect((await top({ orderBy: 'mean' })).map((s) => s.queryId)).toEqual(['slow', 'heavy', 'chatty']);
      expect(await top({ orderBy: 'calls', limit: 1 })).toEqual([expect.objectContaining({ queryId: 'chatty', calls: 2600 })]);
      // Range bounds select hours by their start: [09:00, 09:00] is the 09 hour alone.
      expect(await top({ from: H(9), to: H(9) })).toEqual([
        expect.objectContaining({ queryId: 'heavy', calls: 4, totalExecTimeMs: 800, samples: 2 }),
        expect.objectContaining({ queryId: 'chatty', calls: 1000, totalExecTimeMs: 200, samples: 2 }),
      ]);
      expect((await top({ from: H(10) })).map((s) => [s.queryId, s.calls])).toEqual([
        ['slow', 1],
        ['heavy', 2],
        ['chatty', 500],
      ]);
      expect((await top({ to: H(9), orderBy: 'mean' })).map((s) => [s.queryId, s.samples])).toEqual([
        ['heavy', 4],
        ['chatty', 4],
      ]);
      expect(await top({ from: H(11) })).toEqual([]);
      expect(await store.samples.topStatements(targetId, { resolution: 'hour', from: H(0) })).toEqual([
        expect.objectContaining({ queryId: 'heavy', calls: 1000, samples: 1 }),
      ]);
    });

    it('keeps an hourly roll-up whole when retention has since deleted part of its fine data', async () => {
      const [t] = (await store.targets.syncTargets(['main', 'list', 'hourly', 'partial'].map((name) => ({ name, maskedUrl: 'x', intervalMs: 30_000 })))).filter(
        (x) => x.name === 'partial',
      );
      const H = (minute: number) => new Date(Date.UTC(2026, 11, 10, 10, minute));
      for (const minute of [10, 40]) {
        await store.samples.recordSample({
          targetId: t!.id,
          collectedAt: H(minute),
          durationMs: 10,
          intervalSeconds: 1800,
          findings: 0,
          diagnostics: [],
          series: [{ metric: 'connections', object: 'active', value: minute }],
          statements: [{ queryId: 'q', userName: 'app', toplevel: true, calls: 10, rows: 10, totalExecTimeMs: 100, sharedBlks: 1 }],
          queryTexts: [],
        });
      }
      // A day later (fine data kept one day), at 10:30: the 10:00 hour is rolled up, then its 10:10 sample deleted.
      const dayLater = (minute: number) => new Date(H(minute).getTime() + DAY);
      expect((await store.applyRetention(ONE_DAY, dayLater(30))).samples).toBe(1);
      const hourly = async () => ({
        statements: await store.samples.topStatements(t!.id, { resolution: 'hour' }),
        series: await store.samples.listSeries(t!.id, { resolution: 'hour' }),
      });
      const whole = await hourly();
      expect(whole.statements).toEqual([expect.objectContaining({ queryId: 'q', calls: 20, samples: 2 })]);
      expect(whole.series).toEqual([{ at: H(0).toISOString(), metric: 'connections', object: 'active', value: 25 }]);
      // The next pass recomputes the last rolled-up hour from what is left of it: it must not shrink.
      await store.applyRetention(ONE_DAY, dayLater(35));
      expect(await hourly()).toEqual(whole);
    });

    it('rolls up each target from its own watermark: a target whose server clock is behind keeps its hours', async () => {
      const names = ['main', 'list', 'hourly', 'partial', 'ahead', 'behind'];
      const ids = new Map((await store.targets.syncTargets(names.map((name) => ({ name, maskedUrl: 'x', intervalMs: 30_000 })))).map((t) => [t.name, t.id]));
      const H = (hour: number, minute = 0) => new Date(Date.UTC(2026, 11, 20, hour, minute));
      const record = (name: string, at: Date) =>
        store.samples.recordSample({
          targetId: ids.get(name)!,
          collectedAt: at,
          durationMs: 10,
          intervalSeconds: 60,
          findings: 0,
          diagnostics: [],
          series: [{ metric: 'connections', object: 'idle', value: 4 }],
          statements: [{ queryId: `q-${name}`, userName: 'app', toplevel: true, calls: 5, rows: 5, totalExecTimeMs: 50, sharedBlks: 1 }],
          queryTexts: [],
        });
      await record('ahead', H(14, 10));
      await store.applyRetention(ONE_DAY, H(15, 5)); // 'ahead' is rolled up to 14:00
      await record('behind', H(12, 20)); // its server clock is 2 h behind: this sample belongs to 12:00
      await store.applyRetention(ONE_DAY, H(15, 10));
      for (const [name, hour] of [
        ['ahead', 14],
        ['behind', 12],
      ] as const) {
        const id = ids.get(name)!;
        expect(await store.samples.topStatements(id, { resolution: 'hour' }), name).toEqual([expect.objectContaining({ queryId: `q-${name}`, calls: 5 })]);
        expect(await store.samples.listSeries(id, { resolution: 'hour' }), name).toEqual([
          { at: H(hour).toISOString(), metric: 'connections', object: 'idle', value: 4 },
        ]);
      }
    });
  });
}

describe('migrations on postgres', () => {
  it('run from empty, down to zero and up again, and concurrently from several processes', async () => {
    const testDb = await createTestDatabase();
    try {
      const stores = Array.from({ length: 5 }, () => createStoreDatabase({ url: testDb.adminUrl, maxConnections: 2 }));
      try {
        const results = await Promise.all(stores.map((s) => migrateStore(s)));
        const applied = results.flatMap((r) => r.applied);
        expect(applied).toEqual(results[0]!.known);
        await migrateStore(stores[0]!, { direction: 'down-all' });
        const { rows } = await testDb.admin.query(`select count(*)::int as n from pg_tables where schemaname = 'public' and tablename = 'findings'`);
        expect(rows[0].n).toBe(0);
        expect((await migrateStore(stores[1]!)).applied).toHaveLength(results[0]!.known.length);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await testDb.drop();
    }
  });
});
