import { describe, expect, it } from 'vitest';
import { must } from '../../src/errors/must.js';

describe('must: a value the code guarantees, or an error naming what was missing', () => {
  it('returns present values unchanged, falsy ones included', () => {
    expect([must(0, 'zero'), must('', 'empty'), must(false, 'false')]).toEqual([0, '', false]);
    const row = { usable: 3 };
    expect(must(row, 'row')).toBe(row);
  });

  it('throws a plain Error naming the missing value for undefined and null', () => {
    expect(() => must(undefined, 'the metrics of target db1')).toThrow(/pg-advisor bug: the metrics of target db1 is missing/);
    expect(() => must(null, 'job x')).toThrow(/job x/);
  });
});
