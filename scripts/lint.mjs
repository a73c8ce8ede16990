#!/usr/bin/env node
// npm run lint: Biome checks formatting and lints (biome.json, shipped code only: no empty block without a
// comment saying why, no non-null assertion `!`), then no source line is over MAX_LINE characters (the
// formatter cannot break a long string). `npx biome format --write` fixes the layout. Exits non-zero on any problem.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX_LINE = 160;
const biome = spawnSync('npx', ['biome', 'ci', '--max-diagnostics=50'], { stdio: 'inherit' });
if (biome.status !== 0) {
  console.error('lint: run `npx biome format --write` for layout; lint errors need a code change');
  process.exit(biome.status ?? 1);
}
const files = spawnSync('git', ['ls-files', 'src/*.ts', 'rules/*.ts', 'test/*.ts', 'bench/*.ts', 'scripts/*', 'migrations/*.ts', 'bin/*.js'], {
  encoding: 'utf8',
})
  .stdout.split('\n')
  .filter(Boolean);
const long = files.flatMap((file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => ([...line].length > MAX_LINE ? [`${file}:${i + 1}: ${[...line].length} characters`] : [])),
);
if (long.length > 0) {
  console.error(`lint: lines over ${MAX_LINE} characters (split the string or expression):\n  ${long.join('\n  ')}`);
  process.exit(1);
}
console.log(`lint: ${files.length} files formatted, linted, no line over ${MAX_LINE} characters`);
