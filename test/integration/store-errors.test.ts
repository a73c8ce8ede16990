/**
 * Issue 10, item 15: store failures say what happened and what to do; the embedded store's lock tells a
 * reused pid from its owner, and is watched while held.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServe } from '../../src/daemon/index.js';
import { UsageError } from '../../src/errors/errors.js';
import { acquireDirLock, LOCK_FILE, startTicksOf, type LockEvent } from '../../src/store/dir-lock.js';
import { createStore, StoreError } from '../../src/store/index.js';

let root: string;
let template: string;

/** A migrated PGlite store directory, copied per case (creating one takes seconds). */
function copyOfStore(name: string): string {
  const dir = join(root, name);
  const r = spawnSync('cp', ['-a', template, dir]);
  expect(r.status).toBe(0);
  return dir;
}

async function openFailure(dir: string): Promise<unknown> {
  try {
    const store = createStore({ dataDir: dir });
    try {
      await store.migrate();
    } finally {
      await store.close(); // must not throw over the migrate failure (runMigrate and serve close in a finally)
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pga-store-errors-'));
  template = join(root, 'template');
  const store = createStore({ dataDir: template });
  await store.migrate();
  await store.close();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('a damaged embedded store', () => {
  it('names a half-deleted directory and how to start over, instead of re-initialising over it', async () => {
    const dir = copyOfStore('half');
    for (const entry of readdirSync(dir)) if (entry !== 'base') rmSync(join(dir, entry), { recursive: true });
    const error = await openFailure(dir);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(dir);
    expect((error as StoreError).message).toMatch(/damaged.*PG_VERSION/);
    expect((error as StoreError).hint).toContain(`mv ${dir} ${dir}.damaged`);
    expect((error as StoreError).hint).not.toMatch(/create tables/);
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(false); // left as it was
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false); // and unlocked
  });

  it('classifies a store PGlite cannot open (corrupt control file) as damaged, naming the directory', async () => {
    const dir = copyOfStore('corrupt');
    writeFileSync(join(dir, 'global', 'pg_control'), 'garbage');
    const error = await openFailure(dir);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(`the embedded store ${dir} is damaged`);
    expect((error as StoreError).message).not.toMatch(/migration unknown/);
    expect((error as StoreError).hint).toContain('.damaged');
    expect((error as StoreError).exitCode).toBe(2);
  });

  it('names a store directory it cannot create', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const error = await openFailure(join(file, 'store'));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toMatch(/cannot create the embedded store directory .*a-file\/store \(ENOTDIR\)/);
  });
});

describe('the embedded store lock', () => {
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const lockIn = (dir: string) => join(dir, LOCK_FILE);

  it('records pid, boot id and process start time', () => {
    const dir = mkdtempSync(join(root, 'lock-'));
    const lock = acquireDirLock(dir);
    try {
      expect(JSON.parse(readFileSync(lockIn(dir), 'utf8'))).toEqual({ pid: process.pid, bootId, startTicks: startTicksOf(process.pid), host: hostname() });
    } finally {
      lock.release();
    }
    expect(existsSync(lockIn(dir))).toBe(false);
  });

  it('takes over a lock whose pid now belongs to another process (reused after a reboot or restart)', () => {
    const dir = mkdtempSync(join(root, 'lock-'));
    const alive = process.ppid;
    for (const owner of [
      { pid: alive, bootId: 'another-boot', startTicks: startTicksOf(alive), host: hostname() }, // written before a reboot
      { pid: alive, bootId, startTicks: (startTicksOf(alive) ?? 0) + 1, host: hostname() }, // same boot, the pid was reused
    ]) {
      writeFileSync(lockIn(dir), JSON.stringify(owner));
      const lock = acquireDirLock(dir);
      expect(JSON.parse(readFileSync(lockIn(dir), 'utf8')).pid).toBe(process.pid);
      lock.release();
    }
  });

  it('refuses a live owner, naming the lock file and how to remove it safely', () => {
    const dir = mkdtempSync(join(root, 'lock-'));
    const alive = process.ppid;
    writeFileSync(lockIn(dir), JSON.stringify({ pid: alive, bootId, startTicks: startTicksOf(alive), host: hostname() }));
    const live = catchUsage(() => acquireDirLock(dir));
    expect(live.message).toContain(`in use by process ${alive}`);
    expect(live.hint).toContain(lockIn(dir));
    // An earlier version's lock (a bare pid) cannot be told from a reused pid: the hint says how to check.
    writeFileSync(lockIn(dir), String(alive));
    const legacy = catchUsage(() => acquireDirLock(dir));
    expect(legacy.hint).toContain(`ps -p ${alive}`);
    expect(legacy.hint).toContain(`remove ${lockIn(dir)}`);
    writeFileSync(lockIn(dir), 'not a lock');
    expect(catchUsage(() => acquireDirLock(dir)).hint).toContain(`remove ${lockIn(dir)}`);
  });

  it('recreates a lock file deleted while held, and reports one another process took over', () => {
    const dir = mkdtempSync(join(root, 'lock-'));
    const events: LockEvent[] = [];
    const lock = acquireDirLock(dir, (e) => events.push(e));
    try {
      expect(lock.check()).toBeNull();
      rmSync(lockIn(dir));
      expect(lock.check()).toMatchObject({ kind: 'recreated', path: lockIn(dir) });
      expect(JSON.parse(readFileSync(lockIn(dir), 'utf8')).pid).toBe(process.pid);
      // Deleted again, and a second daemon locked the directory before our next check.
      rmSync(lockIn(dir));
      const other = { pid: process.ppid, bootId, startTicks: startTicksOf(process.ppid), host: hostname() };
      writeFileSync(lockIn(dir), JSON.stringify(other));
      expect(lock.check()).toMatchObject({ kind: 'lost', owner: other });
      expect(events.map((e) => e.kind)).toEqual(['recreated', 'lost']);
    } finally {
      lock.release();
    }
    // Releasing a lost lock leaves the other process's file alone.
    expect(JSON.parse(readFileSync(lockIn(dir), 'utf8')).pid).toBe(process.ppid);
  });
});

function catchUsage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('serve and its store lock', () => {
  it('stops when another process takes over the lock of its embedded store, and recreates a deleted one', async () => {
    const dir = join(root, 'served');
    const configFile = join(root, 'served.yaml');
    writeFileSync(configFile, `store:\n  dir: ${dir}\napi:\n  port: 0\n`);
    const served = await runServe({ configFile, env: {}, handleSignals: false, logLevel: 'silent' });
    let stopped = false;
    void served.stopped.then(() => (stopped = true));
    try {
      const lockFile = join(dir, LOCK_FILE);
      rmSync(lockFile);
      await waitFor(() => existsSync(lockFile), 'the deleted lock to be recreated');
      expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
      expect(stopped).toBe(false);
      // Another daemon's lock replaces ours: this one must stop before both write the same directory.
      writeFileSync(
        lockFile,
        JSON.stringify({
          pid: process.ppid,
          bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
          startTicks: startTicksOf(process.ppid),
          host: hostname(),
        }),
      );
      await waitFor(() => stopped, 'serve to stop');
      expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(process.ppid); // not removed on the way out
    } finally {
      await served.stop();
    }
  });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
