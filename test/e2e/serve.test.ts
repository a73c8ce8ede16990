import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, holdConnections, runWorkload, type TestDatabase } from '../support/database.js';
import { api, authHeaders, killServed, startServe, until, type Served } from './serve-support.js';

interface FindingBody {
  id: number;
  status: string;
  target: string;
  firstSeenAt: string;
}
interface TargetBody {
  name: string;
  owner: string | null;
  state: string;
  lastSuccessAt: string | null;
}

describe('serve end to end', { timeout: 240_000 }, () => {
  let target: TestDatabase;
  let dir: string;
  const children: Served[] = [];

  beforeAll(async () => {
    target = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'pg-advisor-e2e-'));
  });

  afterAll(async () => {
    killServed(children);
    await target?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'finds a planted problem, survives kill -9 without duplicates or lost history, resolves it, backs ' + 'off while the target is away, and stops on SIGTERM',
    async () => {
      const monitorUrl = await target.createMonitorRole();
      const config = join(dir, 'advisor.yaml');
      writeFileSync(
        config,
        `targets:\n  - name: main\n    urlEnv: MAIN_URL\n    interval: 5s\n    rules:\n      ` +
          `idle-in-transaction:\n        thresholds: { maxIdleSeconds: 1 }\nlifecycle:\n  resolveAfterMisses: 2\n`,
      );
      const env = { MAIN_URL: monitorUrl, ADVISOR_STORE_DIR: join(dir, 'store') };
      const held = await holdConnections(target.adminUrl, 1, {
        applicationName: 'e2e-worker',
        setup: async (c) => {
          await c.query('begin');
          await c.query('select 1');
        },
      });
      let first = await startServe(config, env);
      children.push(first);
      // Activity is cluster-wide: other tests' idle sessions may be reported too; ours is e2e-worker.
      const planted = async (served: Served) =>
        (await api<{ items: (FindingBody & { object: { name?: string } })[] }>(served, '/api/v1/findings?rule=idle-in-transaction&target=main')).items.filter(
          (f) => f.object.name === 'e2e-worker',
        );
      const [found] = await until('the planted finding', async () => {
        const items = await planted(first);
        return items.length > 0 && items;
      });
      expect(found).toMatchObject({ status: 'open', target: 'main' });
      const seriesBefore = await api<{ series: { points: unknown[] }[] }>(first, '/api/v1/targets/main/series?metric=connections');
      const pointsBefore = seriesBefore.series.reduce((n, s) => n + s.points.length, 0);
      expect(pointsBefore).toBeGreaterThan(0);

      // Calls made while the daemon is down count in the first sample after the restart: it diffs against
      // the checkpoint stored with the last sample instead of starting with gauges only.
      const lookup = (n: number) =>
        runWorkload(target.adminUrl, async (c) => void (await c.query('select * from e2e_orders where customer_id = $1', [1])), {
          clients: 1,
          iterations: n,
          durationMs: 60_000,
        });
      await target.admin.query('create table e2e_orders (id int primary key, customer_id int)');
      await lookup(1);
      const lookupAt = new Date();
      await until('a sample that saw the lookup', async () => {
        const t = await api<TargetBody>(first, '/api/v1/targets/main');
        return t.lastSuccessAt !== null && new Date(t.lastSuccessAt) > lookupAt;
      });
      first.proc.kill('SIGKILL');
      await first.exited;
      await lookup(40);
      const restartedAt = new Date();
      first = await startServe(config, env);
      children.push(first);
      await until('a sample after the restart', async () => {
        const t = await api<TargetBody>(first, '/api/v1/targets/main');
        return t.lastSuccessAt !== null && new Date(t.lastSuccessAt) > restartedAt;
      });
      const since = await api<{ items: { query: string | null; calls: number }[] }>(
        first,
        `/api/v1/targets/main/statements?orderBy=calls&limit=100&from=${encodeURIComponent(restartedAt.toISOString())}`,
      );
      expect(since.items.find((s) => s.query?.includes('e2e_orders'))?.calls).toBeGreaterThanOrEqual(40);
      const after = await planted(first);
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({ id: found!.id, firstSeenAt: found!.firstSeenAt, status: 'open' });
      const seriesAfter = await api<{ series: { points: unknown[] }[] }>(first, '/api/v1/targets/main/series?metric=connections');
      expect(seriesAfter.series.reduce((n, s) => n + s.points.length, 0)).toBeGreaterThan(pointsBefore);

      await held.release();
      const resolved = await until('the finding to resolve', async () => {
        const f = await api<FindingBody & { events: { kind: string }[] }>(first, `/api/v1/findings/${found!.id}`);
        return f.status === 'resolved' && f;
      });
      expect(resolved.events.map((e) => e.kind)).toEqual(['opened', 'resolved']);

      // Take the target away (its role may no longer log in; its sessions are ended): backoff and status.
      const role = decodeURIComponent(new URL(monitorUrl).username);
      await target.admin.query(`alter role ${role} nologin`);
      await target.admin.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1', [role]);
      const failing = await until('the target to be reported failing', async () => {
        const t = await api<TargetBody & { consecutiveFailures: number; lastError: string | null; nextRunAt: string | null }>(first, '/api/v1/targets/main');
        return t.state === 'failing' && t;
      });
      expect(failing.consecutiveFailures).toBeGreaterThanOrEqual(1);
      expect(failing.lastError).toBeTruthy();
      expect(new Date(failing.nextRunAt!).getTime()).toBeGreaterThan(Date.now() - 1000);
      await target.admin.query(`alter role ${role} login`);
      const recovered = await until('the target to recover', async () => {
        const t = await api<TargetBody & { consecutiveFailures: number }>(first, '/api/v1/targets/main');
        return t.state === 'ok' && t;
      });
      expect(recovered.consecutiveFailures).toBe(0);

      const metrics = await fetch(`${first.url}/metrics`, { headers: authHeaders }).then((r) => r.text());
      expect(metrics).toMatch(/pg_advisor_samples_total\{target="main"\} [1-9]/);
      expect(metrics).toMatch(/pg_advisor_sample_errors_total\{target="main"\} [1-9]/);

      first.proc.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    },
  );

  it('two replicas on one PostgreSQL store split the targets and take over from a killed one', async () => {
    const storeDb = await createTestDatabase();
    try {
      // One role per target (the collector caps advisor sessions per role); created one by one:
      // concurrent GRANTs on one database fail with "tuple concurrently updated".
      const urls: string[] = [];
      for (let i = 0; i < 4; i++) urls.push(await target.createMonitorRole());
      const config = join(dir, 'replicas.yaml');
      writeFileSync(config, `targets:\n${urls.map((_, i) => `  - name: t${i}\n    urlEnv: T${i}_URL\n    interval: 5s\n`).join('')}`);
      const env = { ADVISOR_STORE_URL: storeDb.adminUrl, ...Object.fromEntries(urls.map((u, i) => [`T${i}_URL`, u])) };
      const a = await startServe(config, { ...env, ADVISOR_REPLICA_ID: 'replica-a' });
      const b = await startServe(config, { ...env, ADVISOR_REPLICA_ID: 'replica-b' });
      children.push(a, b);
      // Both replicas start; within a couple of intervals each samples its fair share (2 of 4).
      let lastLeases = '';
      const leases = await until(
        'the targets divided between the replicas',
        async () => {
          const { rows } = await storeDb.admin.query<{ target_name: string; owner: string }>(
            'select target_name, owner from target_leases where expires_at > now() order by 1',
          );
          const perOwner = new Map<string, number>();
          for (const r of rows) perOwner.set(r.owner, (perOwner.get(r.owner) ?? 0) + 1);
          lastLeases = JSON.stringify(rows);
          return rows.length === 4 && perOwner.get('replica-a') === 2 && perOwner.get('replica-b') === 2 && rows;
        },
        { lastSeen: () => lastLeases },
      );
      expect(leases.map((l) => l.target_name)).toEqual(['t0', 't1', 't2', 't3']);
      const { items: owned } = await api<{ items: TargetBody[] }>(a, '/api/v1/targets');
      expect(owned.every((t) => t.lastSuccessAt !== null)).toBe(true);

      const victim = leases[0]!.owner;
      const survivor = victim === 'replica-a' ? b : a;
      (victim === 'replica-a' ? a : b).proc.kill('SIGKILL');
      const killedAt = new Date();
      let lastTargets = '';
      await until(
        'the survivor to take over every target',
        async () => {
          const { items } = await api<{ items: TargetBody[] }>(survivor, '/api/v1/targets');
          lastTargets = JSON.stringify(items.map((t) => [t.name, t.owner, t.lastSuccessAt]));
          return items.every((t) => t.owner !== victim && t.lastSuccessAt && new Date(t.lastSuccessAt) > killedAt) && items;
        },
        { lastSeen: () => lastTargets },
      );
      const takeoverSeconds = (Date.now() - killedAt.getTime()) / 1000;
      console.log(`[e2e] takeover after kill -9: ${takeoverSeconds.toFixed(1)} s (interval 5 s, lease ttl 9.5 s, replica stale after 10 s)`);
      survivor.proc.kill('SIGTERM');
      expect(await survivor.exited).toBe(0);
    } finally {
      await storeDb.drop();
    }
  });
});
