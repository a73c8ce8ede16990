import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors/errors.js';

const LOCK_FILE = 'pg-advisor.lock';
/** Directories this process holds (a pid equal to ours in a lock file is otherwise stale: e.g. PID 1 in a restarted container). */
const held = new Set<string>();

/**
 * An exclusive lock on an embedded store directory: a lock file holding the owner's pid. A lock left by
 * a dead process (kill -9) is taken over. Throws UsageError when a live process holds it.
 */
export function acquireDirLock(dir: string): { release(): void } {
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) {
    throw new UsageError(`the embedded store ${dir} is already open in this process`, { hint: 'open one store per directory and share it' });
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(path);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          held.delete(path);
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new UsageError(`the embedded store ${dir} is in use by process ${pid}`, {
          hint: 'an embedded (PGlite) store serves one process; stop the other daemon, or use a PostgreSQL store (ADVISOR_STORE_URL) for several replicas',
        });
      }
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new UsageError(`cannot lock the embedded store ${dir}`, { hint: 'remove the pg-advisor.lock file if no daemon is running' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
