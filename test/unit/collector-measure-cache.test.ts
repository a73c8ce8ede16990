import { describe, expect, it } from 'vitest';
import { MeasureCache, type MeasureKey } from '../../src/collector/measure-cache.js';
import { makeTableBloat } from '../support/builders.js';

const HOUR = 3_600_000;
const key = (o: Partial<MeasureKey> = {}): MeasureKey => ({ kind: 'table', oid: 1, bytes: 100_000_000, vacuums: 3, ...o });

describe('MeasureCache', () => {
  const result = makeTableBloat({ oid: 1 });
  const cache = new MeasureCache();
  cache.store(key(), 1000, result);

  it('reuses a result within the TTL while size (±10 %) and vacuums are unchanged', () => {
    expect(cache.find(key(), 1000 + HOUR, HOUR)).toBe(result);
    expect(cache.find(key({ bytes: 109_000_000 }), 2000, HOUR)).toBe(result);
    expect(cache.find(key({ bytes: 91_000_000 }), 2000, HOUR)).toBe(result);
  });

  it('measures again after the TTL, a size change over 10 %, a vacuum, or a clock step back', () => {
    expect(cache.find(key(), 1001 + HOUR, HOUR)).toBeUndefined();
    expect(cache.find(key({ bytes: 111_000_000 }), 2000, HOUR)).toBeUndefined();
    expect(cache.find(key({ bytes: 10_000_000 }), 2000, HOUR)).toBeUndefined(); // VACUUM FULL shrank it
    expect(cache.find(key({ vacuums: 4 }), 2000, HOUR)).toBeUndefined();
    expect(cache.find(key(), 500, HOUR)).toBeUndefined();
    expect(cache.find(key(), 1000, 0)).toBeUndefined(); // TTL 0: always measure
  });

  it('keeps tables and indexes apart and forgets relations that are gone', () => {
    expect(cache.find(key({ kind: 'index' }), 2000, HOUR)).toBeUndefined();
    const c = new MeasureCache();
    c.store(key({ oid: 1 }), 0, result);
    c.store(key({ oid: 2 }), 0, result);
    c.retain(new Set(['table:2']));
    expect(c.find(key({ oid: 1 }), 1, HOUR)).toBeUndefined();
    expect(c.find(key({ oid: 2 }), 1, HOUR)).toBe(result);
  });
});
