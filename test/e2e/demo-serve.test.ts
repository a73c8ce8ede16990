import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cleanEnv, runCli } from './run-cli.js';
import { until } from './serve-support.js';

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

/** `node bin/pg-advisor.js demo …args` left running; `stop` sends Ctrl-C, then SIGKILL if that hangs. */
function spawnDemo(args: readonly string[]) {
  assertBuilt();
  const child = spawn(process.execPath, [BIN, 'demo', ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '', done: false };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  void exited.then(() => (out.done = true));
  // On failure or timeout: Ctrl-C first (the demo stops its PostgreSQL and removes its data), SIGKILL if that hangs.
  const stop = async (): Promise<void> => {
    if (out.done) return;
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (!out.done) child.kill('SIGKILL');
  };
  const output = () => `--- stdout\n${out.stdout}\n--- stderr\n${out.stderr}`;
  return { child, out, exited, stop, output };
}

/** The daemon's block: "  API    http://…" and "  token  <hex> …" lines. */
function apiOf(text: string): { url: string; token: string } | null {
  const u = /^ {2}API {4}(http:\/\/127\.0\.0\.1:\d+)$/m.exec(text);
  const t = /^ {2}token {2}([0-9a-f]{48}) /m.exec(text);
  return u && t && { url: u[1]!, token: t[1]! };
}

/** "is up on 127.0.0.1:PORT (data in DIR; …" and "PGlite store in DIR/store (removed at exit)" from stderr. */
function dirsOf(stderr: string): { pgPort: number; dataDir: string; storeDir: string } | null {
  const cluster = /is up on 127\.0\.0\.1:(\d+) \(data in (\S+);/.exec(stderr);
  const store = /PGlite store in (\S+)\/store \(removed at exit\)/.exec(stderr);
  return cluster && store && { pgPort: Number(cluster[1]), dataDir: cluster[2]!, storeDir: store[1]! };
}

describe('pg-advisor demo (report, then the daemon)', () => {
  it('rejects daemon flags with --once, a bad --resolve-after and the removed --serve, before starting anything', async () => {
    const cases: [args: string[], flag: string][] = [
      [['--once', '--port', '1'], '--port'],
      [['--once', '--resolve-after', '5s'], '--resolve-after'],
      [['--resolve-after', 'soon'], '--resolve-after'],
      [['--serve'], '--serve'],
    ];
    for (const [args, flag] of cases) {
      const r = await runCli(['demo', ...args], { timeoutMs: 30_000 });
      expect(r.code, `demo ${args.join(' ')}:\n${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`pg-advisor: `);
      expect(r.stderr).toContain(flag);
      if (args.includes('--once')) expect(r.stderr).toContain('hint: drop --once');
      expect(r.stderr).not.toContain('starting a throwaway PostgreSQL');
    }
  }, 120_000);

  it('prints the report, then runs the daemon: findings appear in the API, the fixed one resolves, Ctrl-C cleans up (exit 130)', async () => {
    const demo = spawnDemo(['--resolve-after', '5s']);
    const { out, output } = demo;
    const killer = setTimeout(() => void demo.stop(), 440_000);
    try {
      const { url, token } = await until(
        'the API URL and token',
        async () => {
          if (out.done) throw new Error('demo exited');
          return apiOf(out.stdout);
        },
        { timeoutMs: 240_000, lastSeen: output },
      );
      // The one-shot report comes first, on the same stdout, then the block that says the daemon keeps running.
      const reportAt = out.stdout.indexOf('pg-advisor check · database shop');
      const blockAt = out.stdout.indexOf('The demo keeps running');
      expect(reportAt, output()).toBeGreaterThanOrEqual(0);
      expect(blockAt, output()).toBeGreaterThan(reportAt);
      expect(out.stdout.slice(reportAt, blockAt)).toContain('idle-in-transaction');
      expect(out.stderr).toMatch(/running: pg-advisor check --window 5s as advisor_demo/);
      expect(out.stdout.slice(blockAt)).toContain('Running until Ctrl-C');
      expect(out.stdout).toContain(`curl -s -H 'Authorization: Bearer ${token}' '${url}/api/v1/findings?status=open'`);
      const dirs = dirsOf(out.stderr);
      expect(dirs, output()).not.toBeNull();
      const { pgPort, dataDir, storeDir } = dirs!;
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
        { timeoutMs: 120_000, lastSeen: output },
      );
      expect(appeared.every((f) => f.target === 'shop')).toBe(true);
      expect(appeared.some((f) => f.rule === 'missing-index' && f.object.name === 'orders')).toBe(true);
      expect(billing(appeared)).toMatchObject({ status: 'open' });
      // Controls stay silent in the daemon too.
      expect(appeared.filter((f) => f.rule === 'idle-in-transaction' && f.object.name !== 'billing-worker')).toEqual([]);

      // The demo fixes billing-worker's idle transaction; its finding resolves, the rest stay open.
      const resolved = await until(
        "billing-worker's finding to resolve",
        async () => {
          const f = billing(await findings());
          return f?.status === 'resolved' && f;
        },
        { timeoutMs: 90_000, lastSeen: output },
      );
      expect(resolved.id).toBe(billing(appeared)!.id);
      expect(out.stderr).toContain("fixed: ended billing-worker's idle transaction");
      // The demo's own notes follow the API (it polls every 3 s).
      await until(
        'the demo to note the resolution',
        async () => out.stderr.includes(`resolved #${resolved.id} warning idle-in-transaction: application billing-worker`),
        { timeoutMs: 15_000, lastSeen: output },
      );
      expect((await findings()).some((f) => f.rule === 'missing-index' && f.status === 'open')).toBe(true);

      demo.child.kill('SIGINT');
      const result = await demo.exited;
      expect(result.code, output()).toBe(130);
      expect(out.stderr).toContain('interrupted (SIGINT): stopping PostgreSQL');
      expect(existsSync(dataDir)).toBe(false);
      expect(existsSync(storeDir)).toBe(false);
      expect(await portAnswers(pgPort)).toBe(false);
      expect(await portAnswers(apiPort)).toBe(false);
    } finally {
      clearTimeout(killer);
      await demo.stop();
    }
  }, 480_000);

  it('with --format json keeps stdout to the report and prints the daemon block on stderr; SIGTERM cleans up (exit 143)', async () => {
    const demo = spawnDemo(['--format', 'json', '--window', '1s', '--resolve-after', '10m']);
    const { out, output } = demo;
    const killer = setTimeout(() => void demo.stop(), 290_000);
    try {
      const { url, token } = await until(
        'the API URL and token on stderr',
        async () => {
          if (out.done) throw new Error('demo exited');
          return apiOf(out.stderr);
        },
        { timeoutMs: 240_000, lastSeen: output },
      );
      expect(apiOf(out.stdout)).toBeNull();
      const report = JSON.parse(out.stdout) as { version: number; target: { user: string }; findings: unknown[] };
      expect(report).toMatchObject({ version: 1, target: { user: 'advisor_demo' } });
      expect(report.findings.length).toBeGreaterThan(0);
      // The daemon answers (its findings need a few samples; the route is enough here).
      const res = await fetch(`${url}/api/v1/targets`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const { pgPort, dataDir, storeDir } = dirsOf(out.stderr)!;

      demo.child.kill('SIGTERM');
      const result = await demo.exited;
      expect(result.code, output()).toBe(143);
      expect(out.stderr).toContain('interrupted (SIGTERM): stopping PostgreSQL');
      expect(existsSync(dataDir)).toBe(false);
      expect(existsSync(storeDir)).toBe(false);
      expect(await portAnswers(pgPort)).toBe(false);
      expect(await portAnswers(Number(new URL(url).port))).toBe(false);
    } finally {
      clearTimeout(killer);
      await demo.stop();
    }
  }, 300_000);
});
