import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../src/collector');
const MARKER = '/* pg-advisor */';
// Collector SQL is written in lowercase; uppercase SQL appears only in hints for humans ("CREATE EXTENSION …").
const STATEMENT_START = /^\s*(select|with|set|begin|rollback|commit|show|explain|create|insert|update|delete|values|table)\b/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Statement texts that are never executed as statements themselves: the hypothetical-index DDL is an
 * argument of hypopg_create_index($1) (src/collector/enrich/hypopg.ts), whose call carries the marker.
 */
const NOT_EXECUTED = [/^create index on \$\{/];

/** SQL statements among the string and template literals of a source file. */
function statements(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/`([^`]*)`|'((?:[^'\\\n]|\\.)*)'/g)) {
    const text = m[1] ?? m[2] ?? '';
    if (STATEMENT_START.test(text) && /\s/.test(text.trim()) && !NOT_EXECUTED.some((re) => re.test(text))) out.push(text);
  }
  return out;
}

/** The marker must follow the first keyword (PG18 drops a leading comment from pgss texts). */
function markedAfterFirstKeyword(sql: string): boolean {
  return /^\s*[a-z]+\s+\/\* pg-advisor \*\//.test(sql);
}

describe('collector SQL marker', () => {
  const all = files(ROOT).flatMap((f) => statements(readFileSync(f, 'utf8')).map((sql) => ({ file: f, sql })));

  it('finds the collector statements', () => {
    expect(all.length).toBeGreaterThanOrEqual(20);
  });

  it('puts the marker right after the first keyword of every statement', () => {
    const unmarked = all.filter((s) => !markedAfterFirstKeyword(s.sql)).map((s) => `${s.file}: ${s.sql.slice(0, 80)}`);
    expect(unmarked).toEqual([]);
  });

  it('rejects a leading marker and a missing one', () => {
    expect(markedAfterFirstKeyword(`${MARKER} select 1`)).toBe(false);
    expect(markedAfterFirstKeyword('select 1')).toBe(false);
    expect(markedAfterFirstKeyword(`select ${MARKER} 1`)).toBe(true);
    expect(statements("const A = `select ${x} from t`; const B = 'with q as (select 1) select 2';")).toHaveLength(2);
  });
});
