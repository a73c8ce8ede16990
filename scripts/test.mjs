#!/usr/bin/env node
// npm test: build, run the whole suite on the default major (17), then the collector integration
// tests on 15, 16 and 18 as well. Exits non-zero on the first failing run.
import { spawnSync } from 'node:child_process';

const MATRIX_MAJORS = ['15', '16', '18'];
const MATRIX_FILES = ['test/integration/collector'];

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
    run(`collector on PostgreSQL ${major}`, 'npx', ['vitest', 'run', '--passWithNoTests', ...MATRIX_FILES], { PG_MAJOR: major });
  }
}
