/**
 * `serve` as a child process posting an audit to a generic webhook on loopback, killed with SIGKILL
 * while it is sending the message (after the audit and its outbox row were written), then restarted:
 * the message arrives once its claim expires, processed once per idempotency key, signed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/notify/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { api, authHeaders, killServed, startServe, until, type Served } from './serve-support.js';

const SECRET = 'e2e-webhook-secret-0123456789';

describe('serve posts audits to chat and survives kill -9 mid-delivery', { timeout: 240_000 }, () => {
  let target: TestDatabase;
  let dir: string;
  let receiver: FastifyInstance;
  let hookUrl = '';
  const children: Served[] = [];
  /** Requests as they arrive: key, raw body, headers, and whether they were answered 2xx. */
  const requests: { key: string; raw: string; timestamp: string; signature: string; answered: boolean }[] = [];
  /** Replies held open (hang mode): the receiver "is slow", the sender dies meanwhile. */
  const held: FastifyReply[] = [];
  let hang = true;

  beforeAll(async () => {
    target = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'pg-advisor-e2e-audits-'));
    receiver = Fastify({ forceCloseConnections: true });
    receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    receiver.post('/hook', async (req, reply) => {
      const entry = {
        key: String(req.headers['idempotency-key']),
        raw: String(req.body),
        timestamp: String(req.headers['x-pg-advisor-timestamp']),
        signature: String(req.headers['x-pg-advisor-signature']),
        answered: false,
      };
      requests.push(entry);
      if (hang) {
        held.push(reply);
        return reply; // never answered: the connection dies with the sender
      }
      entry.answered = true;
      return reply.code(200).send('ok');
    });
    hookUrl = `${await receiver.listen({ host: '127.0.0.1', port: 0 })}/hook`;
  });

  afterAll(async () => {
    killServed(children);
    await receiver?.close();
    await target?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers the message written before the kill after a restart, once per idempotency key', async () => {
    const monitorUrl = await target.createMonitorRole();
    const config = join(dir, 'advisor.yaml');
    writeFileSync(
      config,
      [
        'targets:',
        '  - { name: main, urlEnv: MAIN_URL, interval: 12h }',
        'destinations:',
        '  - { name: hook, kind: webhook, urlEnv: HOOK_URL, secret: { env: HOOK_SECRET } }',
        'audits:',
        '  schedules:',
        '    - { name: nightly, cron: "0 0 3 * * *", timezone: Europe/Berlin, window: 0s, minSeverity: info, destinations: [hook] }',
        // Claims last 5 × (1 s + 2 s) + 10 s = 25 s: what a killed sender leaves behind.
        'delivery: { pollInterval: 1s, timeout: 2s, maxElapsed: 1s, retryDelay: 1s }',
        '',
      ].join('\n'),
    );
    const env = { MAIN_URL: monitorUrl, HOOK_URL: hookUrl, HOOK_SECRET: SECRET, ADVISOR_STORE_DIR: join(dir, 'store') };

    let served = await startServe(config, env);
    children.push(served);
    const started = await fetch(`${served.url}/api/v1/targets/main/audits`, {
      method: 'POST',
      headers: { ...authHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ window: '0' }),
    });
    expect(started.status).toBe(202);
    const auditId = ((await started.json()) as { id: number }).id;
    // The audit is written with its outbox row and the sender is mid-request: kill it now.
    await until('the first delivery attempt', () => requests.length > 0, { timeoutMs: 30_000, intervalMs: 250 });
    served.proc.kill('SIGKILL');
    await served.exited;
    const key = requests[0]!.key;
    for (const reply of held.splice(0)) reply.raw.destroy();
    hang = false;

    served = await startServe(config, env);
    children.push(served);
    type Audit = { id: number; status: string; deliveries: { status: string; idempotencyKey: string; attempts: number }[] };
    const audits = async () => (await api<{ items: Audit[] }>(served, '/api/v1/targets/main/audits')).items;
    const audit = (await audits()).find((a) => a.id === auditId);
    expect(audit?.status).toBe('done');
    // Pending until the dead sender's claim expires (delivered already only if the restart took longer).
    expect(audit?.deliveries).toEqual([expect.objectContaining({ idempotencyKey: key })]);
    expect(['pending', 'delivered']).toContain(audit?.deliveries[0]?.status);

    await until('the delivery after the restart', () => requests.some((r) => r.answered), { intervalMs: 250 });
    const done = await until(
      'the delivery recorded',
      async () => {
        const d = (await audits()).find((a) => a.id === auditId)?.deliveries[0];
        return d?.status === 'delivered' && d;
      },
      { intervalMs: 250 },
    );
    expect(done.idempotencyKey).toBe(key);
    // Every request carried the same key and body; one was processed.
    expect(new Set(requests.map((r) => r.key))).toEqual(new Set([key]));
    expect(new Set(requests.map((r) => r.raw)).size).toBe(1);
    expect(requests.filter((r) => r.answered)).toHaveLength(1);
    const answered = requests.find((r) => r.answered)!;
    expect(
      verifyWebhookSignature({
        secret: SECRET,
        body: answered.raw,
        timestamp: answered.timestamp,
        signature: answered.signature,
        nowSeconds: Math.floor(Date.now() / 1000),
      }),
    ).toBe(true);
    const message = JSON.parse(answered.raw) as { type: string; digest: { target: string; firstAudit: boolean } };
    expect(message).toMatchObject({ type: 'pg-advisor.audit', digest: { target: 'main', firstAudit: true } });
    // Nothing more arrives for it.
    await new Promise((r) => setTimeout(r, 2500));
    expect(requests.filter((r) => r.answered)).toHaveLength(1);
    const metrics = await (await fetch(`${served.url}/metrics`, { headers: authHeaders })).text();
    expect(metrics).toContain('pg_advisor_outbox_messages{destination="hook",status="delivered"} 1');
    expect(served.output.join('')).not.toContain(SECRET);

    served.proc.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  });
});
