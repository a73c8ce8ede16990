import { describe, expect, it } from 'vitest';
import { defineRule } from '../../src/engine/define-rule.js';
import { evaluateRules, resolveThresholds } from '../../src/engine/evaluate.js';
import type { AnyRule, FindingDraft } from '../../src/engine/types.js';
import { deepFreeze } from '../../src/snapshot/freeze.js';
import { makeSnapshot, makeTable } from '../support/builders.js';

const docs = { summary: 's', why: 'w', fix: 'f', falsePositives: 'fp' };

function fixedRule(id: string, drafts: FindingDraft[], requires: AnyRule['requires'] = []): AnyRule {
  return defineRule({ id, title: id, category: 'storage', defaultSeverity: 'warning', requires, thresholds: {}, docs, evaluate: () => drafts });
}

const draft = (name: string, extra: Partial<FindingDraft> = {}): FindingDraft => ({
  summary: name,
  object: { type: 'table', schema: 'public', name },
  evidence: {},
  recommendation: { text: 'x' },
  ...extra,
});

describe('evaluateRules', () => {
  it('turns a crashing rule into an error diagnostic and still runs the others', () => {
    const crashing = defineRule({
      id: 'crashing',
      title: 'c',
      category: 'storage',
      defaultSeverity: 'warning',
      requires: [],
      thresholds: {},
      docs,
      evaluate: () => {
        throw new Error('boom');
      },
    });
    const result = evaluateRules({ rules: [crashing, fixedRule('fine', [draft('t')])], snapshot: deepFreeze(makeSnapshot()), window: null });
    expect(result.diagnostics).toEqual([expect.objectContaining({ rule: 'crashing', status: 'error', message: expect.stringContaining('boom') })]);
    expect(result.findings.map((f) => f.rule)).toEqual(['fine']);
    expect(result.evaluated).toEqual(['fine']);
  });

  it('reports a rule whose required source is unavailable as skipped, never clean', () => {
    const snapshot = makeSnapshot({ meta: { sources: { bloat: { status: 'unavailable', reason: 'no pgstattuple', hint: 'CREATE EXTENSION pgstattuple' } } } });
    const needsBloat = fixedRule('needs-bloat', [draft('t')], ['bloat']);
    const result = evaluateRules({ rules: [needsBloat, fixedRule('other', [])], snapshot: deepFreeze(snapshot), window: null });
    expect(result.findings).toEqual([]);
    expect(result.evaluated).toEqual(['other']);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ rule: 'needs-bloat', status: 'skipped', hint: 'CREATE EXTENSION pgstattuple', message: expect.stringContaining('bloat') }),
    ]);
  });

  it('treats a source missing from meta.sources as unavailable', () => {
    const snapshot = makeSnapshot();
    const sources = { ...snapshot.meta.sources };
    delete sources.vacuum;
    const result = evaluateRules({
      rules: [fixedRule('needs-vacuum', [draft('t')], ['vacuum'])],
      snapshot: deepFreeze({ ...snapshot, meta: { ...snapshot.meta, sources } }),
      window: null,
    });
    expect(result.diagnostics.map((d) => d.status)).toEqual(['skipped']);
  });

  it('applies threshold overrides on top of defaults', () => {
    const seen: number[] = [];
    const rule = defineRule({
      id: 'thresholded',
      title: 't',
      category: 'storage',
      defaultSeverity: 'info',
      requires: [],
      docs,
      thresholds: { minTableBytes: { default: 100, description: 'd' }, maxIdleSeconds: { default: 60, description: 'd' } },
      evaluate: ({ thresholds }) => {
        seen.push(thresholds.minTableBytes, thresholds.maxIdleSeconds);
        return [];
      },
    });
    const anyRule = rule as unknown as AnyRule;
    expect(resolveThresholds(anyRule, { thresholds: { maxIdleSeconds: 5 } })).toEqual({ minTableBytes: 100, maxIdleSeconds: 5 });
    evaluateRules({ rules: [anyRule], snapshot: deepFreeze(makeSnapshot()), window: null, settings: { thresholded: { thresholds: { minTableBytes: 7 } } } });
    expect(seen).toEqual([7, 60]);
  });

  it('sorts findings by severity, then impact', () => {
    const rule = fixedRule('sorted', [
      draft('info-big', { severity: 'info', impact: { x: 100 } }),
      draft('warn-small', { severity: 'warning', impact: { x: 1 } }),
      draft('crit', { severity: 'critical' }),
      draft('warn-big', { severity: 'warning', impact: { x: 50 } }),
    ]);
    const result = evaluateRules({ rules: [rule], snapshot: deepFreeze(makeSnapshot({ tables: [makeTable()] })), window: null });
    expect(result.findings.map((f) => f.object.name)).toEqual(['crit', 'warn-big', 'warn-small', 'info-big']);
  });

  it('uses the default severity and keeps one finding per fingerprint', () => {
    const rule = fixedRule('dedup', [draft('t', { severity: 'critical' }), draft('t', { severity: 'info' }), draft('u')]);
    const result = evaluateRules({ rules: [rule], snapshot: deepFreeze(makeSnapshot()), window: null });
    expect(result.findings.map((f) => [f.object.name, f.severity])).toEqual([
      ['t', 'critical'],
      ['u', 'warning'],
    ]);
  });
});
