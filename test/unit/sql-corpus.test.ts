import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeStatement, initSqlParser, redact } from '../../src/sql/index.js';

await initSqlParser();

const corpus = readFileSync(new URL('../fixtures/query-corpus.sql', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '');
const extra = readFileSync(new URL('../fixtures/query-corpus-extra.sql', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('-- '));

const DML = new Set(['select', 'insert', 'update', 'delete', 'merge']);

describe('query corpus (real normalised pg_stat_statements texts, PG 14–18)', () => {
  for (const [name, texts] of [
    ['shared corpus', corpus],
    ['extra ORM corpus', extra],
  ] as const) {
    it(`${name}: every statement is analysed or cleanly not analysable; ≥ 98 % of DML analysed`, () => {
      let dml = 0;
      let dmlAnalysed = 0;
      const byKind: Record<string, { analysed: number; not: number }> = {};
      const failures: string[] = [];
      for (const text of texts) {
        const result = analyzeStatement(text);
        const k = (byKind[result.kind] ??= { analysed: 0, not: 0 });
        if (result.analysable) k.analysed++;
        else {
          k.not++;
          expect(result.reason.length).toBeGreaterThan(0);
        }
        if (DML.has(result.kind)) {
          dml++;
          if (result.analysable) dmlAnalysed++;
          else failures.push(`${result.reason}: ${text.slice(0, 120)}`);
        }
        expect(() => redact(text)).not.toThrow();
      }
      const coverage = dmlAnalysed / dml;
      console.log(
        `[sql-corpus] ${name}: ${texts.length} texts, DML ${dmlAnalysed}/${dml} analysed (${(coverage * 100).toFixed(1)} %); by kind ${JSON.stringify(byKind)}`,
      );
      if (failures.length > 0) console.log(`[sql-corpus] not analysed DML:\n${failures.join('\n')}`);
      expect(dml).toBeGreaterThan(0);
      expect(coverage).toBeGreaterThanOrEqual(0.98);
    });
  }

  it('the PG17+ utility texts that are not valid SQL are utility, not errors', () => {
    for (const text of ['SAVEPOINT $1', 'RELEASE SAVEPOINT $1', 'ROLLBACK TO SAVEPOINT $1', 'DEALLOCATE $1']) {
      const result = analyzeStatement(text);
      expect(result).toMatchObject({ analysable: false, kind: 'utility' });
    }
  });
});
