/**
 * `pg-advisor setup` through the compiled CLI: prints SQL and exits 0 without connecting; usage errors exit 2
 * with a hint. The SQL itself: test/unit/setup-sql.test.ts and test/integration/setup-vanilla.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('pg-advisor setup', () => {
  it('prints the SQL on stdout and exits 0, connecting to nothing (an unreachable DATABASE_URL is ignored)', async () => {
    const r = await runCli(['setup', '--provider', 'neon', '--role', 'Ops', '--database', 'app'], {
      env: { DATABASE_URL: 'postgres://nobody:pw@127.0.0.1:1/none' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+create role "Ops" login connection limit 5;$/m);
    expect(r.stdout).toMatch(/^grant connect on database app to "Ops";$/m);
    expect(r.stdout).toMatch(/^-- .*compute suspends/m);
  });

  it.each([
    [['setup', '--provider', 'heroku'], /argument 'heroku' is invalid[\s\S]*vanilla, rds/, /hint:/],
    [['setup', '--role', 'pg_advisor'], /--role "pg_advisor" is reserved/, /hint: .*--role advisor/],
    [['setup', '--apply'], /unknown option '--apply'/, /hint:/],
  ])('%j exits 2 with a message and a hint', async (args, message, hint) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
  });
});
