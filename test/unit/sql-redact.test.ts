import { describe, expect, it } from 'vitest';
import { initSqlParser, redact } from '../../src/sql/index.js';
import { redactByHand } from '../../src/sql/redact.js';

await initSqlParser();

describe.each([
  ['scanner', (t: string) => redact(t)],
  ['fallback scanner', (t: string) => redactByHand(t).replace(/\s+/g, ' ').trim()],
])('redact (%s)', (_name, run) => {
  it('replaces string, escape-string, dollar-quoted, numeric and bit-string literals', () => {
    const out = run("select 'secret', E'it\\'s', $$dollar$$, $tag$x$tag$, 42, 3.5e2, B'1010', X'FF' from t where a = $1");
    for (const leaked of ['secret', "it\\'s", 'dollar', 'x$tag', '42', '3.5e2', '1010', 'FF']) expect(out).not.toContain(leaked);
    expect(out).toMatch(/^select \$2, \$3, \$4, \$5, \$6, \$7, \$8, \$9 from t where a = \$1$/);
  });

  it('removes comments and keeps quoted identifiers and parameters', () => {
    const out = run('/* user=alice */ select "Name" -- trailing note\n from "My Table" where id = $1');
    expect(out).toBe('select "Name" from "My Table" where id = $1');
  });
});

describe('redact', () => {
  it('works when the text does not parse (unterminated literal)', () => {
    const out = redact("select * from t where password = 'hunter2");
    expect(out).not.toContain('hunter2');
  });

  it('caps the length', () => {
    const out = redact(`select ${'a, '.repeat(2000)}b from t`, { maxLength: 100 });
    expect(out.length).toBe(100);
    expect(out.endsWith('…')).toBe(true);
  });

  it('leaves normalised pg_stat_statements texts readable', () => {
    expect(redact('SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2')).toBe('SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2');
    expect(redact('select * from t where id in ($1 /*, ... */)')).toBe('select * from t where id in ($1 )');
  });
});
