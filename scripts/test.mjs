#!/usr/bin/env node
// npm test: build, type-check, run the whole suite on the default major (17), then the integration
// tests of the collector and the rules on 15, 16 and 18 as well. Exits non-zero on the first failing run.
import { spawnSync } from 'node:child_process';

const MATRIX_MAJORS = ['15', '16', '18'];
// Collector, planted-problem rule tests, query rules and the daemon's counter history on every other supported major as well.
const MATRIX_FILES = [
  'test/integration/collector',
  'test/integration/rules-bloat',
  'test/integration/rules-vacuum',
  'test/integration/rules-idle-in-transaction',
  'test/integration/rules-pool-exhaustion',
  'test/integration/query-rules.test.ts',
  'test/integration/n-plus-one-patterns.test.ts',
  'test/integration/daemon-history.test.ts',
  'test/integration/rules-invalid-index',
  'test/integration/rules-duplicate-index',
  'test/integration/rules-fk-without-index',
];

function run(label, cmd, args, env = {}) {
  console.log(`\n=== ${label}`);
  const started = Date.now();
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`=== ${label}: ${result.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const extra = process.argv.slice(2);
run('build', 'npx', ['tsc', '-p', 'tsconfig.build.json']);
run('typecheck', 'npx', ['tsc', '--noEmit', '-p', '.']);
run('suite on PostgreSQL 17', 'npx', ['vitest', 'run', ...extra], { PG_MAJOR: process.env.PG_MAJOR ?? '17' });
if (extra.length === 0 && !process.env.TEST_DATABASE_URL) {
  for (const major of MATRIX_MAJORS) {
    run(`integration on PostgreSQL ${major}`, 'npx', ['vitest', 'run', '--passWithNoTests', ...MATRIX_FILES], { PG_MAJOR: major });
  }
}
