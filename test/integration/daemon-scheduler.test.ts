import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_BACKOFF, intervalToCron, Scheduler } from '../../src/scheduler/index.js';
import { UsageError } from '../../src/errors/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduler', () => {
  let scheduler: Scheduler | undefined;
  afterEach(async () => {
    await scheduler?.stop(1000);
    scheduler = undefined;
  });

  it('turns intervals into cron expressions and rejects uneven ones', () => {
    expect(intervalToCron(15_000)).toBe('*/15 * * * * *');
    expect(intervalToCron(60_000)).toBe('0 */1 * * * *');
    expect(intervalToCron(5 * 60_000)).toBe('0 */5 * * * *');
    expect(intervalToCron(6 * 3_600_000)).toBe('0 0 */6 * * *');
    expect(intervalToCron(86_400_000)).toBe('0 0 0 * * *');
    expect(() => intervalToCron(7_000)).toThrow(UsageError);
    expect(() => intervalToCron(90_000)).toThrow(/cannot be scheduled evenly/);
  });

  it('backs off exponentially with jitter, capped', () => {
    const p = { ...DEFAULT_BACKOFF, baseMs: 1000, maxMs: 8000 };
    expect(backoffDelayMs(1, p, 0)).toBe(500);
    expect(backoffDelayMs(1, p, 0.999999)).toBe(1000);
    expect(backoffDelayMs(3, p, 0)).toBe(2000);
    expect(backoffDelayMs(10, p, 1)).toBe(8000);
    const samples = new Set(Array.from({ length: 20 }, () => backoffDelayMs(2, p, Math.random())));
    expect(samples.size).toBeGreaterThan(1);
  });

  it('never overlaps a slow job with itself', async () => {
    scheduler = new Scheduler();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    scheduler.addJob({
      name: 'slow',
      cron: '* * * * * *',
      run: async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(2300);
        running--;
        return 'done';
      },
    });
    scheduler.start();
    await sleep(4500);
    expect(maxRunning).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(2);
    expect(await scheduler.stop(5000)).toBe(true);
    expect(running).toBe(0);
  });

  it('skips ticks while backing off, then opens the circuit and recovers after a successful trial', async () => {
    let now = Date.parse('2026-11-23T10:00:00Z');
    scheduler = new Scheduler({ now: () => now, random: () => 0.5 });
    let fail = true;
    let runs = 0;
    const statuses: string[] = [];
    scheduler.addJob({
      name: 't',
      cron: '0 0 0 1 1 *',
      backoff: { baseMs: 1000, maxMs: 10_000, openAfterFailures: 3, openForMs: 60_000 },
      run: async () => {
        runs++;
        if (fail) throw new Error('connect ECONNREFUSED');
        return 'done';
      },
      onStatus: (s) => void statuses.push(`${s.circuit}:${s.consecutiveFailures}`),
    });
    await scheduler.tick('t');
    expect(scheduler.status('t')).toMatchObject({ consecutiveFailures: 1, circuit: 'closed', lastError: 'connect ECONNREFUSED' });
    // backoff after 1 failure: 1000 ms with equal jitter at random 0.5 → 750 ms
    now += 700;
    await scheduler.tick('t');
    expect(runs).toBe(1);
    now += 100;
    await scheduler.tick('t');
    expect(runs).toBe(2);
    now += 10_000;
    await scheduler.tick('t');
    expect(scheduler.status('t')).toMatchObject({ consecutiveFailures: 3, circuit: 'open' });
    fail = false;
    now += 59_000;
    await scheduler.tick('t');
    expect(runs).toBe(3); // circuit still open
    now += 2_000;
    await scheduler.tick('t');
    expect(scheduler.status('t')).toMatchObject({ consecutiveFailures: 0, circuit: 'closed' });
    expect(statuses).toEqual(['closed:1', 'closed:2', 'open:3', 'closed:0']);
    expect(runs).toBe(4);
  });
});
