/**
 * Rule tester in the ESLint/squawk style: `valid` cases must stay silent, `invalid` cases must produce
 * exactly the listed findings (count, object, severity, selected evidence) — never wording.
 *
 * Every case runs through `evaluateRules`, so crash isolation and `requires` are exercised: a crash or a
 * skip fails the case. Inputs are deep-frozen, so a rule that mutates its input fails. Fingerprints must
 * be stable over two runs and, for an invalid case with `renumbered`, over an input that differs only in
 * numbers. Numeric evidence must be finite and ≥ 0.
 */
import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { AnyRule, EvidenceValue, Finding, FindingObject, RuleDefinition, Severity, ThresholdSpecs } from '../../src/engine/types.js';
import { deepFreeze } from '../../src/snapshot/freeze.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import type { Window } from '../../src/snapshot/window-types.js';

export interface ValidCase {
  readonly name: string;
  readonly snapshot: Snapshot;
  readonly window?: Window | null;
  /** Threshold overrides; every key must exist on the rule. */
  readonly thresholds?: Readonly<Record<string, number>>;
}

export interface ExpectedFinding {
  readonly severity: Severity;
  /** Fields the finding's object must have (others are not checked). */
  readonly object: Partial<FindingObject>;
  /** Evidence entries that must be present with these values (deep equality; numbers may use expect.closeTo). */
  readonly evidence?: Readonly<Record<string, unknown>>;
}

export interface InvalidCase extends ValidCase {
  readonly findings: readonly ExpectedFinding[];
  /** The same situation with different numbers: must produce the same fingerprints. */
  readonly renumbered?: { readonly snapshot: Snapshot; readonly window?: Window | null };
}

export interface RuleTestCases {
  readonly valid: readonly ValidCase[];
  readonly invalid: readonly InvalidCase[];
}

export function ruleTester<T extends ThresholdSpecs>(rule: RuleDefinition<T>, cases: RuleTestCases): void {
  const anyRule = rule as unknown as AnyRule;
  describe(`rule ${rule.id}`, () => {
    it('has valid and invalid cases with unique names and known threshold keys', () => {
      expect(cases.valid.length, 'valid cases').toBeGreaterThan(0);
      expect(cases.invalid.length, 'invalid cases').toBeGreaterThan(0);
      const names = [...cases.valid, ...cases.invalid].map((c) => c.name);
      const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
      expect(duplicates, 'duplicate case names').toEqual([]);
      for (const c of [...cases.valid, ...cases.invalid]) {
        for (const key of Object.keys(c.thresholds ?? {})) {
          expect(Object.keys(rule.thresholds), `case "${c.name}" overrides unknown threshold`).toContain(key);
        }
      }
    });

    describe('valid', () => {
      for (const c of cases.valid) {
        it(c.name, () => checkValidCase(anyRule, c));
      }
    });

    describe('invalid', () => {
      for (const c of cases.invalid) {
        it(c.name, () => checkInvalidCase(anyRule, c));
      }
    });
  });
}

/** Asserts a valid case: the rule runs and stays silent. Throws (an assertion error) otherwise. */
export function checkValidCase(rule: AnyRule, c: ValidCase): void {
  const findings = run(rule, c);
  expect(findings.map(describeFinding), 'a valid case must produce no finding').toEqual([]);
}

/** Asserts an invalid case: exactly the expected findings, sane evidence numbers, stable fingerprints. */
export function checkInvalidCase(rule: AnyRule, c: InvalidCase): void {
  const findings = run(rule, c);
  expect(findings.length, `finding count; got ${JSON.stringify(findings.map(describeFinding))}`).toBe(c.findings.length);
  matchFindings(findings, c.findings);
  for (const f of findings) checkEvidenceNumbers(f.evidence, `${describeFinding(f)} evidence`);

  const fingerprints = findings.map((f) => f.fingerprint).sort();
  expect(
    run(rule, c)
      .map((f) => f.fingerprint)
      .sort(),
    'fingerprints of the same input',
  ).toEqual(fingerprints);
  if (c.renumbered) {
    const other = run(rule, { ...c, ...c.renumbered });
    expect(other.map((f) => f.fingerprint).sort(), 'fingerprints when only numbers change').toEqual(fingerprints);
  }
}

function run(rule: AnyRule, c: ValidCase): readonly Finding[] {
  const snapshot = deepFreeze(c.snapshot);
  const window = c.window ? deepFreeze(c.window) : null;
  const result = evaluateRules({
    rules: [rule],
    snapshot,
    window,
    settings: c.thresholds ? { [rule.id]: { thresholds: c.thresholds } } : undefined,
  });
  const trouble = result.diagnostics.filter((d) => d.rule === rule.id);
  expect(
    trouble.map((d) => `${d.status}: ${d.message}`),
    `rule must run (case "${c.name}")`,
  ).toEqual([]);
  expect(result.evaluated).toEqual([rule.id]);
  for (const f of result.findings) {
    expect(f.summary.length, 'summary').toBeGreaterThan(0);
    expect(f.recommendation.text.length, 'recommendation text').toBeGreaterThan(0);
  }
  return result.findings;
}

function matchFindings(actual: readonly Finding[], expected: readonly ExpectedFinding[]): void {
  const unmatched = [...actual];
  for (const want of expected) {
    const index = unmatched.findIndex((f) => matches(f, want));
    if (index < 0) {
      expect.fail(
        `no finding matches ${JSON.stringify(want)}\nunmatched findings:\n${unmatched
          .map((f) => JSON.stringify({ severity: f.severity, object: f.object, evidence: f.evidence }))
          .join('\n')}`,
      );
    }
    unmatched.splice(index, 1);
  }
}

function matches(finding: Finding, want: ExpectedFinding): boolean {
  if (finding.severity !== want.severity) return false;
  const subset = (have: object, sub: object): boolean => {
    try {
      expect(have).toMatchObject(sub);
      return true;
    } catch {
      return false;
    }
  };
  return subset(finding.object, want.object) && subset(finding.evidence, want.evidence ?? {});
}

function checkEvidenceNumbers(value: EvidenceValue | Readonly<Record<string, EvidenceValue>>, path: string): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value) && value >= 0, `${path} = ${value} must be a finite number ≥ 0`).toBe(true);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkEvidenceNumbers(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkEvidenceNumbers(v as EvidenceValue, `${path}.${k}`);
  }
}

function describeFinding(f: Finding): string {
  return `${f.severity} ${f.object.type} ${[f.object.schema, f.object.name].filter(Boolean).join('.')}`;
}
