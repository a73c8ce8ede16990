#!/usr/bin/env node
// npm run bench [-- name…]: builds, then runs each benchmark under bench/ (or the named ones) in turn.
// Benchmarks print numbers; none of them asserts a time.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
let failed = 0;
for (const file of files) {
  console.log(`\n### bench/${file}`);
  // --expose-gc: benchmarks that report heap held call gc() first.
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', `bench/${file}`], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.log(`### bench/${file} FAILED (exit ${run.status})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
