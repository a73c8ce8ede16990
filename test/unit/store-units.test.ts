import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors/errors.js';
import { acquireDirLock } from '../../src/store/dir-lock.js';
import { decodeCursor, encodeCursor } from '../../src/store/finding-cursor.js';
import { impactScore } from '../../src/store/finding-rows.js';
import { InvalidCursorError } from '../../src/store/index.js';

describe('finding cursor', () => {
  it('round-trips and rejects anything else', () => {
    const c = { rank: 2, impact: 0.42, id: 9007199254740991 };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    for (const bad of [
      '',
      'x',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('[1,"a",3]').toString('base64url'),
      Buffer.from('{"a":1}').toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(InvalidCursorError);
    }
  });
});

describe('impact score', () => {
  it('is the largest finite impact number, never negative', () => {
    expect(impactScore({})).toBe(0);
    expect(impactScore({ a: 0.2, b: 3 })).toBe(3);
    expect(impactScore({ a: -5 })).toBe(0);
    expect(impactScore({ a: Number.NaN, b: 1 })).toBe(1);
  });
});

describe('embedded store directory lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is exclusive within a process and released on close', () => {
    const lock = acquireDirLock(dir);
    expect(JSON.parse(readFileSync(join(dir, 'pg-advisor.lock'), 'utf8')).pid).toBe(process.pid); // pid, boot id, start time
    expect(() => acquireDirLock(dir)).toThrow(/already open in this process/);
    lock.release();
    expect(existsSync(join(dir, 'pg-advisor.lock'))).toBe(false);
    acquireDirLock(dir).release();
  });

  it('refuses a directory held by a live process and takes over one left by a dead process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(join(dir, 'pg-advisor.lock'), String(child.pid));
      expect(() => acquireDirLock(dir)).toThrow(UsageError);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
    }
    const lock = acquireDirLock(dir); // its owner is gone now
    expect(JSON.parse(readFileSync(join(dir, 'pg-advisor.lock'), 'utf8')).pid).toBe(process.pid); // pid, boot id, start time
    lock.release();
  });
});
