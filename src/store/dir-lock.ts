import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors/errors.js';

export const LOCK_FILE = 'pg-advisor.lock';
/** How often a held lock is re-checked (ms). */
export const LOCK_CHECK_MS = 2000;
/** Directories this process holds (a pid equal to ours in a lock file is otherwise stale: e.g. PID 1 in a restarted container). */
const held = new Set<string>();

/**
 * Who holds a lock: enough to tell, after a reboot or in a restarted container, that a live process with
 * the recorded pid is not the holder. `bootId` and `startTicks` are null where /proc is missing (not Linux).
 */
export interface LockOwner {
  readonly pid: number;
  /** /proc/sys/kernel/random/boot_id: changes at every boot. */
  readonly bootId: string | null;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat, field 22): a reused pid has another. */
  readonly startTicks: number | null;
  readonly host: string;
}

/** A change to a held lock file noticed while running. */
export type LockEvent =
  | { readonly kind: 'recreated'; readonly path: string; readonly message: string }
  | { readonly kind: 'lost'; readonly path: string; readonly message: string; readonly owner: LockOwner | null };

export interface DirLock {
  release(): void;
  /** Re-checks the lock file now (also done every LOCK_CHECK_MS while held); returns what it found. */
  check(): LockEvent | null;
}

/**
 * An exclusive lock on an embedded store directory: a lock file recording the owner (pid, boot id, process
 * start time). A lock whose owner is gone — dead pid, another boot, or a live pid that started at another
 * time (reused) — is taken over. Throws UsageError when a live process holds it, naming the file and how to
 * remove it safely. While held, the file is re-checked: a deleted one is recreated, one replaced by another
 * process is reported as lost (`onEvent`), for the daemon to stop.
 */
export function acquireDirLock(dir: string, onEvent: (event: LockEvent) => void = () => undefined): DirLock {
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) {
    throw new UsageError(`the embedded store ${dir} is already open in this process`, { hint: 'open one store per directory and share it' });
  }
  const me = currentOwner();
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(path, me)) return hold(path, me, onEvent);
    const text = readLock(path);
    if (text === null) continue; // removed between our attempt and the read: try again
    const owner = parseOwner(text);
    const verdict = judge(owner, me);
    if (verdict === 'live' && owner) throw inUse(dir, path, owner); // judge says live only of a parsed owner
    if (verdict === 'unknown') {
      throw new UsageError(`the embedded store ${dir} has a lock file ${path} that pg-advisor cannot read (${JSON.stringify(text.slice(0, 80))})`, {
        hint: `if no pg-advisor daemon uses ${dir}, remove ${path} and start again`,
      });
    }
    rmSync(path, { force: true }); // stale: its owner is gone
  }
  throw new UsageError(`cannot lock the embedded store ${dir}`, {
    hint: `another process keeps creating ${path}; if no pg-advisor daemon uses ${dir}, remove it`,
  });
}

function hold(path: string, me: LockOwner, onEvent: (event: LockEvent) => void): DirLock {
  held.add(path);
  let released = false;
  const check = (): LockEvent | null => {
    if (released) return null;
    const text = readLock(path);
    let event: LockEvent | null = null;
    if (text === null) {
      event = tryCreate(path, me)
        ? { kind: 'recreated', path, message: `the store lock file ${path} was deleted while this daemon held it; recreated it` }
        : lost(path, parseOwner(readLock(path) ?? ''));
    } else {
      const owner = parseOwner(text);
      if (!owner || !sameOwner(owner, me)) event = lost(path, owner);
    }
    if (event) onEvent(event);
    return event;
  };
  const timer = setInterval(check, LOCK_CHECK_MS);
  timer.unref();
  return {
    check,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      held.delete(path);
      // Only our own lock: a file another process wrote after ours was lost stays its.
      const owner = parseOwner(readLock(path) ?? '');
      if (owner && sameOwner(owner, me)) rmSync(path, { force: true });
    },
  };
}

const lost = (path: string, owner: LockOwner | null): LockEvent => ({
  kind: 'lost',
  path,
  owner,
  message:
    `the store lock file ${path} now belongs to ` +
    `${owner ? `process ${owner.pid} on ${owner.host}` : 'something else'}: another process may have ` +
    `opened the embedded store; stopping to avoid corrupting it`,
});

function tryCreate(path: string, me: LockOwner): boolean {
  try {
    const fd = openSync(path, 'wx');
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readLock(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The lock file's owner: JSON (this version) or a bare pid (earlier versions: no boot id, no start time). */
export function parseOwner(text: string): LockOwner | null {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed), bootId: null, startTicks: null, host: hostname() };
  try {
    const v = JSON.parse(trimmed) as Partial<LockOwner>;
    if (typeof v.pid === 'number' && Number.isSafeInteger(v.pid) && v.pid > 0) {
      return {
        pid: v.pid,
        bootId: typeof v.bootId === 'string' ? v.bootId : null,
        startTicks: typeof v.startTicks === 'number' ? v.startTicks : null,
        host: typeof v.host === 'string' ? v.host : hostname(),
      };
    }
  } catch {
    // not JSON: unreadable, reported as such by the caller
  }
  return null;
}

/**
 * live: the recorded process still runs (same boot, same start time when recorded); stale: it is gone;
 * unknown: the file cannot be read as a lock.
 */
function judge(owner: LockOwner | null, me: LockOwner): 'live' | 'stale' | 'unknown' {
  if (!owner) return 'unknown';
  if (owner.bootId && me.bootId && owner.bootId !== me.bootId) return 'stale'; // written before a reboot
  if (owner.pid === me.pid) return 'stale'; // not held by us (checked above): an earlier life of our pid
  if (!isAlive(owner.pid)) return 'stale';
  if (owner.startTicks !== null) {
    const ticks = startTicksOf(owner.pid);
    if (ticks !== null && ticks !== owner.startTicks) return 'stale'; // the pid was reused
  }
  return 'live';
}

function inUse(dir: string, path: string, owner: LockOwner): UsageError {
  const command = commandOf(owner.pid);
  const what = command ? `process ${owner.pid} (${command})` : `process ${owner.pid}`;
  const legacy = owner.bootId === null && owner.startTicks === null;
  return new UsageError(`the embedded store ${dir} is in use by ${what}`, {
    hint:
      'an embedded (PGlite) store serves one process: stop the other daemon, or use a PostgreSQL store (ADVISOR_STORE_URL) for several replicas' +
      (legacy
        ? `; this lock file (${path}) predates pg-advisor's boot-id check, so after a reboot the pid may ` +
          `belong to another program: if \`ps -p ${owner.pid} -o args\` shows no pg-advisor, remove ${path}`
        : `; if ${what} is not a pg-advisor daemon, remove ${path}`),
  });
}

const sameOwner = (a: LockOwner, b: LockOwner): boolean => a.pid === b.pid && a.bootId === b.bootId && a.startTicks === b.startTicks;

function currentOwner(): LockOwner {
  return { pid: process.pid, bootId: bootId(), startTicks: startTicksOf(process.pid), host: hostname() };
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null; // not Linux: the pid check alone decides
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may contain spaces). */
export function startTicksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // fields[0] is field 3 (state)
    return Number.isSafeInteger(ticks) ? ticks : null;
  } catch {
    return null; // gone, or not Linux
  }
}

function commandOf(pid: number): string | null {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000').filter(Boolean).join(' ');
    return args ? args.slice(0, 120) : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
