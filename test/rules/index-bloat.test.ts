import { describe, expect, it } from 'vitest';
import rule from '../../rules/index-bloat.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { IndexBloat } from '../../src/snapshot/types.js';
import { GiB, makeIndex, makeIndexBloat, makeSnapshot, MiB } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

function bloatedIndex(bloat: Partial<IndexBloat>, valid = true, serverVersionNum = 170010) {
  return makeSnapshot({
    meta: { serverVersionNum },
    indexes: [makeIndex({ name: bloat.name ?? 'orders_pkey', schema: bloat.schema ?? 'public', isValid: valid })],
    bloat: { indexes: [makeIndexBloat(bloat)] },
  });
}

ruleTester(rule, {
  valid: [
    { name: 'healthy index at 86 % leaf density', snapshot: bloatedIndex({ indexBytes: 22 * MiB, wasteBytes: 0.9 * MiB }) },
    { name: 'the 288 kB index with 43 % bloat is under the size floor', snapshot: bloatedIndex({ indexBytes: 288 * 1024, wasteBytes: 124 * 1024 }) },
    { name: 'index just under 8 MiB, mostly empty', snapshot: bloatedIndex({ indexBytes: 8 * MiB - 1, wasteBytes: 7 * MiB }) },
    { name: 'ratio just under 0.4', snapshot: bloatedIndex({ indexBytes: 100 * MiB, wasteBytes: 39.9 * MiB }) },
    // Random-order inserts (UUID, email keys) settle near ln 2 ≈ 69 % leaf density: ratio ≈ 0.23 at ff 90.
    {
      name: 'a large random-insert btree at its 69 % steady state',
      snapshot: bloatedIndex({ indexBytes: 10 * GiB, wasteBytes: 2.3 * GiB, avgLeafDensity: 69 }),
    },
    { name: 'waste just under 1 GiB at ratio 0.3', snapshot: bloatedIndex({ indexBytes: 3.3 * GiB, wasteBytes: GiB - 1 }) },
    { name: 'an invalid index is left to invalid-index', snapshot: bloatedIndex({ indexBytes: 100 * MiB, wasteBytes: 80 * MiB }, false) },
    {
      name: 'duplicate-heavy index whose estimate the collector dropped (no entry)',
      snapshot: makeSnapshot({ indexes: [makeIndex({ name: 'posts_user_id_idx' })] }),
    },
  ],
  invalid: [
    {
      name: 'ratio exactly 0.4 with 10 MiB of waste is a warning',
      snapshot: bloatedIndex({ indexBytes: 25 * MiB, wasteBytes: 10 * MiB }),
      findings: [
        {
          severity: 'warning',
          object: { type: 'index', schema: 'public', name: 'orders_pkey', table: 'orders' },
          evidence: { method: 'pgstatindex', sizeBytes: 25 * MiB, wasteBytes: 10 * MiB, ratio: 0.4 },
        },
      ],
      renumbered: { snapshot: bloatedIndex({ indexBytes: 60 * MiB, wasteBytes: 40 * MiB }) },
    },
    {
      name: 'index waste just under 10 MiB is info at most',
      snapshot: bloatedIndex({ indexBytes: 12 * MiB, wasteBytes: 10 * MiB - 1 }),
      findings: [{ severity: 'info', object: { name: 'orders_pkey' } }],
    },
    {
      name: 'index exactly at the 8 MiB floor, all waste, is info',
      snapshot: bloatedIndex({ indexBytes: 8 * MiB, wasteBytes: 8 * MiB }),
      findings: [{ severity: 'info', object: { name: 'orders_pkey' }, evidence: { ratio: 1 } }],
    },
    {
      name: 'the planted n index at 87 % bloat',
      snapshot: bloatedIndex({ name: 'bloat_t_n_idx', indexBytes: 30 * MiB, wasteBytes: 26 * MiB, avgLeafDensity: 12.27 }),
      findings: [{ severity: 'warning', object: { name: 'bloat_t_n_idx' }, evidence: { avgLeafDensityPercent: 12.27, fillfactorPercent: 90 } }],
    },
    {
      name: 'exactly 1 GiB of waste at ratio 0.3',
      snapshot: bloatedIndex({ indexBytes: GiB / 0.3, wasteBytes: GiB, method: 'estimate', avgLeafDensity: null }),
      findings: [{ severity: 'warning', object: { name: 'orders_pkey' }, evidence: { method: 'estimate', avgLeafDensityPercent: null } }],
    },
    {
      name: 'critical at ratio exactly 0.7',
      snapshot: bloatedIndex({ indexBytes: 10 * GiB, wasteBytes: 7 * GiB }),
      findings: [{ severity: 'critical', object: { name: 'orders_pkey' }, evidence: { ratio: 0.7 } }],
    },
    {
      name: 'ratio just under 0.7 with 6.99 GiB of waste stays a warning',
      snapshot: bloatedIndex({ indexBytes: 10 * GiB, wasteBytes: 6.99 * GiB }),
      findings: [{ severity: 'warning', object: { name: 'orders_pkey' } }],
    },
    {
      name: 'a lowered info ceiling turns a 9 MiB waste into a warning',
      snapshot: bloatedIndex({ indexBytes: 12 * MiB, wasteBytes: 9 * MiB }),
      thresholds: { infoOnlyBelowWasteBytes: 8 * MiB },
      findings: [{ severity: 'warning', object: { name: 'orders_pkey' } }],
    },
  ],
});

describe('index-bloat recommendation', () => {
  it('quotes identifiers in REINDEX INDEX CONCURRENTLY', () => {
    const snapshot = bloatedIndex({ schema: 'Sales', name: 'Order "Idx"', indexBytes: 100 * MiB, wasteBytes: 60 * MiB });
    const [finding] = evaluateRules({ rules: [rule], snapshot, window: null }).findings;
    expect(finding?.recommendation.sql).toBe('REINDEX INDEX CONCURRENTLY "Sales"."Order ""Idx""";');
  });

  it('offers no CONCURRENTLY statement before PostgreSQL 12', () => {
    const snapshot = bloatedIndex({ indexBytes: 100 * MiB, wasteBytes: 60 * MiB }, true, 110000);
    const [finding] = evaluateRules({ rules: [rule], snapshot, window: null }).findings;
    expect(finding?.recommendation.sql).toBeUndefined();
  });
});
