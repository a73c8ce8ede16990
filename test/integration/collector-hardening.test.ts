import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { collectSnapshot, collectWindow, connectTarget, type Target } from '../../src/collector/index.js';
import { loadDaemonConfig } from '../../src/config/daemon/index.js';
import { createDaemon } from '../../src/daemon/daemon.js';
import { createTargetSampler } from '../../src/daemon/sample-target.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { ConnectionError, UsageError } from '../../src/errors/errors.js';
import type { Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy.js';
import { openTestStore } from '../support/store.js';

let db: TestDatabase;
let monitorUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query('create table orders (id serial primary key, customer_id int)');
  await db.admin.query('insert into orders (customer_id) select i % 10 from generate_series(1, 100) i');
  monitorUrl = await db.createMonitorRole();
});

afterAll(async () => {
  await db?.drop();
});

/** Milliseconds `body` took to settle, and how it settled. */
async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    const value = await body();
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('a frozen server (a proxy that stops forwarding, like a SIGSTOPped postmaster)', () => {
  let proxy: FreezableProxy;
  beforeAll(async () => {
    proxy = await startFreezableProxy(monitorUrl);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('a collection fails within the client-side deadline (statement_timeout + grace), and close() is prompt', async () => {
    const target = await connectTarget({ url: proxy.url, statementTimeoutMs: 500, connectTimeoutMs: 1000 });
    expect(target.deadlines?.queryMs).toBe(1500);
    proxy.freeze();
    try {
      const collected = await timed(() => collectSnapshot(target));
      expect(collected.error).toBeInstanceOf(ConnectionError);
      expect((collected.error as Error).message).toMatch(/did not answer within 1500 ms \(statement_timeout is 500 ms\)/);
      expect(collected.ms).toBeGreaterThanOrEqual(1400);
      expect(collected.ms).toBeLessThan(4000);
      const window = await timed(() => collectWindow(target, { durationMs: 3000 }));
      expect(window.error).toBeInstanceOf(Error); // a new session cannot even start: connect timeout or deadline
      expect(window.ms).toBeLessThan(3000);
    } finally {
      const closed = await timed(() => target.close());
      expect(closed.ms).toBeLessThan(1500);
    }
  });

  it('close() returns promptly while a statement waits on the frozen server, and that statement fails', async () => {
    const fresh = await startFreezableProxy(monitorUrl);
    try {
      const target = await connectTarget({ url: fresh.url, statementTimeoutMs: 5000 });
      fresh.freeze();
      const pending = target.query('select /* pg-advisor */ 1 as one').then(
        () => 'answered',
        () => 'failed',
      );
      await new Promise((r) => setTimeout(r, 100));
      const closed = await timed(() => target.close());
      expect(closed.ms).toBeLessThan(1500);
      const outcome = await timed(() => pending);
      expect(outcome.value).toBe('failed');
      expect(outcome.ms).toBeLessThan(500); // failed by the close, long before its 7.5 s deadline
    } finally {
      await fresh.close();
    }
  });

  it("the daemon sampler's sample() rejects within the deadline and close() is prompt", async () => {
    const fresh = await startFreezableProxy(monitorUrl);
    // The sample fails before it records anything: a store that throws on any use proves it (and costs nothing).
    const untouched = new Proxy(
      {},
      {
        get: (_, key) => {
          throw new Error(`the store was used (${String(key)}) by a failed sample`);
        },
      },
    ) as Store;
    const config = loadDaemonConfig({
      file: 'daemon.yaml',
      text: 'targets:\n  - name: frozen\n    urlEnv: URL\n    interval: 1h\n    statementTimeout: 500ms\n    connectTimeout: 1s\n',
      env: { URL: fresh.url },
      rules: allRules,
    }).targets[0]!;
    const sampler = createTargetSampler({ store: untouched, targetId: 1, config, rules: allRules, resolveAfterMisses: 2 });
    try {
      await sampler.withTarget(async () => {}); // connected while the server still answers
      fresh.freeze();
      const sampled = await timed(() => sampler.sample());
      expect(sampled.error).toBeInstanceOf(ConnectionError);
      expect(sampled.ms).toBeLessThan(4000);
    } finally {
      const closed = await timed(() => sampler.close());
      expect(closed.ms).toBeLessThan(1500);
      await fresh.close();
    }
  });
});

describe('the daemon against a target that freezes', () => {
  it('the sample fails within the deadline, the circuit opens, the target is not left `ok`, and stop() is prompt', async () => {
    const frozen = await startFreezableProxy(monitorUrl);
    const opened = await openTestStore('postgres');
    const config = loadDaemonConfig({
      file: 'daemon.yaml',
      text: 'targets:\n  - name: frozen\n    urlEnv: URL\n    interval: 1h\n    statementTimeout: 500ms\n    connectTimeout: 1s\n',
      env: { URL: frozen.url },
      rules: allRules,
    });
    const daemon = createDaemon({
      config,
      store: opened.store,
      rules: allRules,
      version: 'test',
      sampleOnStart: false,
      outboxPump: false,
      backoff: { baseMs: 60_000, maxMs: 120_000, openAfterFailures: 1, openForMs: 600_000 },
    });
    let stopped = false;
    try {
      await daemon.start();
      await daemon.sampleNow('frozen');
      expect(daemon.jobStatus('frozen')).toMatchObject({ consecutiveFailures: 0, circuit: 'closed' });
      frozen.freeze();
      const sampled = await timed(() => daemon.sampleNow('frozen'));
      expect(sampled.ms).toBeLessThan(4000);
      expect(daemon.jobStatus('frozen')).toMatchObject({ consecutiveFailures: 1, circuit: 'open' });
      expect(daemon.jobStatus('frozen')?.lastError).toMatch(/did not answer within 1500 ms/);
      expect((await opened.store.targets.findTarget('frozen'))?.state).toBe('circuit-open');
      const stopping = await timed(() => daemon.stop(2000));
      stopped = true;
      expect(stopping.ms).toBeLessThan(3000);
    } finally {
      if (!stopped) await daemon.stop(2000).catch(() => {});
      await opened.close();
      await frozen.close();
    }
  });
});

describe('a connection URL cannot switch the safety settings off', () => {
  const withParams = (params: Record<string, string>): string => {
    const url = new URL(monitorUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.toString();
  };

  it.each([
    [{ statement_timeout: '0' }, 'statement_timeout'],
    [{ options: '-c statement_timeout=0' }, 'options: statement_timeout'],
    [{ statement_timeout: '3600000', lock_timeout: '600000' }, 'lock_timeout'],
    [{ options: '-c default_transaction_read_only=off' }, 'options: default_transaction_read_only'],
    [{ application_name: 'someone-else' }, 'application_name'],
    [{ idle_in_transaction_session_timeout: '0' }, 'idle_in_transaction_session_timeout'],
  ])('%o is refused before connecting, naming %s', async (params, named) => {
    const error = await connectTarget({ url: withParams(params) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(named);
    expect((error as UsageError).hint).toMatch(/remove .* from the URL/);
    expect((error as UsageError).message).not.toContain(new URL(monitorUrl).password);
  });

  it('other options pass, and every safety setting is in force on the session', async () => {
    const target = await connectTarget({ url: withParams({ options: '-c search_path=public' }), statementTimeoutMs: 4000 });
    try {
      const [row] = await target.query<Record<string, string>>(
        `select /* pg-advisor */ current_setting('statement_timeout') as st, current_setting('lock_timeout') as lt,
           current_setting('idle_in_transaction_session_timeout') as it, current_setting('default_transaction_read_only') as ro,
           current_setting('application_name') as app, current_setting('search_path') as sp`,
      );
      expect(row).toEqual({ st: '4s', lt: '1s', it: '10s', ro: 'on', app: 'pg-advisor', sp: 'public' });
    } finally {
      await target.close();
    }
  });
});

describe('a source that fails is `failed`, not `unavailable`, and its rules are errors, not skipped', () => {
  it('a timeout in the statements source stops n-plus-one and missing-index with an error naming the source', async () => {
    const real = await connectTarget({ url: monitorUrl, statementTimeoutMs: 500 });
    const slowStatements: Target = {
      query: (sql, params) =>
        sql.includes('pg_stat_statements(showtext := false)') ? real.query('select /* pg-advisor */ pg_sleep(2)') : real.query(sql, params),
      close: () => real.close(),
    };
    try {
      const snapshot = await collectSnapshot(slowStatements);
      expect(snapshot.meta.sources.statements).toMatchObject({ status: 'failed', reason: expect.stringContaining('57014') });
      expect(snapshot.meta.sources.tables).toEqual({ status: 'ok' });
      const rules = allRules.filter((r) => ['n-plus-one', 'missing-index', 'invalid-index'].includes(r.id));
      const result = evaluateRules({ rules, snapshot, window: null });
      expect(result.evaluated).toEqual(['invalid-index']);
      expect(result.diagnostics).toEqual([
        expect.objectContaining({ rule: 'n-plus-one', source: 'statements', status: 'error' }),
        expect.objectContaining({ rule: 'missing-index', source: 'statements', status: 'error' }),
      ]);
    } finally {
      await slowStatements.close();
    }
  });
});
