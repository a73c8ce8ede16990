/**
 * Issue 10, item 10: a restarted daemon reclaims its dead predecessor's leases at once, and the API never
 * shows a target whose owner is gone as healthy. On both store kinds.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { buildApp } from '../../src/api/index.js';
import type { DaemonControl } from '../../src/api/deps.js';
import { findDeadPredecessors, reclaimFromDeadPredecessors } from '../../src/daemon/predecessors.js';
import { createLeaseCoordinator, HEARTBEAT_MS, STALE_HEARTBEATS } from '../../src/daemon/replicas.js';
import { loadDaemonConfig } from '../../src/config/daemon/index.js';
import { createDaemon } from '../../src/daemon/daemon.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createStore, REPLICA_SILENCE_MS, type Store } from '../../src/store/index.js';
import { createTestDatabase } from '../support/database.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../support/store.js';

const HOUR = 3_600_000;
/** The pid of a process that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;
const me = `${hostname()}-${process.pid}`;

it('judges a replica silent after the daemon stops counting it as live', () => {
  expect(REPLICA_SILENCE_MS).toBe(STALE_HEARTBEATS * HEARTBEAT_MS);
});

it('recognises only dead earlier runs on this host as predecessors, and only under the default id', () => {
  const host = hostname();
  const dead = deadPid();
  const known = [`${host}-${dead}`, `${host}-${process.ppid}`, `${host}-${process.pid}`, `elsewhere-${dead}`, 'explicit-id', `${host}-x`];
  expect(findDeadPredecessors(me, known)).toEqual([`${host}-${dead}`]);
  expect(findDeadPredecessors('explicit-id', known)).toEqual([]);
});

for (const kind of STORE_KINDS) {
  describe(`lease take-over and target state on a ${kind} store`, () => {
    let opened: TestStore | undefined;
    let store: Store;
    let app: FastifyInstance | undefined;

    beforeAll(async () => {
      opened = await openTestStore(kind);
      store = opened.store;
    });

    afterAll(async () => {
      await app?.close();
      await opened?.close();
    });

    it("reclaims a dead predecessor's leases at once, for this config's targets only", async () => {
      const predecessor = `${hostname()}-${deadPid()}`;
      const liveNeighbour = `${hostname()}-${process.ppid}`; // same host, still running: never taken from
      await store.targets.syncTargets(['main', 'second', 'elsewhere', 'neighbour'].map((name) => ({ name, maskedUrl: 'postgres://h/db', intervalMs: HOUR })));
      for (const target of ['main', 'second', 'elsewhere']) expect(await store.leases.tryAcquire(target, predecessor, 1.5 * HOUR + 2000)).toBe(true);
      expect(await store.leases.tryAcquire('neighbour', liveNeighbour, HOUR)).toBe(true);
      await store.leases.heartbeat(predecessor);

      const leases = createLeaseCoordinator(store, me, () => 3);
      await leases.heartbeat();
      // Before: the restarted daemon would wait for the lease to expire (here: 1.5 hours).
      expect(await leases.claim('main', HOUR)).toBe(false);

      const reclaimed = await reclaimFromDeadPredecessors(store, me, ['main', 'second', 'neighbour']);
      expect(reclaimed).toEqual({ predecessors: [predecessor], targets: ['main', 'second'] });
      expect(await leases.claim('main', HOUR)).toBe(true);
      expect(await leases.claim('second', HOUR)).toBe(true);
      expect(await leases.claim('neighbour', HOUR)).toBe(false);
      const owners = Object.fromEntries((await store.leases.listLeases()).map((l) => [l.target, l.owner]));
      expect(owners).toEqual({ main: me, second: me, elsewhere: predecessor, neighbour: liveNeighbour });
      // The predecessor's heartbeat is forgotten: it no longer counts as a live replica.
      expect(await store.leases.countLiveReplicas(REPLICA_SILENCE_MS)).toBe(1);
      // An explicit replica id keeps its leases across restarts by itself: nothing to reclaim.
      expect(await reclaimFromDeadPredecessors(store, 'explicit-id', ['elsewhere'])).toEqual({ predecessors: [], targets: [] });
      await store.leases.releaseAll(me);
      await store.leases.releaseAll(liveNeighbour);
      await store.leases.releaseAll(predecessor);
    });

    it('shows a target whose owner is gone or whose lease expired as stale, never ok', async () => {
      const ghost = 'ghost-replica'; // crashed: a lease, no heartbeat
      const peer = 'peer-replica'; // another live replica
      const names = ['mine', 'ghosted', 'peers', 'lapsed', 'ghost-failing', 'peer-failing', 'released', 'new'];
      await store.targets.syncTargets(names.map((name) => ({ name, maskedUrl: 'postgres://h/db', intervalMs: 15_000 })));
      const lastSuccessAt = new Date(Date.now() - 60_000);
      const status = (state: 'ok' | 'failing', owner: string) => ({ state, owner, lastSuccessAt, consecutiveFailures: state === 'ok' ? 0 : 2 });
      await store.leases.heartbeat(me);
      await store.leases.heartbeat(peer);
      await store.leases.tryAcquire('mine', me, HOUR);
      await store.leases.tryAcquire('ghosted', ghost, HOUR);
      await store.leases.tryAcquire('peers', peer, HOUR);
      await store.leases.tryAcquire('lapsed', me, 1);
      await store.leases.tryAcquire('peer-failing', peer, 1);
      await sleep(20);
      await store.targets.updateStatus('mine', status('ok', me));
      await store.targets.updateStatus('ghosted', status('ok', ghost));
      await store.targets.updateStatus('peers', status('ok', peer));
      await store.targets.updateStatus('lapsed', status('ok', me));
      await store.targets.updateStatus('ghost-failing', status('failing', ghost));
      await store.targets.updateStatus('peer-failing', status('failing', peer));
      await store.targets.updateStatus('released', status('ok', ghost)); // a clean stop released its lease

      const daemon: DaemonControl = { replicaId: me, jobStatus: () => undefined, metrics: () => [], startAudit: async () => undefined };
      app = await buildApp({ store, rules: allRules, tokens: [], daemon, pressure: { maxEventLoopDelayMs: 0 } });
      const res = await app.inject('/api/v1/targets');
      expect(res.statusCode).toBe(200);
      const states = Object.fromEntries(
        (res.json().items as { name: string; state: string }[]).filter((t) => names.includes(t.name)).map((t) => [t.name, t.state]),
      );
      expect(states).toEqual({
        mine: 'ok',
        ghosted: 'stale',
        peers: 'ok',
        lapsed: 'stale',
        'ghost-failing': 'stale',
        'peer-failing': 'failing',
        released: 'stale',
        new: 'pending',
      });
      const ghosted = (await app.inject('/api/v1/targets/ghosted')).json();
      expect(ghosted).toMatchObject({ state: 'stale', owner: ghost, lastSuccessAt: lastSuccessAt.toISOString(), leaseExpiresAt: expect.any(String) });
      expect((await app.inject('/api/v1/targets/released')).json()).toMatchObject({ state: 'stale', leaseExpiresAt: null });
      // /metrics agrees: only targets shown ok are up.
      const metrics = (await app.inject('/metrics')).body;
      const up = Object.fromEntries([...metrics.matchAll(/^pg_advisor_target_up\{target="([^"]+)"\} (\d)$/gm)].map((m) => [m[1], Number(m[2])]));
      expect(names.map((n) => up[n])).toEqual(names.map((n) => (states[n] === 'ok' ? 1 : 0)));
      expect(up.ghosted).toBe(0);
    });
  });
}

it("a daemon restarted after a crash samples its targets at once instead of waiting for its own dead run's lease", async () => {
  await initSqlParser();
  const target = await createTestDatabase();
  const store = createStore({ dataDir: 'memory://' });
  try {
    await store.migrate();
    const config = loadDaemonConfig({
      file: 'daemon.yaml',
      text: 'targets:\n  - name: main\n    urlEnv: MAIN_URL\n    interval: 1h\n',
      env: { MAIN_URL: await target.createMonitorRole() },
      rules: allRules,
    });
    expect(config.replica.id).toBe(me); // the default id: this host and process
    // The crashed run: same host, a pid that no longer runs; its lease has 1.5 hours left.
    const crashed = `${hostname()}-${deadPid()}`;
    await store.targets.syncTargets([{ name: 'main', maskedUrl: 'postgres://h/db', intervalMs: HOUR }]);
    expect(await store.leases.tryAcquire('main', crashed, 1.5 * HOUR + 2000)).toBe(true);
    await store.leases.heartbeat(crashed);
    await store.targets.updateStatus('main', { state: 'ok', owner: crashed });

    const daemon = createDaemon({ config, store, rules: allRules, version: 'test', sampleOnStart: false });
    await daemon.start();
    try {
      await daemon.sampleNow('main');
      expect(await store.samples.countSamples()).toBe(1);
      expect(await store.targets.findTarget('main')).toMatchObject({ state: 'ok', owner: me });
      expect((await store.leases.listLeases()).map((l) => [l.target, l.owner])).toEqual([['main', me]]);
    } finally {
      await daemon.stop(5000);
    }
  } finally {
    await store.close();
    await target.drop();
  }
});
