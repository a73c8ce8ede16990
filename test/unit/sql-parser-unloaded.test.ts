import { describe, expect, it } from 'vitest';
import { analyzeStatement, isSqlParserReady, redact } from '../../src/sql/index.js';

// This file never calls initSqlParser(): rules must get "not analysable", never an exception.
describe('before initSqlParser()', () => {
  it('analysis says the parser is not loaded instead of throwing', () => {
    expect(isSqlParserReady()).toBe(false);
    expect(analyzeStatement('select * from t where id = $1')).toMatchObject({ analysable: false, kind: 'select', reason: 'SQL parser not loaded' });
  });

  it('redaction still works through the fallback scanner', () => {
    expect(redact("select 'x' from t")).toBe('select $1 from t');
  });
});

describe('query rules before initSqlParser()', () => {
  it('report an error diagnostic instead of a silent clean result', async () => {
    const { evaluateRules } = await import('../../src/engine/evaluate.js');
    const { makeSnapshot, makeStatement } = await import('../support/builders.js');
    const rules = [(await import('../../rules/n-plus-one/index.js')).default, (await import('../../rules/missing-index/index.js')).default];
    const result = evaluateRules({ rules, snapshot: makeSnapshot({ statements: [makeStatement()] }), window: null });
    expect(result.findings).toEqual([]);
    expect(result.diagnostics.map((d) => [d.rule, d.status])).toEqual([
      ['n-plus-one', 'error'],
      ['missing-index', 'error'],
    ]);
    expect(result.diagnostics[0]!.message).toMatch(/initSqlParser/);
  });
});
