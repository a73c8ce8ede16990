/**
 * Query findings are fingerprinted by the statement's text fingerprint, not pg_stat_statements' query id
 * (which embeds table OIDs), so a production finding matches its staging twin; baselines written with
 * query-id fingerprints still match on the database they were written on.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defineRule } from '../../src/engine/define-rule.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { fingerprintOf } from '../../src/engine/fingerprint.js';
import type { AnyRule, Finding } from '../../src/engine/types.js';
import { applyBaseline, buildBaseline } from '../../src/report/baseline.js';
import { deepFreeze } from '../../src/snapshot/freeze.js';
import { initSqlParser, statementFingerprint } from '../../src/sql/index.js';
import { makeSnapshot, makeStatement } from '../support/builders.js';
import { makeReport } from '../support/report-fixtures.js';

const docs = { summary: 's', why: 'w', fix: 'f', falsePositives: 'fp' };
/** Reports every statement as a query finding (what n-plus-one's object looks like). */
const everyStatement: AnyRule = defineRule({
  id: 'n-plus-one',
  title: 'N+1',
  category: 'queries',
  defaultSeverity: 'warning',
  requires: [],
  thresholds: {},
  docs,
  evaluate: ({ snapshot }) =>
    snapshot.statements.map((s) => ({
      summary: s.queryId,
      object: { type: 'query' as const, queryId: s.queryId },
      evidence: {},
      recommendation: { text: 'x' },
    })),
});

const LOOKUP = 'SELECT * FROM users WHERE id = $1';
const findingsOf = (statements: { queryId: string; query: string | null }[]): readonly Finding[] =>
  evaluateRules({ rules: [everyStatement], snapshot: deepFreeze(makeSnapshot({ statements: statements.map((s) => makeStatement(s)) })), window: null })
    .findings;

describe('statement identity in fingerprints', () => {
  beforeAll(async () => {
    await initSqlParser();
  });

  it('gives the same statement the same fingerprint under different query ids (production vs staging)', () => {
    const [production] = findingsOf([{ queryId: '-7531837409562840630', query: LOOKUP }]);
    const [staging] = findingsOf([{ queryId: '4417325170153012345', query: 'select * from users where id = $1' }]);
    expect(production!.fingerprint).toBe(staging!.fingerprint);
    expect(production!.object.queryId).toBe('-7531837409562840630'); // the query id stays in the finding
  });

  it('tells different statements apart, and falls back to the query id when there is no parsable text', () => {
    const [a, b] = findingsOf([
      { queryId: '1', query: LOOKUP },
      { queryId: '2', query: 'SELECT * FROM users WHERE email = $1' },
    ]);
    expect(a!.fingerprint).not.toBe(b!.fingerprint);
    const [noText] = findingsOf([{ queryId: '3', query: null }]);
    expect(noText!.fingerprint).toBe(fingerprintOf('n-plus-one', { type: 'query', queryId: '3' }));
    expect(statementFingerprint('this is not sql')).toBeNull();
  });

  it('still matches a baseline written with query-id fingerprints on the same database', () => {
    const [finding] = findingsOf([{ queryId: '42', query: LOOKUP }]);
    const legacy = { ...finding!, fingerprint: fingerprintOf('n-plus-one', { type: 'query', queryId: '42' }) };
    const baseline = buildBaseline(makeReport([legacy]), '2026-01-01T00:00:00.000Z');
    const gated = applyBaseline(makeReport([finding!]), baseline, 'old-baseline.json');
    expect(gated.findings[0]).toMatchObject({ baselined: true, baselineState: 'baselined' });
    // …but not a different statement that happens to be reported under another query id.
    const [other] = findingsOf([{ queryId: '43', query: 'SELECT * FROM posts WHERE id = $1' }]);
    expect(applyBaseline(makeReport([other!]), baseline, 'old-baseline.json').findings[0]).toMatchObject({ baselineState: 'new' });
  });
});
