#!/usr/bin/env node
// npm test: build, type-check, run the whole suite on the default major (17), then the integration
// tests of the collector and the rules on 15, 16 and 18 as well. Exits non-zero on the first failing run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
  'test/integration/rules-unused-index',
  'test/integration/rules-fk-without-index',
  'test/integration/missing-index-patterns',
  'test/integration/managed-layouts.test.ts',
  'test/integration/setup-vanilla.test.ts',
  'test/integration/setup-managed.test.ts',
  'test/integration/rules-sequence-exhaustion',
  'test/integration/rules-long-running-transaction',
  'test/integration/rules-lock-contention',
  'test/integration/rules-stale-statistics',
  'test/integration/rules-replication-slot',
];

// Code and tests that compare times with the server's now(): run again with the clock of this process and
// of every PostgreSQL it starts moved a year ahead (libfaketime), so a test that only passes in the month
// it was written fails today rather than next month. Not the collector's tests: libfaketime defeats the
// server's statement_timeout timers, which those tests exercise.
const CLOCK_FILES = [
  'test/unit',
  'test/integration/store.test.ts',
  'test/integration/audits-outbox.test.ts',
  'test/integration/audits.test.ts',
  'test/integration/api.test.ts',
  'test/integration/notify-outbox.test.ts',
  'test/integration/daemon.test.ts',
  'test/integration/daemon-scheduler.test.ts',
  'test/integration/daemon-history.test.ts',
];
const CLOCK_SHIFT = '+366d';
const FAKETIME_LIBS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'];

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
run('lint (biome + line length)', 'node', ['scripts/lint.mjs']);
run('suite on PostgreSQL 17', 'npx', ['vitest', 'run', ...extra], { PG_MAJOR: process.env.PG_MAJOR ?? '17' });
if (extra.length === 0 && !process.env.TEST_DATABASE_URL) {
  for (const major of MATRIX_MAJORS) {
    run(`integration on PostgreSQL ${major}`, 'npx', ['vitest', 'run', '--passWithNoTests', ...MATRIX_FILES], { PG_MAJOR: major });
  }
  const lib = FAKETIME_LIBS.find((path) => existsSync(path));
  if (lib) {
    run(`clock moved ${CLOCK_SHIFT} (libfaketime)`, 'npx', ['vitest', 'run', ...CLOCK_FILES], {
      PG_MAJOR: '17',
      LD_PRELOAD: lib,
      FAKETIME: CLOCK_SHIFT,
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    });
  } else if (process.env.CI) {
    console.error('\n=== clock-moved run: libfaketime is missing (apt-get install faketime); .ci/run installs it');
    process.exit(1);
  } else {
    console.log(`\n=== clock-moved run skipped: libfaketime is not installed (apt-get install faketime)`);
  }
}
