import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli } from './run-cli.js';

describe('check: connection failures exit 2 fast with a hint and never print the password', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('a closed port on localhost: connection refused, at once', async () => {
    const r = await runCli(['check', '--database-url', 'postgres://advisor:hunter2-pw@127.0.0.1:1/app']);
    expect(r.code).toBe(2);
    expect(r.durationMs).toBeLessThan(10_000);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('pg-advisor: Cannot connect to postgres://advisor:***@127.0.0.1:1/app: connection refused');
    expect(r.stderr).toMatch(/hint: check host and port/);
    expect(r.stderr).not.toContain('hunter2-pw');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  });

  it('a server that accepts but never answers: gives up after --connect-timeout, no hang', async () => {
    // A TCP listener that never speaks the protocol behaves like a black-holed or overloaded server.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const r = await runCli(['check', '--database-url', `postgres://advisor:hunter2-pw@127.0.0.1:${port}/app`, '--connect-timeout', '1s'], {
        timeoutMs: 30_000,
      });
      expect(r.code).toBe(2);
      expect(r.durationMs).toBeLessThan(10_000);
      expect(r.stderr).toContain(`pg-advisor: Cannot connect to postgres://advisor:***@127.0.0.1:${port}/app: no answer within 1000 ms`);
      expect(r.stderr).toMatch(/hint: check host, port and firewall/);
      expect(r.stderr).not.toContain('hunter2-pw');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a wrong password: authentication failed', async () => {
    const url = new URL(await db.createMonitorRole());
    url.password = 'definitely-wrong-pw';
    const r = await runCli(['check', '--database-url', url.toString()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Cannot connect to postgres:\/\/r_[0-9a-f]+:\*\*\*@.*: password authentication failed/);
    expect(r.stderr).toMatch(/hint: check the user name and password/);
    expect(r.stderr).not.toContain('definitely-wrong-pw');
  });

  it('a wrong password through PGPASSWORD and the PG* variables is masked too', async () => {
    const url = new URL(await db.createMonitorRole());
    const r = await runCli(['check'], {
      env: { PGHOST: url.hostname, PGPORT: url.port, PGUSER: decodeURIComponent(url.username), PGPASSWORD: 'also-wrong-pw', PGDATABASE: db.name },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('password authentication failed');
    expect(r.stderr).not.toContain('also-wrong-pw');
  });

  it('--debug adds the stack, still without the password', async () => {
    const r = await runCli(['check', '--debug', '--database-url', 'postgres://advisor:hunter2-pw@127.0.0.1:1/app']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
    expect(r.stderr).toContain('caused by:');
    expect(r.stderr).not.toContain('hunter2-pw');
  });
});
