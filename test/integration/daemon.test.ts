import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { loadDaemonConfig } from '../../src/config/daemon/index.js';
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createStore, type Store } from '../../src/store/index.js';
import { createTestDatabase, holdConnections, runWorkload, type TestDatabase } from '../support/database.js';

describe('daemon against a real target', () => {
  let target: TestDatabase;
  let store: Store;
  let daemon: Daemon;

  beforeAll(async () => {
    await initSqlParser();
    target = await createTestDatabase();
    await target.admin.query('create table orders (id serial primary key, customer_id int, total numeric)');
    await target.admin.query('insert into orders (customer_id, total) select i % 100, i from generate_series(1, 1000) i');
    // The lookup exists in pg_stat_statements before the first sample, so its delta counts from then on.
    await target.admin.query('select * from orders where customer_id = $1', [1]);
    const monitorUrl = await target.createMonitorRole();
    const config = loadDaemonConfig({
      file: 'daemon.yaml',
      text: `
targets:
  - name: main
    urlEnv: MAIN_URL
    interval: 12h
    rules:
      idle-in-transaction:
        thresholds: { maxIdleSeconds: 1 }
  - name: down
    urlEnv: DOWN_URL
    interval: 12h
    connectTimeout: 500ms
lifecycle:
  resolveAfterMisses: 2
`,
      env: { MAIN_URL: monitorUrl, DOWN_URL: 'postgres://nobody:secret-pw@127.0.0.1:9/nothing' },
      rules: allRules,
    });
    store = createStore({ dataDir: 'memory://' });
    await store.migrate();
    daemon = createDaemon({
      config,
      store,
      rules: allRules,
      version: 'test',
      sampleOnStart: false,
      backoff: { baseMs: 60_000, maxMs: 120_000, openAfterFailures: 2, openForMs: 600_000 },
    });
    await daemon.start();
  });

  afterAll(async () => {
    await daemon?.stop(5000);
    await store?.close();
    await target?.drop();
  });

  it('opens a finding for a planted idle-in-transaction session and resolves it once fixed', async () => {
    const held = await holdConnections(target.adminUrl, 1, {
      applicationName: 'billing-worker',
      setup: async (c) => {
        await c.query('begin');
        await c.query('select count(*) from orders');
      },
    });
    let id = 0;
    try {
      await new Promise((r) => setTimeout(r, 2100));
      await daemon.sampleNow('main');
      // Activity is cluster-wide: other test files' sessions may show up too; ours is billing-worker.
      const mine = async () =>
        (await store.findings.listFindings({ target: 'main', rule: 'idle-in-transaction' })).items.filter((f) => f.object.name === 'billing-worker');
      const open = await mine();
      expect(open).toHaveLength(1);
      expect(open[0]).toMatchObject({ status: 'open', object: { type: 'application', name: 'billing-worker' } });
      id = open[0]!.id;
      // Seen again: same finding, no duplicate.
      await runWorkload(target.adminUrl, async (c) => void (await c.query('select * from orders where customer_id = $1', [7])), { iterations: 50, clients: 1 });
      await daemon.sampleNow('main');
      expect((await mine()).map((f) => f.id)).toEqual([id]);
    } finally {
      await held.release();
    }
    await daemon.sampleNow('main');
    expect((await store.findings.findFinding(id))?.status).toBe('open'); // one miss of two
    await daemon.sampleNow('main');
    const detail = await store.findings.findFinding(id);
    expect(detail).toMatchObject({ status: 'resolved' });
    expect(detail?.events.map((e) => e.kind)).toEqual(['opened', 'resolved']);

    const status = await store.targets.findTarget('main');
    expect(status).toMatchObject({ state: 'ok', consecutiveFailures: 0, owner: daemon.replicaId });
    expect(status?.lastSuccessAt).not.toBeNull();
    expect(status?.serverVersion).toMatch(/^\d+/);
  });

  // Intervals are 12h so that no real tick interferes: samples are driven by sampleNow().
  it('stores series and the statements that ran between samples, with their text once', async () => {
    const tgt = (await store.targets.findTarget('main'))!;
    const series = await store.samples.listSeries(tgt.id, { metrics: ['connections', 'xid_age', 'database_size_bytes'] });
    expect(new Set(series.map((p) => p.metric))).toEqual(new Set(['connections', 'xid_age', 'database_size_bytes']));
    const top = await store.samples.topStatements(tgt.id, { orderBy: 'calls' });
    const lookup = top.find((s) => s.query?.includes('customer_id'));
    expect(lookup).toBeDefined();
    expect(lookup!.calls).toBeGreaterThanOrEqual(50);
    expect(top.some((s) => s.query?.includes('/* pg-advisor */'))).toBe(false);
    expect(await store.samples.countSamples(tgt.id)).toBe(4);
  });

  it('records failures of an unreachable target with backoff, masked errors and an open circuit', async () => {
    await daemon.sampleNow('down');
    let job = daemon.jobStatus('down')!;
    expect(job).toMatchObject({ consecutiveFailures: 1, circuit: 'closed' });
    expect(job.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
    let record = await store.targets.findTarget('down');
    expect(record).toMatchObject({ state: 'failing', consecutiveFailures: 1 });
    expect(record?.lastError).toBeTruthy();
    expect(record?.lastError).not.toContain('secret-pw');
    expect(record?.url).not.toContain('secret-pw');
    await daemon.sampleNow('down');
    job = daemon.jobStatus('down')!;
    expect(job.circuit).toBe('open');
    record = await store.targets.findTarget('down');
    expect(record).toMatchObject({ state: 'circuit-open', consecutiveFailures: 2 });
    expect(daemon.metrics().find((m) => m.target === 'down')).toMatchObject({ errors: 2, samples: 0 });
  });

  it('runs an audit and stores its report', async () => {
    const audit = await daemon.startAudit('main', 0);
    expect(audit).toMatchObject({ status: 'running', target: 'main' });
    for (let i = 0; i < 100; i++) {
      const current = await store.audits.findAudit(audit!.id);
      if (current?.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = await store.audits.findAudit(audit!.id);
    expect(done?.error ?? null).toBeNull();
    expect(done).toMatchObject({ status: 'done' });
    expect(done?.report).toMatchObject({ version: 1 });
    expect(await daemon.startAudit('nope', null)).toBeUndefined();
  });
});
