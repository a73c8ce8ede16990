/**
 * How far a sequence has come through the values it can still hand out: the binding limit is the nearer of the
 * sequence's own bound and the range of the column it feeds (a bigint sequence feeding an integer column fails
 * at 2^31 − 1). Exact on int8 values (BigInt); pure.
 */
import type { SequenceStat } from '../../src/snapshot/types.js';
import type { Window } from '../../src/snapshot/window-types.js';

const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  smallint: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
};

export interface SequenceUse {
  readonly descending: boolean;
  /** The bound the sequence runs into: min_value when descending, else max_value, narrowed by the column. */
  readonly limit: bigint;
  /** Which bound binds: the column's type or the sequence's own min/max. */
  readonly limitedBy: 'column' | 'sequence';
  /** The column's integer range is narrower than the sequence's in the direction it runs. */
  readonly columnNarrower: boolean;
  /** Fraction 0–1 of the range from the far bound to the binding limit already used. */
  readonly usedFraction: number;
  /** Values left before the limit (sequence values, ≥ 0). */
  readonly valuesLeft: bigint;
  /** nextval() calls left (values left / |increment|). */
  readonly callsLeft: bigint;
}

/** null when the sequence was never used (no last value) or its range is empty. */
export function sequenceUse(seq: SequenceStat): SequenceUse | null {
  if (seq.lastValue === null) return null;
  const last = BigInt(seq.lastValue);
  const increment = BigInt(seq.incrementBy);
  const descending = increment < 0n;
  const column = seq.column ? INTEGER_RANGES[seq.column.type] : undefined;
  const seqMin = BigInt(seq.minValue);
  const seqMax = BigInt(seq.maxValue);
  const low = column && column[0] > seqMin ? column[0] : seqMin;
  const high = column && column[1] < seqMax ? column[1] : seqMax;
  if (high <= low) return null;
  const columnNarrower = column !== undefined && (descending ? column[0] > seqMin : column[1] < seqMax);
  const limit = descending ? low : high;
  const used = descending ? high - last : last - low;
  const left = descending ? last - low : high - last;
  const step = descending ? -increment : increment;
  return {
    descending,
    limit,
    limitedBy: columnNarrower ? 'column' : 'sequence',
    columnNarrower,
    usedFraction: Math.min(1, Math.max(0, Number(used) / Number(high - low))),
    valuesLeft: left > 0n ? left : 0n,
    callsLeft: left > 0n && step > 0n ? left / step : 0n,
  };
}

/**
 * Values consumed per second over the window (first to last sample that read the sequence); null when the
 * window did not see it twice, saw it go backwards (a reset) or saw no use.
 */
export function consumptionPerSecond(window: Window | null, seq: SequenceStat, descending: boolean): number | null {
  if (!window) return null;
  const readings = window.samples
    .map((s) => ({ at: Date.parse(s.collectedAt), value: s.sequences?.find((q) => q.schema === seq.schema && q.name === seq.name)?.lastValue }))
    .filter((r): r is { at: number; value: string } => typeof r.value === 'string' && Number.isFinite(r.at));
  const first = readings[0];
  const last = readings.at(-1);
  if (!first || !last || first === last) return null;
  const seconds = (last.at - first.at) / 1000;
  const consumed = descending ? BigInt(first.value) - BigInt(last.value) : BigInt(last.value) - BigInt(first.value);
  if (seconds <= 0 || consumed <= 0n) return null;
  return Number(consumed) / seconds;
}

/** The smallest integer type that holds the range, for the recommendation. */
export function isIntegerType(type: string): boolean {
  return type in INTEGER_RANGES;
}
