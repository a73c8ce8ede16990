import { describe, expect, it } from 'vitest';
import rule from '../../rules/sequence-exhaustion/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { AnyRule } from '../../src/engine/types.js';
import { deepFreeze } from '../../src/snapshot/freeze.js';
import type { SequenceColumn, SequenceStat, SequencesState } from '../../src/snapshot/types.js';
import { makeSample, makeSequence, makeSequencesState, makeSnapshot, makeWindow } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const INT_MAX = 2147483647;
const intColumn = (o: Partial<SequenceColumn> = {}): SequenceColumn => ({
  schema: 'public',
  table: 'orders',
  name: 'id',
  type: 'integer',
  identity: false,
  ...o,
});
/** A bigint sequence capped at 10,001: used fraction = (last − 1) / 10,000. */
const capped = (last: number, o: Partial<SequenceStat> = {}): SequenceStat =>
  makeSequence({ name: 'capped_seq', maxValue: '10001', lastValue: String(last), ...o });
/** A bigint sequence feeding an integer column (a serial from before PostgreSQL 10). */
const legacy = (last: number, o: Partial<SequenceStat> = {}): SequenceStat =>
  makeSequence({ name: 'orders_id_seq', lastValue: String(last), column: intColumn(), ...o });
const descending = (last: number, o: Partial<SequenceStat> = {}): SequenceStat =>
  makeSequence({ name: 'countdown_seq', incrementBy: '-1', startValue: '-1', minValue: '-10001', maxValue: '-1', lastValue: String(last), column: null, ...o });
const snap = (sequences: SequenceStat[], o: Partial<SequencesState> = {}) => makeSnapshot({ sequences: makeSequencesState({ sequences, ...o }) });
/** 10 samples, one a second, the sequence advancing `perSecond` values a second up to `last`. */
const windowFor = (seq: SequenceStat, perSecond: number) =>
  makeWindow({
    perSample: (i) => ({ sequences: [{ schema: seq.schema, name: seq.name, lastValue: String(Number(seq.lastValue) - (9 - i) * perSecond) }] }),
  });

ruleTester(rule, {
  valid: [
    { name: 'a young bigint sequence', snapshot: snap([makeSequence()]) },
    { name: 'no sequences at all', snapshot: snap([]) },
    { name: 'a snapshot from before the sequences source', snapshot: makeSnapshot({ sequences: null }) },
    { name: 'just under 75 % of its own maximum', snapshot: snap([capped(7_500)]) },
    { name: 'a never-used sequence', snapshot: snap([capped(7_500, { lastValue: null })]) },
    { name: 'a cycling sequence at 99 % wraps by design', snapshot: snap([capped(9_901, { cycle: true })]) },
    { name: 'a bigint sequence on an integer column just under half the column', snapshot: snap([legacy(1_073_741_823)]) },
    { name: 'a descending sequence at 70 % of its way to the minimum', snapshot: snap([descending(-7_001)]) },
    {
      name: 'a sequence feeding a numeric column is measured against itself',
      snapshot: snap([legacy(2_000_000_000, { column: intColumn({ type: 'numeric(20,0)' }) })]),
    },
    { name: 'a raised warning fraction silences 80 %', snapshot: snap([capped(8_001)]), thresholds: { warningFraction: 0.85 } },
  ],
  invalid: [
    {
      name: 'exactly 75 % of its own maximum is a warning',
      snapshot: snap([capped(7_501)]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'sequence', schema: 'public', name: 'capped_seq' },
          evidence: { lastValue: '7501', limitValue: '10001', limitedBy: 'sequence', usedFraction: 0.75, callsLeft: 2_500, descending: false, daysLeft: null },
        },
      ],
      renumbered: { snapshot: snap([capped(9_500)]) },
    },
    {
      name: 'just under 90 % stays a warning',
      snapshot: snap([capped(9_000)]),
      findings: [{ severity: 'warning', object: { name: 'capped_seq' }, evidence: { usedFraction: 0.8999 } }],
    },
    {
      name: 'exactly 90 % is critical',
      snapshot: snap([capped(9_001)]),
      findings: [{ severity: 'critical', object: { name: 'capped_seq' }, evidence: { usedFraction: 0.9 } }],
    },
    {
      name: 'a bigint sequence on an integer column at half the column is info, bound by the column',
      snapshot: snap([legacy(1_073_741_824)]),
      findings: [
        {
          severity: 'info',
          object: { type: 'sequence', name: 'orders_id_seq' },
          evidence: {
            limitValue: String(INT_MAX),
            limitedBy: 'column',
            usedFraction: 0.5,
            column: { schema: 'public', table: 'orders', column: 'id', columnType: 'integer', identity: false },
          },
        },
      ],
    },
    {
      name: 'a bigint sequence on an integer column at 95 % of the column is critical',
      snapshot: snap([legacy(2_040_109_466)]),
      findings: [{ severity: 'critical', object: { name: 'orders_id_seq' }, evidence: { limitedBy: 'column', dataType: 'bigint', usedFraction: 0.95 } }],
    },
    {
      name: 'an integer identity sequence at 80 % of its own maximum',
      snapshot: snap([
        makeSequence({
          name: 'users_id_seq',
          dataType: 'integer',
          maxValue: String(INT_MAX),
          lastValue: '1717986918',
          column: intColumn({ table: 'users', identity: true }),
        }),
      ]),
      findings: [
        {
          severity: 'warning',
          object: { name: 'users_id_seq' },
          evidence: { limitedBy: 'sequence', usedFraction: 0.8, column: { table: 'users', identity: true } },
        },
      ],
    },
    {
      name: 'a descending sequence at 90 % of its way to the minimum',
      snapshot: snap([descending(-9_001)]),
      findings: [
        {
          severity: 'critical',
          object: { name: 'countdown_seq' },
          evidence: { descending: true, limitValue: '-10001', lastValue: '-9001', usedFraction: 0.9, callsLeft: 1_000 },
        },
      ],
    },
    {
      name: 'a descending bigint sequence on an integer column binds at the column minimum',
      snapshot: snap([descending(-1_800_000_000, { minValue: '-9223372036854775808', column: intColumn() })]),
      findings: [{ severity: 'warning', object: { name: 'countdown_seq' }, evidence: { limitValue: '-2147483648', limitedBy: 'column' } }],
    },
    {
      name: 'a cycling sequence still fires when the column runs out before it wraps',
      snapshot: snap([legacy(2_000_000_000, { cycle: true })]),
      findings: [{ severity: 'critical', object: { name: 'orders_id_seq' }, evidence: { cycle: true, limitedBy: 'column' } }],
    },
    {
      name: 'a sequence already past its integer column (inserts fail) is critical with no calls left',
      snapshot: snap([legacy(2_147_483_700)]),
      findings: [{ severity: 'critical', object: { name: 'orders_id_seq' }, evidence: { usedFraction: 1, callsLeft: 0 } }],
    },
    {
      name: 'a window gives the consumption rate and the days left',
      snapshot: snap([legacy(1_717_986_918)]),
      window: windowFor(legacy(1_717_986_918), 100),
      findings: [
        {
          severity: 'warning',
          object: { name: 'orders_id_seq' },
          evidence: { valuesPerSecond: 100, daysLeft: expect.closeTo((INT_MAX - 1_717_986_918) / 100 / 86_400, 1) },
        },
      ],
    },
    {
      name: 'a window that saw the sequence reset gives no rate',
      snapshot: snap([capped(9_500)]),
      window: makeWindow({
        samples: [
          makeSample({ elapsedSeconds: 0, sequences: [{ schema: 'public', name: 'capped_seq', lastValue: '9900' }] }),
          makeSample({ elapsedSeconds: 5, sequences: [{ schema: 'public', name: 'capped_seq', lastValue: '9500' }] }),
        ],
      }),
      findings: [{ severity: 'critical', object: { name: 'capped_seq' }, evidence: { valuesPerSecond: null, daysLeft: null } }],
    },
    {
      name: 'one finding per sequence, each graded',
      snapshot: snap([capped(9_500), legacy(1_800_000_000), makeSequence({ name: 'fine_seq' })]),
      findings: [
        { severity: 'critical', object: { name: 'capped_seq' } },
        { severity: 'warning', object: { name: 'orders_id_seq' } },
      ],
    },
  ],
});

describe('sequence-exhaustion blind spots', () => {
  const run = (sequences: SequencesState) =>
    evaluateRules({
      rules: [rule as unknown as AnyRule],
      snapshot: deepFreeze(makeSnapshot({ sequences })),
      window: null,
    });

  it('reports unreadable sequences as degraded with the exact grant per schema, never as clean', () => {
    const result = run(
      makeSequencesState({
        sequences: [capped(9_500)],
        total: 4,
        unreadable: [
          { schema: 'public', count: 2 },
          { schema: 'Billing', count: 1 },
        ],
      }),
    );
    expect(result.evaluated).toEqual(['sequence-exhaustion']);
    expect(result.findings.map((f) => f.object.name)).toEqual(['capped_seq']);
    expect(result.diagnostics).toEqual([
      {
        rule: 'sequence-exhaustion',
        status: 'degraded',
        message: expect.stringContaining('3 of 4 sequences'),
        hint: 'GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO advisor; GRANT SELECT ON ALL SEQUENCES IN SCHEMA "Billing" TO advisor;',
      },
    ]);
  });

  it('has no blind spot when every sequence is readable', () => {
    expect(run(makeSequencesState({ sequences: [makeSequence()] })).diagnostics).toEqual([]);
  });

  it('recommends widening the column and the sequence, quoted', () => {
    const seq = legacy(2_000_000_000, {
      schema: 'Shop',
      name: 'Order Id Seq',
      dataType: 'integer',
      column: intColumn({ schema: 'Shop', table: 'Orders', name: 'Id' }),
    });
    const [finding] = run(makeSequencesState({ sequences: [seq] })).findings;
    expect(finding?.recommendation.sql).toBe('ALTER TABLE "Shop"."Orders" ALTER COLUMN "Id" TYPE bigint;\nALTER SEQUENCE "Shop"."Order Id Seq" AS bigint;');
  });

  it('recommends NO MAXVALUE for a bigint sequence capped by its own maximum', () => {
    const [finding] = run(makeSequencesState({ sequences: [capped(9_500)] })).findings;
    expect(finding?.recommendation.sql).toBe('ALTER SEQUENCE public.capped_seq NO MAXVALUE;');
  });
});
