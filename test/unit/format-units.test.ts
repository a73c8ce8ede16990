import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../src/format/units.js';

describe('unit formatting shared by rule summaries and reports', () => {
  it('formats durations at each boundary', () => {
    expect([0, -5, 42.4, 119, 120, 330, 7199, 7200, 7500, 172_799, 172_800, 280_000].map(formatDuration)).toEqual([
      '0 s',
      '0 s',
      '42 s',
      '119 s',
      '2 min',
      '5 min 30 s',
      '119 min 59 s',
      '2 h 0 min',
      '2 h 5 min',
      '47 h 59 min',
      '2 d 0 h',
      '3 d 5 h',
    ]);
  });

  it('formats bytes in binary units', () => {
    expect([0, 1023, 1024, 1536, 8 * 1024 ** 3, 3 * 1024 ** 6].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '8.0 GiB', '3072.0 PiB']);
  });
});
