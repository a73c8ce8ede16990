/**
 * Delivery over real HTTP: an in-process fastify server on 127.0.0.1 stands in for Slack, Teams, Discord
 * and a generic webhook receiver. Payload shapes per platform, the generic webhook's signature checked
 * the way docs/notifications.md tells receivers to, two audits where the findings really changed, and
 * faults: 500 then 200, a receiver slower than the timeout, 429 with Retry-After, a 4xx, a refused
 * connection. Waits between attempts use an injected clock and sleep, so nothing here waits for real
 * backoff; every request loop is bounded by maxAttempts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Finding, Severity } from '../../src/engine/types.js';
import { buildAuditDigest, deliver, renderDigest, type Destination, type DestinationKind } from '../../src/notify/index.js';

interface Received {
  readonly route: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly raw: string;
  readonly json: Record<string, unknown>;
}

type Behaviour = (req: FastifyRequest, reply: FastifyReply, count: number) => Promise<unknown> | unknown;

let app: FastifyInstance;
let base: string;
const received: Received[] = [];
const behaviours = new Map<string, Behaviour>();

beforeAll(async () => {
  app = Fastify({ forceCloseConnections: true });
  // Keep the raw body: the signature is over the exact bytes sent.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, { raw: body as string, json: JSON.parse(body as string) as unknown });
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.post('/:route', async (req, reply) => {
    const route = (req.params as { route: string }).route;
    const { raw, json } = req.body as { raw: string; json: Record<string, unknown> };
    received.push({ route, headers: req.headers, raw, json });
    const count = received.filter((r) => r.route === route).length;
    const behaviour = behaviours.get(route);
    return behaviour ? behaviour(req, reply, count) : reply.code(200).send('ok');
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
});

beforeEach(() => {
  received.length = 0;
  behaviours.clear();
});

/** A fake clock that sleep advances: backoff and Retry-After are asserted, never waited for. */
function fakeTime() {
  let t = Date.now();
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

function destination(kind: DestinationKind, route: string = kind): Destination {
  return kind === 'webhook' ? { name: route, kind, url: `${base}/${route}`, secret: 'whsec-test-0123456789' } : { name: route, kind, url: `${base}/${route}` };
}

function finding(fp: string, severity: Severity, name: string, wasteMiB: number): Finding {
  return {
    rule: 'table-bloat',
    severity,
    title: 'Table bloat',
    summary: `public.${name} wastes ${wasteMiB} MiB.`,
    object: { type: 'table', schema: 'public', name },
    evidence: { wasteBytes: wasteMiB * 1048576 },
    recommendation: { text: 'Repack it.' },
    impact: { wasteBytes: wasteMiB * 1048576 },
    fingerprint: fp,
  };
}

// Two audits of one target where the findings really changed: orders escalated, invoices resolved, carts new.
const AUDIT_1 = [finding('fp-orders', 'warning', 'orders', 80), finding('fp-invoices', 'warning', 'invoices', 60), finding('fp-users', 'info', 'users', 5)];
const AUDIT_2 = [finding('fp-orders', 'critical', 'orders', 400), finding('fp-users', 'info', 'users', 5), finding('fp-carts', 'warning', 'carts', 90)];
const IDS = { 'fp-orders': 1, 'fp-invoices': 2, 'fp-users': 3, 'fp-carts': 4 };
const digests = [
  buildAuditDigest({ target: 'shop', previous: null, current: AUDIT_1, minSeverity: 'info', publicBaseUrl: 'https://advisor.example.com', findingIds: IDS }),
  buildAuditDigest({ target: 'shop', previous: AUDIT_1, current: AUDIT_2, minSeverity: 'info', publicBaseUrl: 'https://advisor.example.com', findingIds: IDS }),
];

/** The receiver's check exactly as docs/notifications.md shows it. */
function verifyAsDocumented(rawBody: string, headers: Record<string, string | string[] | undefined>, secret: string, nowSeconds: number): boolean {
  const timestamp = String(headers['x-pg-advisor-timestamp'] ?? '');
  const signature = String(headers['x-pg-advisor-signature'] ?? '');
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > 300) return false;
  const expected = 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

describe('each platform receives its payload over HTTP', () => {
  for (const kind of ['slack', 'teams', 'discord', 'webhook'] as const) {
    it(`${kind}: two audits, the second says what changed`, async () => {
      for (const [i, digest] of digests.entries()) {
        const result = await deliver(destination(kind), renderDigest(kind, digest), { idempotencyKey: `key-${kind}-${i}`, timeoutMs: 5000 });
        expect(result).toMatchObject({ status: 'delivered', attempts: 1, httpStatus: 200 });
      }
      expect(received).toHaveLength(2);
      const [first, second] = received as [Received, Received];
      for (const r of received) expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(first.headers['idempotency-key']).toBe(`key-${kind}-0`);
      const firstText = first.raw;
      const secondText = second.raw;
      expect(firstText).toMatch(/first audit/);
      // The second audit: carts new, orders escalated, invoices resolved — users unchanged, still open.
      expect(secondText).toMatch(/1 new(, | · )1 escalated(, | · )1 resolved/);
      expect(secondText).toContain('findings/4'); // carts, new
      expect(secondText).toContain('findings/1'); // orders, escalated
      expect(secondText).toContain('findings/2'); // invoices, resolved
      if (kind !== 'webhook') expect(secondText).toContain('critical (was warning)');

      const body = second.json;
      if (kind === 'slack') {
        expect(body).toMatchObject({ text: expect.any(String), blocks: expect.any(Array) });
        const blocks = body.blocks as { type: string; text?: { text: string } }[];
        expect(blocks[0]).toMatchObject({ type: 'header' });
        const sections = blocks.filter((b) => b.type === 'section').map((b) => b.text!.text);
        expect(sections[0]).toMatch(/^\*🆕 New \(1\)\*\n.*carts/s);
        expect(sections[1]).toMatch(/^\*⬆️ Escalated \(1\)\*\n.*orders/s);
        expect(sections[2]).toMatch(/^\*✅ Resolved \(1\)\*\n.*invoices/s);
        expect(sections[3]).toMatch(/Still open — info \(1\).*users/s);
      } else if (kind === 'teams') {
        expect(body).toMatchObject({
          type: 'message',
          attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4' } }],
        });
      } else if (kind === 'discord') {
        const embeds = body.embeds as { title?: string; description: string }[];
        expect(embeds.map((e) => e.title)).toEqual(['🆕 New (1)', '⬆️ Escalated (1)', '✅ Resolved (1)', '🔵 Still open — info (1)']);
        expect(embeds[0]!.description).toContain('carts');
        expect(body.allowed_mentions).toEqual({ parse: [] });
      } else {
        expect(body).toMatchObject({ type: 'pg-advisor.audit', version: 1, omitted: 0 });
        const digest = body.digest as { new: { fingerprint: string }[]; escalated: { fingerprint: string }[]; resolved: { fingerprint: string }[] };
        expect(digest.new.map((i) => i.fingerprint)).toEqual(['fp-carts']);
        expect(digest.escalated.map((i) => i.fingerprint)).toEqual(['fp-orders']);
        expect(digest.resolved.map((i) => i.fingerprint)).toEqual(['fp-invoices']);
        // Signed over the exact bytes received, verifiable as the docs say; a tampered body is not.
        const secret = 'whsec-test-0123456789';
        const nowSeconds = Math.floor(Date.now() / 1000);
        expect(verifyAsDocumented(second.raw, second.headers, secret, nowSeconds)).toBe(true);
        expect(second.headers['x-pg-advisor-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(verifyAsDocumented(second.raw.replace('fp-carts', 'fp-cartz'), second.headers, secret, nowSeconds)).toBe(false);
        expect(verifyAsDocumented(second.raw, second.headers, 'wrong-secret', nowSeconds)).toBe(false);
        expect(verifyAsDocumented(second.raw, second.headers, secret, nowSeconds + 301)).toBe(false);
      }
    });
  }
});

describe('faults', () => {
  const message = renderDigest('webhook', digests[1]!);

  it('500 then 200: retried after a jittered backoff, same idempotency key, delivered', async () => {
    behaviours.set('flaky', (_req, reply, count) => (count === 1 ? reply.code(500).send('boom') : reply.code(200).send('ok')));
    const time = fakeTime();
    const result = await deliver(destination('webhook', 'flaky'), message, {
      idempotencyKey: 'k-500',
      ...time,
      random: () => 0.5,
      baseDelayMs: 1000,
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({ status: 'delivered', attempts: 2, httpStatus: 200, lastError: 'HTTP 500: boom' });
    expect(time.sleeps).toEqual([500]); // full jitter: 0.5 × min(cap, 1000 · 2^0)
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual(['k-500', 'k-500']);
    // Each attempt is signed afresh and verifies.
    for (const r of received) expect(verifyAsDocumented(r.raw, r.headers, 'whsec-test-0123456789', Math.floor(Date.now() / 1000))).toBe(true);
  });

  it('a receiver slower than the timeout: the attempt is abandoned and retried', async () => {
    behaviours.set('slow', async (_req, reply, count) => {
      if (count === 1) await new Promise((resolve) => setTimeout(resolve, 1500));
      return reply.code(200).send('ok');
    });
    const time = fakeTime();
    const started = Date.now();
    const result = await deliver(destination('slack', 'slow'), renderDigest('slack', digests[1]!), { idempotencyKey: 'k-slow', ...time, timeoutMs: 300 });
    expect(result).toMatchObject({ status: 'delivered', attempts: 2, lastError: 'timed out waiting for the receiver' });
    expect(Date.now() - started).toBeLessThan(1400);
  });

  it('a receiver that always times out: gives up after maxAttempts, transient, no HTTP status', async () => {
    behaviours.set('hang', async (_req, reply) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return reply.code(200).send('late');
    });
    const result = await deliver(destination('discord', 'hang'), { content: 'x' }, { idempotencyKey: 'k-hang', ...fakeTime(), timeoutMs: 150, maxAttempts: 3 });
    expect(result).toMatchObject({ status: 'failed', attempts: 3, httpStatus: null, permanent: false, lastError: 'timed out waiting for the receiver' });
  });

  it('429 with Retry-After in seconds: waits exactly that long', async () => {
    behaviours.set('limited', (_req, reply, count) => (count === 1 ? reply.code(429).header('retry-after', '7').send('slow down') : reply.code(204).send()));
    const time = fakeTime();
    const result = await deliver(destination('discord', 'limited'), { content: 'x' }, { idempotencyKey: 'k-429', ...time, timeoutMs: 5000 });
    expect(result).toMatchObject({ status: 'delivered', attempts: 2, httpStatus: 204 });
    expect(time.sleeps).toEqual([7000]);
  });

  it('429 with Retry-After as an HTTP date: waits until then', async () => {
    const time = fakeTime();
    const until = new Date(Math.ceil(time.now() / 1000) * 1000 + 30_000).toUTCString();
    behaviours.set('limited-date', (_req, reply, count) => (count === 1 ? reply.code(429).header('retry-after', until).send() : reply.code(200).send('ok')));
    const result = await deliver(destination('teams', 'limited-date'), { type: 'message' }, { idempotencyKey: 'k-429d', ...time, timeoutMs: 5000 });
    expect(result.status).toBe('delivered');
    expect(time.sleeps).toHaveLength(1);
    expect(time.sleeps[0]!).toBeGreaterThan(29_000);
    expect(time.sleeps[0]!).toBeLessThanOrEqual(31_000);
  });

  it('429 asking for longer than the time left: fails now, says when to come back', async () => {
    behaviours.set('limited-long', (_req, reply) => reply.code(429).header('retry-after', '3600').send());
    const time = fakeTime();
    const result = await deliver(
      destination('slack', 'limited-long'),
      { text: 'x' },
      { idempotencyKey: 'k-429l', ...time, maxElapsedMs: 60_000, timeoutMs: 5000 },
    );
    expect(result).toMatchObject({ status: 'failed', attempts: 1, httpStatus: 429, permanent: false });
    expect(result.retryAt).toBe(time.now() + 3_600_000);
    expect(time.sleeps).toEqual([]);
  });

  it('a 4xx other than 408/429 is permanent: one attempt, recorded', async () => {
    behaviours.set('gone', (_req, reply) => reply.code(404).send('no_service'));
    const time = fakeTime();
    const result = await deliver(destination('slack', 'gone'), { text: 'x' }, { idempotencyKey: 'k-404', ...time, timeoutMs: 5000 });
    expect(result).toMatchObject({ status: 'failed', attempts: 1, httpStatus: 404, permanent: true, lastError: 'HTTP 404: no_service' });
    expect(received).toHaveLength(1);
  });

  it('persistent 5xx: bounded by the total time, with growing jittered waits', async () => {
    behaviours.set('down', (_req, reply) => reply.code(503).send());
    const time = fakeTime();
    const result = await deliver(destination('webhook', 'down'), message, {
      idempotencyKey: 'k-503',
      ...time,
      random: () => 0.999,
      baseDelayMs: 1000,
      maxDelayMs: 8000,
      maxElapsedMs: 20_000,
      maxAttempts: 50,
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({ status: 'failed', httpStatus: 503, permanent: false });
    expect(time.sleeps).toEqual([999, 1998, 3996, 7992]); // the next (7992) would end past 20 s
    expect(result.attempts).toBe(5);
  });

  it('a refused connection is retried, then reported without the URL', async () => {
    const port = await closedPort();
    const secretPath = '/services/T000/B000/SECRET-TOKEN';
    const time = fakeTime();
    const result = await deliver(
      { name: 'nowhere', kind: 'slack', url: `http://127.0.0.1:${port}${secretPath}` },
      { text: 'x' },
      { idempotencyKey: 'k-refused', ...time, maxAttempts: 3, timeoutMs: 2000 },
    );
    expect(result).toMatchObject({ status: 'failed', attempts: 3, httpStatus: null, permanent: false, lastError: 'connection error: ECONNREFUSED' });
    expect(time.sleeps).toHaveLength(2);
    expect(JSON.stringify(result)).not.toContain('SECRET-TOKEN');
  });
});

/** A loopback port with nothing listening: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
