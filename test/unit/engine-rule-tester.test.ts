/** The rule tester must be able to fail: each check is exercised against a deliberately broken rule. */
import { describe, expect, it } from 'vitest';
import { defineRule } from '../../src/engine/define-rule.js';
import type { AnyRule, FindingDraft, RuleInput } from '../../src/engine/types.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { makeSnapshot, makeTable } from '../support/builders.js';
import { checkInvalidCase, checkValidCase } from '../support/rule-tester.js';

const docs = { summary: 's', why: 'w', fix: 'f', falsePositives: 'fp' };
function ruleOf(evaluate: (input: RuleInput) => readonly FindingDraft[], requires: AnyRule['requires'] = ['tables']): AnyRule {
  return defineRule({ id: 'probe', title: 'p', category: 'storage', defaultSeverity: 'warning', requires, thresholds: {}, docs, evaluate });
}
const perTable = (extra: (name: string, s: Snapshot) => Partial<FindingDraft> = () => ({})) =>
  ruleOf(({ snapshot }) =>
    snapshot.tables.map((t) => ({
      summary: 's',
      object: { type: 'table', schema: t.schema, name: t.name },
      evidence: { deadTuples: t.nDeadTup },
      recommendation: { text: 'r' },
      ...extra(t.name, snapshot),
    })),
  );
const oneTable = () => makeSnapshot({ tables: [makeTable()] });
const expected = [{ severity: 'warning' as const, object: { type: 'table' as const, name: 'orders' } }];

describe('rule tester', () => {
  it('passes a correct rule', () => {
    expect(() => checkInvalidCase(perTable(), { name: 'ok', snapshot: oneTable(), findings: expected })).not.toThrow();
    expect(() => checkValidCase(perTable(), { name: 'ok', snapshot: makeSnapshot() })).not.toThrow();
  });

  it('fails a valid case that fires, and an invalid case with the wrong count, object, severity or evidence', () => {
    expect(() => checkValidCase(perTable(), { name: 'x', snapshot: oneTable() })).toThrow();
    expect(() => checkInvalidCase(perTable(), { name: 'x', snapshot: makeSnapshot(), findings: expected })).toThrow(/count/);
    expect(() => checkInvalidCase(perTable(), { name: 'x', snapshot: oneTable(), findings: [{ severity: 'critical', object: { name: 'orders' } }] })).toThrow();
    expect(() => checkInvalidCase(perTable(), { name: 'x', snapshot: oneTable(), findings: [{ severity: 'warning', object: { name: 'other' } }] })).toThrow();
    expect(() => checkInvalidCase(perTable(), { name: 'x', snapshot: oneTable(), findings: [{ ...expected[0]!, evidence: { deadTuples: 1 } }] })).toThrow();
  });

  it('fails a rule that mutates its input', () => {
    const mutating = ruleOf(({ snapshot }) => {
      (snapshot.tables as TableList).push(makeTable());
      return [];
    });
    expect(() => checkValidCase(mutating, { name: 'x', snapshot: oneTable() })).toThrow(/rule must run/);
  });

  it('fails a rule that crashes or is skipped', () => {
    expect(() =>
      checkValidCase(
        ruleOf(() => {
          throw new Error('boom');
        }),
        { name: 'x', snapshot: oneTable() },
      ),
    ).toThrow(/rule must run/);
    const snapshot = makeSnapshot({ meta: { sources: { tables: { status: 'unavailable', reason: 'r', hint: 'h' } } } });
    expect(() => checkValidCase(perTable(), { name: 'x', snapshot })).toThrow(/rule must run/);
  });

  it('fails NaN or negative evidence numbers', () => {
    const nan = perTable(() => ({ evidence: { ratio: Number.NaN } }));
    const negative = perTable(() => ({ evidence: { nested: { wasteBytes: -1 } } }));
    expect(() => checkInvalidCase(nan, { name: 'x', snapshot: oneTable(), findings: expected })).toThrow(/finite/);
    expect(() => checkInvalidCase(negative, { name: 'x', snapshot: oneTable(), findings: expected })).toThrow(/finite/);
  });

  it('fails a fingerprint that depends on numbers', () => {
    const numbered = perTable((_, s) => ({ identity: String(s.tables[0]?.nDeadTup) }));
    const renumbered = { snapshot: makeSnapshot({ tables: [makeTable({ nDeadTup: 5 })] }) };
    expect(() => checkInvalidCase(numbered, { name: 'x', snapshot: oneTable(), findings: expected, renumbered })).toThrow(/numbers change/);
  });
});

type TableList = ReturnType<typeof makeTable>[];
