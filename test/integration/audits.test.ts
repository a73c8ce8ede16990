/**
 * Scheduled audits that post to chat, in-process against a real target, with a real HTTP receiver on
 * loopback standing in for a generic webhook and a Slack incoming webhook. The target really changes
 * between audits (idle-in-transaction sessions held by pg clients appear and end), and the messages say
 * so; the generic webhook's signature is verified on the raw body; a 500 is retried and delivered once;
 * a daemon stopped after writing its outbox and before sending delivers it after a restart, once per
 * idempotency key. Runs with the store on PGlite and on PostgreSQL.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { buildApp } from '../../src/api/index.js';
import { describeDaemonConfig, loadDaemonConfig, type DaemonConfig } from '../../src/config/daemon/index.js';
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { UsageError } from '../../src/errors/errors.js';
import { verifyWebhookSignature, type DigestItem } from '../../src/notify/index.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createStore, type Store } from '../../src/store/index.js';
import { createTestDatabase, holdConnections, type TestDatabase } from '../support/database.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../support/store.js';

const SECRET = 'webhook-secret-0123456789';
const ADMIN = 'admin-token-0123456789';
const READ = 'read-token-0123456789ab';
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Received {
  readonly route: string;
  readonly key: string;
  readonly raw: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly status: number;
}

let receiver: FastifyInstance;
let base = '';
const received: Received[] = [];
/** Status codes to answer next, per route (then 200). */
const script = new Map<string, number[]>();

beforeAll(async () => {
  await initSqlParser();
  receiver = Fastify({ forceCloseConnections: true });
  // The raw body, exactly as sent: the signature covers these bytes.
  receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  receiver.post('/*', async (req, reply) => {
    const route = req.url.split('/')[1] ?? '';
    const status = script.get(route)?.shift() ?? 200;
    received.push({ route, key: String(req.headers['idempotency-key']), raw: String(req.body), headers: req.headers, status });
    return reply.code(status).send(status === 200 ? 'ok' : 'boom');
  });
  base = await receiver.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await receiver?.close();
});

beforeEach(() => {
  received.length = 0;
  script.clear();
});

const delivered = (route: string) => received.filter((r) => r.route === route && r.status === 200);

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; received: ${received.map((r) => `${r.route}:${r.status}`).join(', ')}`);
}

function configFor(monitorUrl: string, hookRoute: string, slackRoute: string): DaemonConfig {
  return loadDaemonConfig({
    file: 'advisor.yaml',
    text: `
targets:
  - name: main
    urlEnv: MAIN_URL
    interval: 12h
    rules:
      idle-in-transaction:
        thresholds: { maxIdleSeconds: 1 }
destinations:
  - name: hook
    kind: webhook
    urlEnv: HOOK_URL
    secret: { env: HOOK_SECRET }
  - name: team-chat
    kind: slack
    urlEnv: SLACK_URL
publicBaseUrl: https://advisor.example.com
audits:
  window: 0s
  schedules:
    - name: nightly
      cron: "0 0 3 * * *"
      timezone: Europe/Berlin
      minSeverity: warning
      destinations: [hook, team-chat]
delivery:
  pollInterval: 1s
  timeout: 5s
`,
    env: { MAIN_URL: monitorUrl, HOOK_URL: `${base}/${hookRoute}`, HOOK_SECRET: SECRET, SLACK_URL: `${base}/${slackRoute}/T000/B000/xoxsecretpath` },
    rules: allRules,
  });
}

/** A session of `app` idle in a transaction, held open until released. */
async function idleSession(url: string, app: string) {
  return holdConnections(url, 1, {
    applicationName: app,
    setup: async (c: pg.Client) => {
      await c.query('begin');
      await c.query('select 1');
    },
  });
}

interface WebhookMessage {
  type: string;
  headline: string;
  digest: { firstAudit: boolean; new: DigestItem[]; resolved: DigestItem[]; escalated: DigestItem[]; stillOpen: { items: DigestItem[] }[] };
}

const mentions = (items: readonly DigestItem[], app: string) => items.some((i) => i.object.includes(`'${app}'`));

for (const kind of STORE_KINDS) {
  describe(`audits to chat (store on ${kind})`, () => {
    let target: TestDatabase;
    let opened: TestStore | undefined;
    let store: Store;
    let daemon: Daemon;
    let app: FastifyInstance;
    const hook = `hook-${kind}`;
    const slack = `slack-${kind}`;
    const appA = `billing-a-${kind}`;
    const appB = `billing-b-${kind}`;

    beforeAll(async () => {
      target = await createTestDatabase();
      const monitorUrl = await target.createMonitorRole();
      opened = await openTestStore(kind);
      store = opened.store;
      const config = configFor(monitorUrl, hook, slack);
      daemon = createDaemon({ config, store, rules: allRules, version: 'test', sampleOnStart: false });
      await daemon.start();
      app = await buildApp({
        store,
        rules: allRules,
        daemon,
        tokens: [
          { name: 'ops', scope: 'admin', token: ADMIN },
          { name: 'grafana', scope: 'read', token: READ },
        ],
        pressure: { maxEventLoopDelayMs: 0 },
      });
    });

    afterAll(async () => {
      await app?.close();
      await daemon?.stop(5000);
      await opened?.close();
      await target?.drop();
    });

    it('posts what changed between audits: new, then new and resolved; signed; retried after a 500, delivered once', async () => {
      // Audit 0: the baseline (a first audit lists everything as open).
      await daemon.runAuditSchedule('nightly');
      await until('the baseline messages', () => delivered(hook).length === 1 && delivered(slack).length === 1);
      const baseline = JSON.parse(delivered(hook)[0]!.raw) as WebhookMessage;
      expect(baseline.digest.firstAudit).toBe(true);

      // Audit 1, through the API (same path as the schedule): session A idle in transaction appeared.
      const a = await idleSession(target.adminUrl, appA);
      let aOpen = true;
      let b: Awaited<ReturnType<typeof idleSession>> | undefined;
      try {
        await sleep(1500);
        script.set(hook, [500]); // the receiver fails once, then accepts
        const res = await app.inject({ method: 'POST', url: '/api/v1/targets/main/audits', headers: auth(ADMIN), payload: { window: '0' } });
        expect(res.statusCode).toBe(202);
        const auditId = res.json().id as number;
        await until('audit 1 messages', () => delivered(hook).length === 2 && delivered(slack).length === 2);
        const hookRequests = received.filter((r) => r.route === hook);
        expect(hookRequests.map((r) => r.status)).toEqual([200, 500, 200]);
        // The retry is the same message: same idempotency key, same body, re-signed.
        expect(hookRequests[1]!.key).toBe(hookRequests[2]!.key);
        expect(hookRequests[1]!.raw).toBe(hookRequests[2]!.raw);
        // Sent exactly as rendered (the outbox keeps the payload's bytes in order).
        expect(hookRequests[2]!.raw.startsWith('{"type":"pg-advisor.audit","version":1,"headline":')).toBe(true);
        const first = JSON.parse(hookRequests[2]!.raw) as WebhookMessage;
        expect(first.type).toBe('pg-advisor.audit');
        expect(first.digest.firstAudit).toBe(false);
        expect(mentions(first.digest.new, appA)).toBe(true);
        expect(mentions(first.digest.resolved, appA)).toBe(false);

        // Audit 2, on schedule: session B appeared, session A ended. A sample first, so the finding has an id (links).
        b = await idleSession(target.adminUrl, appB);
        await a.release();
        aOpen = false;
        await sleep(1500);
        await daemon.sampleNow('main');
        await daemon.runAuditSchedule('nightly');
        await until('audit 2 messages', () => delivered(hook).length === 3 && delivered(slack).length === 3);
        const second = JSON.parse(delivered(hook)[2]!.raw) as WebhookMessage;
        expect(mentions(second.digest.new, appB)).toBe(true);
        expect(mentions(second.digest.resolved, appA)).toBe(true);
        expect(mentions(second.digest.new, appA)).toBe(false);
        const newB = second.digest.new.find((i) => i.object.includes(`'${appB}'`))!;
        expect(newB).toMatchObject({ rule: 'idle-in-transaction', severity: 'warning' });
        expect(newB.url).toMatch(/^https:\/\/advisor\.example\.com\/api\/v1\/findings\/\d+$/);
        expect(second.headline).toMatch(/\d+ new, .*\d+ resolved/);

        // Slack: the same change in Block Kit sections.
        const slackBody = JSON.parse(delivered(slack)[2]!.raw) as { text: string; blocks: { type: string; text?: { text: string } }[] };
        const section = (title: string) => slackBody.blocks.find((bl) => bl.type === 'section' && bl.text?.text.startsWith(`*${title}`))?.text?.text ?? '';
        expect(section('🆕 New')).toContain(appB);
        expect(section('✅ Resolved')).toContain(appA);
        expect(slackBody.text).toBe(second.headline);

        // Every webhook request is signed over its raw body; a tampered body fails the check.
        for (const r of received.filter((x) => x.route === hook)) {
          const input = {
            secret: SECRET,
            body: r.raw,
            timestamp: String(r.headers['x-pg-advisor-timestamp']),
            signature: String(r.headers['x-pg-advisor-signature']),
            nowSeconds: Math.floor(Date.now() / 1000),
          };
          expect(verifyWebhookSignature(input)).toBe(true);
          expect(verifyWebhookSignature({ ...input, body: r.raw.replace('pg-advisor', 'pg-advisers') })).toBe(false);
          expect(verifyWebhookSignature({ ...input, secret: 'another-secret-0123456789' })).toBe(false);
        }
        // Once per idempotency key per destination; audits × destinations distinct keys.
        const keys = [...delivered(hook), ...delivered(slack)].map((r) => r.key);
        expect(new Set(keys).size).toBe(6);

        // The API lists the audits with their deliveries; /metrics counts them per destination.
        const audits = (await app.inject({ url: '/api/v1/targets/main/audits', headers: auth(READ) })).json().items as {
          id: number;
          trigger: string;
          status: string;
          deliveries: { destination: string; status: string; attempts: number; httpStatus: number | null; lastError: string | null }[];
        }[];
        expect(audits.map((x) => x.trigger)).toEqual(['schedule', 'api', 'schedule']);
        const viaApi = audits.find((x) => x.id === auditId)!;
        expect(viaApi.status).toBe('done');
        expect(viaApi.deliveries.map((d) => [d.destination, d.status]).sort()).toEqual([
          ['hook', 'delivered'],
          ['team-chat', 'delivered'],
        ]);
        expect(viaApi.deliveries.find((d) => d.destination === 'hook')).toMatchObject({ attempts: 2, httpStatus: null });
        const metrics = (await app.inject({ url: '/metrics', headers: auth(READ) })).body;
        expect(metrics).toContain('pg_advisor_outbox_messages{destination="hook",status="delivered"} 3');
        expect(metrics).toContain('pg_advisor_outbox_messages{destination="team-chat",status="delivered"} 3');
        // Secrets never show: not in the deliveries, not in the destination list.
        expect(JSON.stringify(audits)).not.toContain('xoxsecretpath');
      } finally {
        if (aOpen) await a.release();
        await b?.release();
      }
    });

    it('lists destinations with masked URLs and sends a signed test message to one (admin)', async () => {
      const list = await app.inject({ url: '/api/v1/destinations', headers: auth(READ) });
      expect(list.json().items).toEqual([
        { name: 'hook', kind: 'webhook', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\*\*\*$/) },
        { name: 'team-chat', kind: 'slack', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\*\*\*$/) },
      ]);
      expect(list.body).not.toContain('xoxsecretpath');
      const denied = await app.inject({ method: 'POST', url: '/api/v1/destinations/hook/test', headers: auth(READ) });
      expect(denied.statusCode).toBe(403);
      const missing = await app.inject({ method: 'POST', url: '/api/v1/destinations/nope/test', headers: auth(ADMIN) });
      expect(missing.statusCode).toBe(404);
      const sent = await app.inject({ method: 'POST', url: '/api/v1/destinations/hook/test', headers: auth(ADMIN) });
      expect(sent.statusCode).toBe(200);
      expect(sent.json()).toMatchObject({ destination: 'hook', status: 'delivered', attempts: 1, httpStatus: 200, error: null });
      const test = received.find((r) => r.route === hook)!;
      expect(JSON.parse(test.raw)).toMatchObject({ type: 'pg-advisor.test', destination: 'hook' });
      expect(
        verifyWebhookSignature({
          secret: SECRET,
          body: test.raw,
          timestamp: String(test.headers['x-pg-advisor-timestamp']),
          signature: String(test.headers['x-pg-advisor-signature']),
          nowSeconds: Math.floor(Date.now() / 1000),
        }),
      ).toBe(true);
    });
  });
}

describe('a daemon stopped after writing its outbox and before sending', () => {
  let target: TestDatabase;
  let storeDb: TestDatabase;

  beforeAll(async () => {
    target = await createTestDatabase();
    storeDb = await createTestDatabase();
  });

  afterAll(async () => {
    await target?.drop();
    await storeDb?.drop();
  });

  it('delivers after a restart, once per idempotency key', async () => {
    const monitorUrl = await target.createMonitorRole();
    const config = configFor(monitorUrl, 'restart-hook', 'restart-slack');
    // First process: audits, writes its outbox, is stopped before its pump sends anything.
    let store = createStore({ url: storeDb.adminUrl });
    await store.migrate();
    const first = createDaemon({ config, store, rules: allRules, version: 'test', sampleOnStart: false, outboxPump: false });
    await first.start();
    await first.runAuditSchedule('nightly');
    await first.stop(5000);
    const [audit] = await store.audits.listAudits((await store.targets.findTarget('main'))!.id);
    expect(audit).toMatchObject({ status: 'done', trigger: 'schedule' });
    const pending = await store.outbox.listDeliveries([audit!.id]);
    expect(pending.map((d) => d.status)).toEqual(['pending', 'pending']);
    await store.close();
    await sleep(300);
    expect(received).toHaveLength(0);

    // Second process on the same store: its pump sends what the first one wrote.
    store = createStore({ url: storeDb.adminUrl });
    await store.migrate();
    const second = createDaemon({ config, store, rules: allRules, version: 'test', sampleOnStart: false });
    try {
      await second.start();
      await until('the messages written before the restart', () => delivered('restart-hook').length === 1 && delivered('restart-slack').length === 1);
      // More pump runs send nothing again.
      await second.pumpOutbox();
      await second.pumpOutbox();
      expect(received).toHaveLength(2);
      const keys = new Set(received.map((r) => r.key));
      expect([...keys].sort()).toEqual(pending.map((d) => d.idempotencyKey).sort());
      expect((await store.outbox.listDeliveries([audit!.id])).map((d) => d.status)).toEqual(['delivered', 'delivered']);
    } finally {
      await second.stop(5000);
      await store.close();
    }
  });
});

describe('destinations that fail', () => {
  let target: TestDatabase;
  let store: Store;
  let daemon: Daemon;
  let app: FastifyInstance;

  beforeAll(async () => {
    target = await createTestDatabase();
    const monitorUrl = await target.createMonitorRole();
    const config = loadDaemonConfig({
      file: 'advisor.yaml',
      text: `
targets:
  - { name: main, urlEnv: MAIN_URL, interval: 12h }
destinations:
  - { name: down, kind: webhook, urlEnv: DOWN_URL, secret: { env: HOOK_SECRET } }
  - { name: gone, kind: slack, urlEnv: GONE_URL }
  - { name: fine, kind: discord, urlEnv: FINE_URL }
audits:
  schedules:
    - { name: hourly, cron: "0 0 * * * *", window: 0s, minSeverity: info, destinations: [down, gone, fine] }
delivery: { pollInterval: 1s, timeout: 1s, maxElapsed: 1s, retryDelay: 1s }
`,
      env: { MAIN_URL: monitorUrl, DOWN_URL: `${base}/down`, GONE_URL: `${base}/gone/T1/B1/tok`, FINE_URL: `${base}/fine/123/tok`, HOOK_SECRET: SECRET },
      rules: allRules,
    });
    store = createStore({ dataDir: 'memory://' });
    await store.migrate();
    daemon = createDaemon({ config, store, rules: allRules, version: 'test', sampleOnStart: false });
    await daemon.start();
    app = await buildApp({ store, rules: allRules, daemon, tokens: [], pressure: { maxEventLoopDelayMs: 0 } });
  });

  afterAll(async () => {
    await app?.close();
    await daemon?.stop(5000);
    await store?.close();
    await target?.drop();
  });

  it('records retries and give-ups in the API and /metrics, never delays the healthy destination, and delivers once the receiver recovers', async () => {
    script.set(
      'down',
      Array.from({ length: 1000 }, () => 500),
    );
    script.set(
      'gone',
      Array.from({ length: 1000 }, () => 404),
    );
    const started = Date.now();
    await daemon.runAuditSchedule('hourly');
    await until('the healthy destination', () => delivered('fine').length === 1);
    expect(Date.now() - started).toBeLessThan(5000);
    type Row = { destination: string; status: string; attempts: number; httpStatus: number | null; lastError: string | null; nextAttemptAt: string | null };
    const deliveries = async () => (await app.inject('/api/v1/targets/main/audits')).json().items[0].deliveries as Row[];
    const byName = async () => Object.fromEntries((await deliveries()).map((d) => [d.destination, d]));
    const settled = await until('the failures recorded', async () => {
      const d = await byName();
      return d.gone?.status === 'failed' && d.down?.status === 'pending' && d.down.attempts >= 1 && d;
    });
    expect(settled.gone).toMatchObject({ status: 'failed', httpStatus: 404, lastError: 'HTTP 404: boom', attempts: 1, nextAttemptAt: null });
    expect(settled.down).toMatchObject({ status: 'pending', lastError: 'HTTP 500: boom' });
    expect(settled.down!.nextAttemptAt).not.toBeNull();
    expect(received.filter((r) => r.route === 'gone')).toHaveLength(1); // a permanent failure is not retried
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('pg_advisor_outbox_messages{destination="fine",status="delivered"} 1');
    expect(metrics).toContain('pg_advisor_outbox_messages{destination="gone",status="failed"} 1');
    expect(metrics).toContain('pg_advisor_outbox_messages{destination="down",status="retrying"} 1');

    // The receiver recovers: a later pump run delivers, once.
    script.delete('down');
    const done = await until('the retried delivery', async () => (await byName()).down?.status === 'delivered' && (await byName()).down);
    expect(done.attempts).toBeGreaterThan(1);
    expect(delivered('down')).toHaveLength(1);
    expect(new Set(received.filter((r) => r.route === 'down').map((r) => r.key)).size).toBe(1);
    expect(JSON.stringify(await deliveries())).not.toContain('tok');
  });
});

describe('audits on their cron schedule, two replicas on one store', () => {
  let target: TestDatabase;
  let storeDb: TestDatabase;

  beforeAll(async () => {
    target = await createTestDatabase();
    storeDb = await createTestDatabase();
  });

  afterAll(async () => {
    await target?.drop();
    await storeDb?.drop();
  });

  it('runs each tick once across replicas, in the schedule time zone, posting the first audit and staying quiet while nothing changes', async () => {
    const monitorUrl = await target.createMonitorRole();
    const text = (replica: string) => `
targets:
  - { name: main, urlEnv: MAIN_URL, interval: 12h }
destinations:
  - { name: hook, kind: webhook, urlEnv: HOOK_URL, secret: { env: HOOK_SECRET } }
audits:
  schedules:
    - { name: often, cron: "*/2 * * * * *", window: 0s, minSeverity: critical, quietWhenUnchanged: true, destinations: [hook] }
    - { name: morning, cron: "0 7 * * *", timezone: Asia/Kathmandu, destinations: [hook] }
delivery: { pollInterval: 1s }
replica: { id: ${replica} }
`;
    const env = { MAIN_URL: monitorUrl, HOOK_URL: `${base}/cron`, HOOK_SECRET: SECRET };
    const stores = [createStore({ url: storeDb.adminUrl }), createStore({ url: storeDb.adminUrl })];
    const daemons: Daemon[] = [];
    try {
      await Promise.all(stores.map((st) => st.migrate()));
      for (const [i, st] of stores.entries()) {
        const config = loadDaemonConfig({ file: 'advisor.yaml', text: text(`replica-${i}`), env, rules: allRules });
        const d = createDaemon({ config, store: st, rules: allRules, version: 'test', sampleOnStart: false });
        await d.start();
        daemons.push(d);
      }
      // 07:00 in Kathmandu (UTC+05:45) is 01:15 UTC.
      const morning = daemons[0]!.auditSchedules().find((x) => x.name === 'morning')!.nextRunAt!;
      expect([morning.getUTCHours(), morning.getUTCMinutes(), morning.getUTCSeconds()]).toEqual([1, 15, 0]);
      expect(morning.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
      const targetId = (await stores[0]!.targets.findTarget('main'))!.id;
      const audits = () => stores[0]!.audits.listAudits(targetId);
      await until('three scheduled audits', async () => (await audits()).filter((a) => a.status === 'done').length >= 3, 20_000);
      await until('the first audit posted', () => delivered('cron').length >= 1);
    } finally {
      for (const d of daemons) await d.stop(5000);
    }
    const all = await stores[0]!.audits.listAudits((await stores[0]!.targets.findTarget('main'))!.id);
    try {
      expect(all.every((a) => a.trigger === 'schedule')).toBe(true);
      // One audit per tick: ticks are 2 s apart, so two audits never start within the same second.
      const seconds = all.map((a) => Math.floor(Date.parse(a.requestedAt) / 2000));
      expect(new Set(seconds).size).toBe(all.length);
      // The first audit posts; later ones change nothing at/above critical and stay quiet.
      const deliveries = await stores[0]!.outbox.listDeliveries(all.map((a) => a.id));
      expect(deliveries.map((d) => d.auditId)).toEqual([all[all.length - 1]!.id]);
      expect(delivered('cron')).toHaveLength(1);
      expect((JSON.parse(delivered('cron')[0]!.raw) as WebhookMessage).digest.firstAudit).toBe(true);
    } finally {
      for (const st of stores) await st.close();
    }
  });
});

describe('audit and destination configuration', () => {
  const load = (text: string, env: Record<string, string> = {}) =>
    loadDaemonConfig({ file: 'advisor.yaml', text, env: { MAIN_URL: 'postgres://mon:pw@127.0.0.1/db', ...env }, rules: allRules });
  const problemOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    throw new Error('expected a UsageError');
  };
  const head = 'targets:\n  - { name: main, urlEnv: MAIN_URL }\n';

  it('resolves schedules with their defaults and keeps secrets out of the description', () => {
    const config = load(
      `${head}destinations:\n  - { name: chat, kind: slack, urlEnv: SLACK_URL }\n  - { name: hook, kind: ` +
        `webhook, url: "https://hooks.example.com/pga", secret: { env: HOOK_SECRET } }\naudits:\n  ` +
        `schedules:\n    - { name: weekly, cron: "0 7 * * 1", destinations: [chat, hook] }\n`,
      { SLACK_URL: 'https://hooks.slack.com/services/T1/B2/tokentoken', HOOK_SECRET: SECRET },
    );
    expect(config.audits.schedules).toEqual([
      {
        name: 'weekly',
        cron: '0 7 * * 1',
        timezone: 'UTC',
        targets: ['main'],
        windowMs: 10_000,
        minSeverity: 'warning',
        destinations: ['chat', 'hook'],
        quietWhenUnchanged: false,
      },
    ]);
    expect(config.destinations).toEqual([
      { name: 'chat', kind: 'slack', url: 'https://hooks.slack.com/services/T1/B2/tokentoken' },
      { name: 'hook', kind: 'webhook', url: 'https://hooks.example.com/pga', secret: SECRET },
    ]);
    const described = JSON.stringify(describeDaemonConfig(config));
    expect(described).not.toContain('tokentoken');
    expect(described).not.toContain(SECRET);
    expect(described).toContain('https://hooks.slack.com/***');
  });

  it('names each bad setting: cron, time zone, unknown target or destination, inline token, missing secret', () => {
    const message = problemOf(() =>
      load(
        `${head}destinations:\n  - { name: chat, kind: slack, url: ` +
          `"https://hooks.slack.com/services/T1/B2/tok" }\n  - { name: hook, kind: webhook, urlEnv: HOOK_URL ` +
          `}\n  - { name: short, kind: webhook, urlEnv: HOOK_URL, secret: { env: SHORT } }\naudits:\n  ` +
          `schedules:\n    - { name: bad, cron: "every day", timezone: Mars/Olympus, targets: [nope], ` +
          `destinations: [ghost] }\n`,
        { HOOK_URL: 'https://hooks.example.com/x', SHORT: 'short' },
      ),
    );
    expect(message).toContain('destinations.0.url: a slack webhook URL carries its token');
    expect(message).toContain('destinations.1.secret: a webhook needs a signing secret');
    expect(message).toContain('destinations.2.secret: a signing secret needs at least 16 characters');
    expect(message).toContain('audits.schedules.0.cron: "every day" is not a cron expression');
    expect(message).toContain('audits.schedules.0.timezone: "Mars/Olympus" is not an IANA time zone');
    expect(message).toContain('audits.schedules.0.targets: no target named nope');
    expect(message).toContain('audits.schedules.0.destinations: no destination named ghost');
    expect(message).not.toContain('services/T1/B2/tok');
    expect(problemOf(() => load(`${head}audits:\n  schedules:\n    - { name: x, cron: "0 7 * * *", destinations: [] }\n`))).toContain(
      'audits.schedules.0.destinations: name at least one destination',
    );
    expect(problemOf(() => load(`${head}destinations:\n  - { name: d, kind: teams, urlEnv: TEAMS_URL }\n`))).toContain(
      'environment variable TEAMS_URL is not set',
    );
  });
});
