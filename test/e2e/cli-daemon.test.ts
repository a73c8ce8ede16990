import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cleanEnv, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-cli-daemon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pg-advisor migrate', () => {
  it('applies the store migrations once, then reports the store up to date', async () => {
    const config = join(dir, 'migrate.yaml');
    writeFileSync(config, `store:\n  dir: ${join(dir, 'store-a')}\n`);
    const first = await runCli(['migrate', '--config', config], { timeoutMs: 60_000 });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied \d+ migration\(s\) to .*store-a: 0001_/);
    const second = await runCli(['migrate', '--config', config], { timeoutMs: 60_000 });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/store-a is up to date \(\d+ migrations\)/);
  });

  it('rejects a malformed config with exit 2 and the bad key', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'store:\n  dirr: x\n');
    const result = await runCli(['migrate', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('dirr');
  });
});

describe('pg-advisor serve', () => {
  it('rejects a bad --port with exit 2 and a hint', async () => {
    const result = await runCli(['serve', '--port', 'abc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port abc is not a port number');
    expect(result.stderr).toContain('hint:');
  });

  it('serves the API until SIGTERM, then exits 0', async () => {
    assertBuilt();
    const config = join(dir, 'serve.yaml');
    writeFileSync(config, `store:\n  dir: ${join(dir, 'store-b')}\napi:\n  host: 127.0.0.1\n  port: 0\n`);
    const child = spawn(process.execPath, [BIN, 'serve', '--config', config], {
      env: cleanEnv({ ADVISOR_LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not listen:\n${stderr}`)), 60_000);
      child.stderr.on('data', () => {
        const match = /API listening on (http:\/\/\S+)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const findings = await fetch(`${url}/api/v1/findings`);
    expect(findings.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
