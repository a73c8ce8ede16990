/**
 * `check --strict` through the built CLI on a real PostgreSQL without pg_stat_statements: the selected
 * rule that needs it is skipped; strict (or --baseline, its default) makes that exit 2 with why on stderr,
 * --no-strict and the plain run pass and count the skip in the verdict line.
 * Needs dist/: `npx tsc -p tsconfig.build.json` (npm test builds first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { assertBuilt, runCli, type CliResult } from './run-cli.js';

describe('check --strict: skipped rules fail the gate', () => {
  let db: TestDatabase;
  let url: string;
  let dir: string;

  function check(...args: string[]): Promise<CliResult> {
    return runCli(['check', '--database-url', url, '--rules', 'n-plus-one', ...args], { timeoutMs: 60_000 });
  }

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase();
    await db.admin.query('drop extension pg_stat_statements');
    url = await db.createMonitorRole();
    dir = mkdtempSync(join(tmpdir(), 'pg-advisor-strict-'));
  });

  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('without --strict it passes and the verdict line counts the skipped rule', async () => {
    const r = await check();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('· 1 rule skipped (see diagnostics)');
  });

  it('--strict exits 2 naming the rule, why and the hint', async () => {
    const r = await check('--strict');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('1 selected rule was skipped (n-plus-one)');
    expect(r.stderr).toMatch(/rule n-plus-one skipped: source statements unavailable/);
    expect(r.stderr).toMatch(/hint: .*pg_stat_statements/);
  });

  it('--baseline is strict by default; --no-strict turns it off', async () => {
    const baseline = join(dir, 'baseline.json');
    expect((await check('--write-baseline', baseline)).code).toBe(0);
    const strict = await check('--baseline', baseline);
    expect(strict.code, strict.stderr).toBe(2);
    expect(strict.stderr).toContain('n-plus-one');
    const loose = await check('--baseline', baseline, '--no-strict');
    expect(loose.code, loose.stderr).toBe(0);
  });
});
