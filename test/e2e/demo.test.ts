import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { scenarios } from '../../src/demo/scenarios/index.js';
import { matching } from '../support/scenario-check.js';
import { assertBuilt, BIN, cleanEnv, runCli } from './run-cli.js';

/** "PostgreSQL 17 is up on 127.0.0.1:PORT (data in DIR; removed at exit)" → { port, dataDir }. */
function serverOf(stderr: string): { port: number; dataDir: string } {
  const match = /is up on 127\.0\.0\.1:(\d+) \(data in (\S+);/.exec(stderr);
  if (!match) throw new Error(`demo did not report its server:\n${stderr}`);
  return { port: Number(match[1]), dataDir: match[2]! };
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

describe('pg-advisor demo', () => {
  it('--once plants every problem, runs check as a pg_monitor-only role, prints the report, cleans up and exits 0', async () => {
    const r = await runCli(['demo', '--once', '--format', 'json', '--window', '2s'], { timeoutMs: 170_000 });
    expect(r.stderr).toContain('planting [');
    expect(r.stderr).toMatch(/running: pg-advisor check --window 2s as advisor_demo \(member of pg_monitor only\)/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      version: number;
      target: { user: string };
      findings: { rule: string; object: Record<string, unknown> }[];
      diagnostics: { status: string }[];
    };
    expect(report.version).toBe(1);
    expect(report.target.user).toBe('advisor_demo');
    // Every planted problem is reported; every healthy look-alike stays silent.
    const summary = JSON.stringify(report.findings.map((f) => [f.rule, f.object]));
    for (const scenario of scenarios) {
      for (const e of scenario.expected) expect(matching(report.findings, e), `missing ${JSON.stringify(e)} in ${summary}`).not.toEqual([]);
      for (const c of scenario.controls) expect(matching(report.findings, c), `control fired: ${JSON.stringify(c)}`).toEqual([]);
    }
    expect(report.diagnostics.filter((d) => d.status === 'error')).toEqual([]);
    // No daemon: it never started one.
    expect(r.stderr).not.toContain('starting the daemon');

    const { port, dataDir } = serverOf(r.stderr);
    expect(existsSync(dataDir)).toBe(false);
    expect(await portAnswers(port)).toBe(false);
  }, 180_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s while planting (plain demo) stops the server, removes its data and exits %d',
    async (signal, expected) => {
      assertBuilt();
      const child = spawn(process.execPath, [BIN, 'demo'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let sent = false;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on('close', (code, sig) => resolve({ code, signal: sig }));
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (!sent && /planting \[1\//.test(stderr)) {
          sent = true;
          child.kill(signal);
        }
      });
      child.stdout.resume();
      const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      const result = await exited;
      clearTimeout(killer);

      expect(sent, `the demo never reached planting:\n${stderr}`).toBe(true);
      expect(result.code).toBe(expected);
      expect(stderr).toContain(`interrupted (${signal}): stopping PostgreSQL`);
      const { port, dataDir } = serverOf(stderr);
      expect(existsSync(dataDir)).toBe(false);
      expect(await portAnswers(port)).toBe(false);
    },
    120_000,
  );
});
