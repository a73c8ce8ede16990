/**
 * The dispatcher and the outbox over real HTTP (fastify on 127.0.0.1): a destination that keeps failing
 * does not delay a healthy one; messages to one destination keep their order; and the outbox survives a
 * process killed at each step — after writing, after claiming, after sending — delivering each message
 * once per idempotency key to a receiver that dedupes on `Idempotency-Key`.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/engine/types.js';
import {
  buildAuditDigest,
  buildOutboxDrafts,
  createDispatcher,
  createMemoryOutbox,
  runOutboxOnce,
  type Destination,
  type Outbox,
} from '../../src/notify/index.js';

let app: FastifyInstance;
let base: string;
/** Every request, in arrival order. */
const requests: { route: string; key: string; body: string }[] = [];
/** What the deduping receiver processed: each idempotency key once. */
const processed = new Set<string>();
const modes = new Map<string, (reply: FastifyReply) => unknown>();

beforeAll(async () => {
  app = Fastify({ forceCloseConnections: true });
  app.post('/:route', async (req, reply) => {
    const route = (req.params as { route: string }).route;
    const key = String(req.headers['idempotency-key']);
    requests.push({ route, key, body: JSON.stringify(req.body) });
    const mode = modes.get(route);
    if (mode) return mode(reply);
    processed.add(key); // a receiver that dedupes: a key it has seen is acknowledged, not processed again
    return reply.code(200).send('ok');
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
});

beforeEach(() => {
  requests.length = 0;
  processed.clear();
  modes.clear();
});

const dest = (name: string, kind: Destination['kind'] = 'webhook'): Destination =>
  kind === 'webhook' ? { name, kind, url: `${base}/${name}`, secret: 's3cret' } : { name, kind, url: `${base}/${name}` };

const finding: Finding = {
  rule: 'vacuum-lag',
  severity: 'critical',
  title: 'Vacuum lag',
  summary: 'public.events has 9,000,000 dead tuples.',
  object: { type: 'table', schema: 'public', name: 'events' },
  evidence: { deadTuples: 9_000_000 },
  recommendation: { text: 'Find the old transaction.' },
  impact: { deadTuples: 9_000_000 },
  fingerprint: 'fp-events',
};
const digest = buildAuditDigest({ target: 'shop', previous: [], current: [finding], minSeverity: 'warning' });

describe('dispatcher', () => {
  it('a destination that keeps failing does not delay a healthy one (one HTTP slot in all)', async () => {
    modes.set('broken', (reply) => reply.code(500).send('down'));
    const dispatcher = createDispatcher({
      destinations: [dest('broken'), dest('healthy')],
      concurrency: 1,
      // Real waits between retries (~50, 100, 200 ms): the broken lane must not hold the slot while it waits.
      deliverOptions: { timeoutMs: 2000, maxAttempts: 4, baseDelayMs: 50, random: () => 0.999 },
    });
    const started = Date.now();
    const doneAt = new Map<string, number>();
    const track = (label: string, p: Promise<{ status: string }>) => p.then((r) => (doneAt.set(label, Date.now() - started), r));
    const broken = [1, 2].map((i) => track(`broken-${i}`, dispatcher.send('broken', { idempotencyKey: `b${i}`, body: { n: i } })));
    const healthy = [1, 2, 3].map((i) => track(`healthy-${i}`, dispatcher.send('healthy', { idempotencyKey: `h${i}`, body: { n: i } })));
    const healthyResults = await Promise.all(healthy);
    expect(healthyResults.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(dispatcher.pending('broken')).toBeGreaterThan(0); // the broken lane is still retrying
    const brokenResults = await Promise.all(broken);
    expect(brokenResults.map((r) => r.status)).toEqual(['failed', 'failed']);
    const lastHealthy = Math.max(...[1, 2, 3].map((i) => doneAt.get(`healthy-${i}`)!));
    expect(lastHealthy).toBeLessThan(doneAt.get('broken-1')!);
    expect(requests.filter((r) => r.route === 'broken')).toHaveLength(8); // bounded: 4 attempts × 2 messages
  });

  it('a destination slower than the timeout does not delay a healthy one', async () => {
    modes.set('hanging', async (reply) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return reply.code(200).send('late');
    });
    const dispatcher = createDispatcher({
      destinations: [dest('hanging'), dest('healthy')],
      concurrency: 2,
      deliverOptions: { timeoutMs: 250, maxAttempts: 2, sleep: async () => {} },
    });
    let hangingDone = false;
    const hanging = dispatcher.send('hanging', { idempotencyKey: 'x1', body: {} }).finally(() => (hangingDone = true));
    const healthy = await Promise.all([1, 2, 3].map((i) => dispatcher.send('healthy', { idempotencyKey: `y${i}`, body: {} })));
    expect(healthy.every((r) => r.status === 'delivered')).toBe(true);
    expect(hangingDone).toBe(false); // healthy finished while the hanging one was still on its first timeout
    expect(await hanging).toMatchObject({ status: 'failed', attempts: 2, lastError: 'timed out waiting for the receiver' });
    await dispatcher.idle();
  });

  it('keeps the order of messages to one destination, and refuses unknown destinations', async () => {
    const dispatcher = createDispatcher({ destinations: [dest('ordered', 'slack')] });
    await Promise.all([1, 2, 3, 4, 5].map((i) => dispatcher.send('ordered', { idempotencyKey: `o${i}`, body: { text: `m${i}` } })));
    expect(requests.map((r) => r.key)).toEqual(['o1', 'o2', 'o3', 'o4', 'o5']);
    expect(await dispatcher.send('nope', { idempotencyKey: 'z', body: {} })).toMatchObject({ status: 'failed', permanent: true, attempts: 0 });
    expect(() => createDispatcher({ destinations: [dest('a'), dest('a')] })).toThrow(/duplicate destination/);
  });
});

describe('outbox', () => {
  function clock() {
    let t = Date.parse('2026-11-23T06:00:00Z');
    return { now: () => t, advance: (ms: number) => (t += ms) };
  }
  // Built per test: the receiver's port is known only once it listens.
  let destinations: Destination[] = [];
  beforeEach(() => {
    destinations = [dest('hook'), dest('chat', 'slack')];
  });

  it('killed after writing the outbox, before sending: the restarted process delivers each message once', async () => {
    const c = clock();
    const outbox = createMemoryOutbox({ now: c.now });
    for (const draft of buildOutboxDrafts({ auditId: 41, digest, destinations })) outbox.enqueue(draft);
    // Process 1 dies here. Process 2 starts with a fresh dispatcher.
    const summary = await runOutboxOnce(outbox, createDispatcher({ destinations }), { now: c.now });
    expect(summary).toEqual({ claimed: 2, delivered: 2, retrying: 0, failed: 0 });
    expect(await runOutboxOnce(outbox, createDispatcher({ destinations }), { now: c.now })).toMatchObject({ claimed: 0 });
    expect(requests.map((r) => r.route).sort()).toEqual(['chat', 'hook']);
    expect(outbox.list().map((e) => [e.status, e.attempts])).toEqual([
      ['delivered', 1],
      ['delivered', 1],
    ]);
  });

  it('killed after claiming, before sending: the claim expires and the message is sent once', async () => {
    const c = clock();
    const outbox = createMemoryOutbox({ now: c.now, leaseMs: 60_000 });
    outbox.enqueue(buildOutboxDrafts({ auditId: 42, digest, destinations: [dest('hook')] })[0]!);
    expect(await outbox.claimDue(10)).toHaveLength(1); // process 1 claims, then dies
    const dispatcher = createDispatcher({ destinations });
    expect(await runOutboxOnce(outbox, dispatcher, { now: c.now })).toMatchObject({ claimed: 0 }); // lease still held
    c.advance(60_001);
    expect(await runOutboxOnce(outbox, dispatcher, { now: c.now })).toMatchObject({ claimed: 1, delivered: 1 });
    expect(requests).toHaveLength(1);
  });

  it('killed after sending, before recording it: sent again with the same key, processed once', async () => {
    const c = clock();
    const outbox = createMemoryOutbox({ now: c.now, leaseMs: 60_000 });
    const draft = buildOutboxDrafts({ auditId: 43, digest, destinations: [dest('hook')] })[0]!;
    outbox.enqueue(draft);
    const dying: Outbox = {
      ...outbox,
      claimDue: (n) => outbox.claimDue(n),
      markFailed: outbox.markFailed,
      markDelivered: async () => Promise.reject(new Error('killed')),
    };
    await expect(runOutboxOnce(dying, createDispatcher({ destinations }), { now: c.now })).rejects.toThrow('killed');
    c.advance(60_001);
    expect(await runOutboxOnce(outbox, createDispatcher({ destinations }), { now: c.now })).toMatchObject({ delivered: 1 });
    expect(requests.map((r) => r.key)).toEqual([draft.idempotencyKey, draft.idempotencyKey]);
    expect(requests[0]!.body).toBe(requests[1]!.body);
    expect([...processed.keys()]).toEqual([draft.idempotencyKey]);
  });

  it('the same audit written twice is one message (unique idempotency key)', () => {
    const outbox = createMemoryOutbox();
    const [draft] = buildOutboxDrafts({ auditId: 44, digest, destinations: [dest('hook')] });
    const a = outbox.enqueue(draft!);
    const b = outbox.enqueue(draft!);
    expect(a.id).toBe(b.id);
    expect(outbox.list()).toHaveLength(1);
  });

  it('transient failure is rescheduled; a permanent one and a too-old one are given up and recorded', async () => {
    const c = clock();
    const outbox = createMemoryOutbox({ now: c.now });
    modes.set('down', (reply) => reply.code(503).send('maintenance'));
    modes.set('wrong', (reply) => reply.code(400).send('invalid_blocks'));
    const all = [dest('down'), dest('wrong', 'slack')];
    for (const draft of buildOutboxDrafts({ auditId: 45, digest, destinations: all })) outbox.enqueue(draft);
    const dispatcher = createDispatcher({ destinations: all, deliverOptions: { maxAttempts: 2, sleep: async () => {} } });
    expect(await runOutboxOnce(outbox, dispatcher, { now: c.now, retryDelayMs: 60_000, maxAgeMs: 3_600_000 })).toEqual({
      claimed: 2,
      delivered: 0,
      retrying: 1,
      failed: 1,
    });
    const [down, wrong] = outbox.list();
    expect(down).toMatchObject({ status: 'pending', attempts: 2, httpStatus: 503, lastError: 'HTTP 503: maintenance', nextAttemptAt: c.now() + 60_000 });
    expect(wrong).toMatchObject({ status: 'failed', attempts: 1, httpStatus: 400, lastError: 'HTTP 400: invalid_blocks' });
    // Not due yet; then due, still failing, and now older than maxAgeMs allows: given up.
    expect(await runOutboxOnce(outbox, dispatcher, { now: c.now })).toMatchObject({ claimed: 0 });
    c.advance(3_600_000);
    expect(await runOutboxOnce(outbox, dispatcher, { now: c.now, retryDelayMs: 60_000, maxAgeMs: 3_600_000 })).toEqual({
      claimed: 1,
      delivered: 0,
      retrying: 0,
      failed: 1,
    });
    expect(outbox.list()[0]).toMatchObject({ status: 'failed', attempts: 4 });
    expect(requests.filter((r) => r.route === 'down')).toHaveLength(4);
  });
});
