/**
 * One audit pipeline: the daemon's sample and a chat audit run the enrichments their rules declare, so
 * on a target with hypopg (Debian PostgreSQL 15) both carry a missing-index finding verified with a
 * hypothetical index — not the "install hypopg" hint that only `check` used to avoid.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { loadDaemonConfig } from '../../src/config/daemon/index.js';
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js';
import type { Finding } from '../../src/engine/types.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createStore, type Store } from '../../src/store/index.js';
import { debianHypopgUnavailableReason, startHypopgApp, type DebianCluster } from '../support/sql-debian-cluster.js';
import { INDEX_SCHEMA_SQL, TEXTS } from '../support/sql-plant.js';

const unavailable = debianHypopgUnavailableReason();
if (unavailable) console.warn(`[audit-pipeline-hypopg] skipped: ${unavailable}`);

const until = async (what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.skipIf(unavailable !== null)('daemon sample and chat audit verify index suggestions with hypopg', () => {
  let cluster: DebianCluster;
  let store: Store;
  let daemon: Daemon;

  beforeAll(async () => {
    await initSqlParser();
    const started = await startHypopgApp([
      INDEX_SCHEMA_SQL,
      `create role app login password 'pw'; grant select on all tables in schema public to app;
        create role advisor login password 'pw' in role pg_monitor; grant select on all tables in schema public to advisor;`,
    ]);
    cluster = started.cluster;
    const { roleUrl } = started;
    const app = new pg.Client({ connectionString: roleUrl('app') });
    await app.connect();
    try {
      for (let i = 0; i < 60; i++) await app.query(TEXTS.ordersByCustomer, [(i * 37) % 20_000]);
    } finally {
      await app.end();
    }
    const config = loadDaemonConfig({
      file: 'advisor.yaml',
      text: 'targets:\n  - { name: main, urlEnv: MAIN_URL, interval: 12h }\n',
      env: { MAIN_URL: roleUrl('advisor') },
      rules: allRules,
    });
    store = createStore({ dataDir: 'memory://' });
    await store.migrate();
    daemon = createDaemon({ config, store, rules: allRules, version: 'test', sampleOnStart: false, outboxPump: false });
    await daemon.start();
  });

  afterAll(async () => {
    await daemon?.stop(5000);
    await store?.close();
    cluster?.stop();
  });

  const expectVerified = (finding: Pick<Finding, 'object' | 'evidence' | 'recommendation'> | undefined): void => {
    expect(finding?.object.columns).toEqual(['customer_id']);
    expect(finding?.evidence.verification).toBe('hypopg');
    expect(Number(finding?.evidence.costAfter)).toBeLessThan(Number(finding?.evidence.costBefore) / 2);
    expect(finding?.recommendation.text).not.toMatch(/install hypopg/i);
  };

  it('a daemon sample stores a verified missing-index finding', async () => {
    await daemon.sampleNow('main');
    const { items } = await store.findings.listFindings({ target: 'main', rule: 'missing-index' });
    const orders = items.find((f) => f.object.name === 'orders');
    expectVerified(orders);
  });

  it('a chat audit reports the same verified finding', async () => {
    const record = await daemon.startAudit('main', 0);
    expect(record).toBeDefined();
    await until('the audit to finish', async () => (await store.audits.findAudit(record!.id))?.status !== 'running');
    const audit = await store.audits.findAudit(record!.id);
    expect(audit?.status).toBe('done');
    const findings = (audit?.report?.findings ?? []) as Finding[];
    expectVerified(findings.find((f) => f.rule === 'missing-index' && f.object.name === 'orders'));
  });
});
