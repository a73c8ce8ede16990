import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cleanEnv, runCli } from './run-cli.js';

interface FindingBody {
  id: number;
  rule: string;
  status: string;
  target: string;
  object: { type?: string; name?: string };
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `probe` every 500 ms until it returns something truthy; throws after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, context: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${context()}`);
}

describe('pg-advisor demo --serve', () => {
  it('rejects the daemon flags without --serve, and report flags with it, before starting anything', async () => {
    const a = await runCli(['demo', '--resolve-after', '5s'], { timeoutMs: 30_000 });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--port and --resolve-after apply only with --serve');
    expect(a.stderr).not.toContain('starting a throwaway PostgreSQL');
    const b = await runCli(['demo', '--serve', '--format', 'json'], { timeoutMs: 30_000 });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('demo --serve prints no report');
    const c = await runCli(['demo', '--serve', '--resolve-after', 'soon'], { timeoutMs: 30_000 });
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--resolve-after');
  }, 90_000);

  it('runs the daemon on the planted database: findings appear in the API, the fixed one resolves, Ctrl-C cleans up (exit 130)', async () => {
    assertBuilt();
    const child = spawn(process.execPath, [BIN, 'demo', '--serve', '--resolve-after', '5s'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    let done = false;
    void exited.then(() => (done = true));
    // On failure or timeout: Ctrl-C first (the demo stops its PostgreSQL and removes its data), SIGKILL if that hangs.
    const stop = async (): Promise<void> => {
      if (done) return;
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (!done) child.kill('SIGKILL');
    };
    const killer = setTimeout(() => void stop(), 380_000);
    const output = () => `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
    try {
      const { url, token } = await until(
        'the API URL and token',
        async () => {
          if (done) throw new Error('demo --serve exited');
          const u = /^ {2}API {4}(http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
          const t = /^ {2}token {2}([0-9a-f]{48}) /m.exec(stdout);
          return u && t && { url: u[1]!, token: t[1]! };
        },
        180_000,
        output,
      );
      expect(stdout).toContain(`curl -s -H 'Authorization: Bearer ${token}' '${url}/api/v1/findings?status=open'`);
      const cluster = /is up on 127\.0\.0\.1:(\d+) \(data in (\S+);/.exec(stderr);
      const store = /PGlite store in (\S+)\/store \(removed at exit\)/.exec(stderr);
      expect(cluster, output()).not.toBeNull();
      expect(store, output()).not.toBeNull();
      const [pgPort, dataDir, storeDir] = [Number(cluster![1]), cluster![2]!, store![1]!];
      const apiPort = Number(new URL(url).port);

      // Without the token: 401 problem+json. /docs needs none.
      const anonymous = await fetch(`${url}/api/v1/findings`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
      expect(((await anonymous.json()) as { status: number }).status).toBe(401);
      expect((await fetch(`${url}/docs`, { redirect: 'follow' })).status).toBe(200);

      const findings = async (): Promise<FindingBody[]> => {
        const res = await fetch(`${url}/api/v1/findings?limit=500`, { headers: { authorization: `Bearer ${token}` } });
        if (!res.ok) throw new Error(`GET /api/v1/findings: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { items: FindingBody[] }).items;
      };
      const billing = (items: FindingBody[]) => items.find((f) => f.rule === 'idle-in-transaction' && f.object.name === 'billing-worker');

      // The planted problems appear (a few of each kind are enough to show the daemon sees the plants).
      const appeared = await until(
        'the planted findings',
        async () => {
          const items = await findings();
          const rules = new Set(items.map((f) => f.rule));
          return ['idle-in-transaction', 'missing-index', 'vacuum-lag', 'pool-exhaustion'].every((r) => rules.has(r)) && billing(items) && items;
        },
        120_000,
        output,
      );
      expect(appeared.every((f) => f.target === 'shop')).toBe(true);
      expect(appeared.some((f) => f.rule === 'missing-index' && f.object.name === 'orders')).toBe(true);
      expect(billing(appeared)).toMatchObject({ status: 'open' });
      // Controls stay silent in the daemon too.
      expect(appeared.filter((f) => f.rule === 'idle-in-transaction' && f.object.name !== 'billing-worker')).toEqual([]);

      // The demo fixes billing-worker's idle transaction; its finding resolves, the rest stay open.
      const resolved = await until(
        'billing-worker\'s finding to resolve',
        async () => {
          const f = billing(await findings());
          return f?.status === 'resolved' && f;
        },
        90_000,
        output,
      );
      expect(resolved.id).toBe(billing(appeared)!.id);
      expect(stderr).toContain("fixed: ended billing-worker's idle transaction");
      // The demo's own notes follow the API (it polls every 3 s).
      await until('the demo to note the resolution', async () => stderr.includes(`resolved #${resolved.id} warning idle-in-transaction: application billing-worker`), 15_000, output);
      expect((await findings()).some((f) => f.rule === 'missing-index' && f.status === 'open')).toBe(true);

      child.kill('SIGINT');
      const result = await exited;
      expect(result.code, output()).toBe(130);
      expect(stderr).toContain('interrupted (SIGINT): stopping PostgreSQL');
      expect(existsSync(dataDir)).toBe(false);
      expect(existsSync(storeDir)).toBe(false);
      expect(await portAnswers(pgPort)).toBe(false);
      expect(await portAnswers(apiPort)).toBe(false);
    } finally {
      clearTimeout(killer);
      await stop();
    }
  }, 420_000);
});
