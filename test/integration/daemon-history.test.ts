/**
 * Sample history across restarts, on a real target, with the store on PGlite and on PostgreSQL: the
 * checkpoint written with each sample lets a new sampler (a restarted daemon, or the replica that takes
 * the target over) diff its first sample against the last stored one — and the stored statement deltas
 * still add up to exactly the calls made, with nothing counted twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { loadDaemonConfig, type DaemonTargetConfig } from '../../src/config/daemon/index.js';
import { encodeCheckpoint } from '../../src/daemon/checkpoint.js';
import { makeSample } from '../support/builders.js';
import { createTargetSampler } from '../../src/daemon/sample-target.js';
import { initSqlParser } from '../../src/sql/index.js';
import type { Store } from '../../src/store/index.js';
import { createTestDatabase, runWorkload, type TestDatabase } from '../support/database.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../support/store.js';

const LOOKUP = 'select * from history_orders where customer_id = $1';

for (const kind of STORE_KINDS) {
  describe(`sample history across restarts (store on ${kind})`, () => {
    let target: TestDatabase;
    let opened: TestStore | undefined;
    let store: Store;
    let monitorUrl = '';
    const ids = new Map<string, number>();

    const targetConfig = (name: string, yaml: string): DaemonTargetConfig =>
      loadDaemonConfig({ file: 'daemon.yaml', text: `targets:\n  - name: ${name}\n    urlEnv: URL\n${yaml}`, env: { URL: monitorUrl }, rules: allRules })
        .targets[0]!;
    const samplerFor = (config: DaemonTargetConfig, warnings: string[] = []) =>
      createTargetSampler({
        store,
        targetId: ids.get(config.name)!,
        config,
        rules: allRules,
        resolveAfterMisses: 2,
        logger: { warn: (_fields: unknown, message?: string) => void warnings.push(message ?? '') },
      });
    const lookups = (n: number) =>
      runWorkload(target.adminUrl, async (c) => void (await c.query(LOOKUP, [3])), { clients: 1, iterations: n, durationMs: 60_000 });
    /** Calls of the lookup in the stored statement deltas of `name` (from `from` on). */
    const storedCalls = async (name: string, from?: string) =>
      (await store.samples.topStatements(ids.get(name)!, { orderBy: 'calls', from: from ? new Date(from) : undefined, limit: 100 }))
        .filter((s) => s.query?.includes('history_orders'))
        .reduce((n, s) => n + s.calls, 0);

    beforeAll(async () => {
      await initSqlParser();
      target = await createTestDatabase();
      await target.admin.query('create table history_orders (id serial primary key, customer_id int)');
      await target.admin.query('insert into history_orders (customer_id) select i % 100 from generate_series(1, 1000) i');
      monitorUrl = await target.createMonitorRole();
      opened = await openTestStore(kind);
      store = opened.store;
      const names = ['restart', 'stale', 'bad'];
      for (const t of await store.targets.syncTargets(names.map((name) => ({ name, maskedUrl: 'x', intervalMs: 60_000 })))) ids.set(t.name, t.id);
      await lookups(1); // the entry exists before the first sample, so its deltas count from then on
    });

    afterAll(async () => {
      await opened?.close();
      await target?.drop();
    });

    it('continues from the checkpoint after a restart; stored deltas add up to the calls made', async () => {
      const config = targetConfig('restart', '    interval: 1m\n    history: 5m\n');
      const first = samplerFor(config);
      expect((await first.sample()).historySamples).toBe(1); // nothing stored yet: gauges only
      await lookups(30);
      expect((await first.sample()).historySamples).toBe(2);
      await first.close(); // the daemon stops, or another replica takes the target over

      await lookups(20);
      const warnings: string[] = [];
      const second = samplerFor(config, warnings);
      const resumed = await second.sample();
      expect(resumed.historySamples).toBe(2); // diffed against the stored checkpoint
      expect(await storedCalls('restart', resumed.collectedAt)).toBe(20);
      expect(await storedCalls('restart')).toBe(50);
      await lookups(10);
      expect((await second.sample()).historySamples).toBe(3); // checkpoint, resumed, this one: the history grows
      expect(await storedCalls('restart')).toBe(60);
      expect(warnings).toEqual([]);
      await second.close();
    });

    it('starts over with gauges only when the checkpoint is older than the history allows', async () => {
      const config = targetConfig('stale', '    interval: 1s\n    history: 0s\n');
      const first = samplerFor(config);
      await first.sample();
      await first.close();
      await lookups(15);
      await new Promise((r) => setTimeout(r, 3000)); // > 2.5 intervals
      const later = samplerFor(config);
      const outcome = await later.sample();
      expect(outcome.historySamples).toBe(1);
      expect(await storedCalls('stale')).toBe(0); // no delta over the gap was stored
      await lookups(5);
      expect((await later.sample()).historySamples).toBe(2); // and it picks up again from there
      expect(await storedCalls('stale')).toBe(5);
      await later.close();
    });

    it('skips an unreadable or foreign checkpoint with a warning and samples on', async () => {
      const config = targetConfig('bad', '    interval: 1m\n');
      const plant = (checkpoint: Uint8Array) =>
        store.samples.recordSample({
          targetId: ids.get('bad')!,
          collectedAt: new Date(Date.now() - 1000),
          durationMs: 1,
          intervalSeconds: null,
          findings: 0,
          diagnostics: [],
          series: [],
          statements: [],
          queryTexts: [],
          checkpoint,
        });
      await plant(Buffer.from('not a checkpoint'));
      const warnings: string[] = [];
      const outcome = await samplerFor(config, warnings).sample();
      expect(outcome.historySamples).toBe(1);
      expect(warnings).toEqual([expect.stringContaining('checkpoint unreadable')]);

      await plant(
        encodeCheckpoint(makeSample({ collectedAt: new Date(Date.now() - 1000).toISOString() }), { database: 'elsewhere', serverVersionNum: 170000 }),
      );
      const foreign: string[] = [];
      const sampler = samplerFor(config, foreign);
      expect((await sampler.sample()).historySamples).toBe(1);
      expect(foreign).toEqual([expect.stringContaining('another database')]);
      await sampler.close();
    });
  });
}
