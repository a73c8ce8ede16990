/**
 * missing-index over the real normalised pg_stat_statements corpus: every text as an expensive statement that
 * reads whole large tables (every table it names exists, 1M rows), so every code path that can fire does.
 * The rule must not crash, and whatever it suggests must be a well-formed index on a table of the text.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import rule from '../../rules/missing-index/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { analyzeQueryBlocks, analyzeStatement, emptyAnalysisContext, initSqlParser } from '../../src/sql/index.js';
import { makeSnapshot, makeStatement, makeTable } from '../support/builders.js';

await initSqlParser();

const texts = ['query-corpus.sql', 'query-corpus-extra.sql'].flatMap((file) =>
  readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('-- ')),
);

describe('missing-index over the real-text corpus', () => {
  it('analyses every text into query blocks without throwing', () => {
    let blocks = 0;
    for (const text of texts) blocks += analyzeQueryBlocks(text, emptyAnalysisContext()).length;
    expect(blocks).toBeGreaterThan(texts.length / 2);
  });

  it('evaluates every text as an expensive full-table statement without crashing, and suggests well-formed indexes', () => {
    const names = new Map<string, { schema: string; name: string }>();
    for (const text of texts) {
      const a = analyzeStatement(text);
      if (a.analysable) for (const t of a.tables) names.set(`${t.schema ?? 'public'}.${t.name}`, { schema: t.schema ?? 'public', name: t.name });
    }
    const tables = [...names.values()].map((t, i) => makeTable({ oid: 30_000 + i, schema: t.schema, name: t.name, reltuples: 1_000_000, relpages: 10_000 }));
    const statements = texts.map((query, i) =>
      makeStatement({ queryId: String(1000 + i), query, calls: 500, rows: 500, totalExecTimeMs: 500 * 50, sharedBlksHit: 500 * 30_000 }),
    );
    const snapshot = makeSnapshot({ tables, statements, meta: { searchPath: ['public', ...new Set(tables.map((t) => t.schema))] } });
    const result = evaluateRules({ rules: [rule], snapshot, window: null });
    expect(result.diagnostics.filter((d) => d.rule === 'missing-index')).toEqual([]);
    expect(result.evaluated).toEqual(['missing-index']);
    console.log(`[missing-index-corpus] ${texts.length} texts, ${tables.length} tables: ${result.findings.length} findings`);
    for (const f of result.findings) {
      expect(f.object.columns?.length).toBeGreaterThan(0);
      expect(tables.some((t) => t.schema === f.object.schema && t.name === f.object.name)).toBe(true);
      expect(f.recommendation.sql).toMatch(/^CREATE INDEX CONCURRENTLY ON \S+( USING gin)? \(.+\)( WHERE .+)?$/);
    }
  });
});
