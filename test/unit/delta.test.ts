import { describe, expect, it } from 'vitest';
import { diffCounters, zeroCounters } from '../../src/snapshot/delta.js';

describe('diffCounters', () => {
  it('diffs growing counters', () => {
    expect(diffCounters({ calls: 10, rows: 5 }, { calls: 15, rows: 9 })).toEqual({ delta: { calls: 5, rows: 4 }, restarted: false });
  });
  it('restarts from zero when any counter went down', () => {
    expect(diffCounters({ calls: 10, rows: 5 }, { calls: 3, rows: 7 })).toEqual({ delta: { calls: 3, rows: 7 }, restarted: true });
  });
  it('restarts when stats_since changed even if counters grew', () => {
    const r = diffCounters({ calls: 10 }, { calls: 12 }, { prev: '2026-01-01T00:00:00.000Z', curr: '2026-01-01T00:00:05.000Z' });
    expect(r).toEqual({ delta: { calls: 12 }, restarted: true });
  });
  it('ignores stats_since when one side is unknown', () => {
    expect(diffCounters({ calls: 10 }, { calls: 12 }, { prev: null, curr: '2026-01-01T00:00:05.000Z' }).restarted).toBe(false);
  });
  it('never returns negative numbers', () => {
    const r = diffCounters({ a: 5, b: 0 }, { a: -1, b: 0 });
    expect(Object.values(r.delta).every((v) => v >= 0)).toBe(true);
  });
  it('builds a zero delta with the same keys', () => {
    expect(zeroCounters({ x: 4, y: 2 })).toEqual({ x: 0, y: 0 });
  });
});
