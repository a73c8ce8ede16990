import { describe, expect, it } from 'vitest';
import { parseIndexDefinition, splitTopLevel } from '../../src/analysis/index-definition.js';

describe('parseIndexDefinition', () => {
  it('parses a primary key index', () => {
    expect(parseIndexDefinition('CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)')).toEqual({
      unique: true,
      name: 'orders_pkey',
      only: false,
      schema: 'public',
      table: 'orders',
      method: 'btree',
      keys: [{ text: 'id', column: 'id' }],
      include: [],
      nullsNotDistinct: false,
      withOptions: null,
      predicate: null,
    });
  });

  it('keeps collation, operator class and ordering with the element', () => {
    const def = parseIndexDefinition(
      'CREATE INDEX i ON public.users USING btree (email COLLATE "C" text_pattern_ops, created_at DESC NULLS LAST, name NULLS FIRST)',
    );
    expect(def?.keys).toEqual([
      { text: 'email COLLATE "C" text_pattern_ops', column: 'email' },
      { text: 'created_at DESC NULLS LAST', column: 'created_at' },
      { text: 'name NULLS FIRST', column: 'name' },
    ]);
  });

  it('does not split quoted identifiers holding spaces, commas, parentheses and quotes', () => {
    const def = parseIndexDefinition(
      'CREATE UNIQUE INDEX "Weird, ""Idx"" (1)" ON "My Schema"."Odd ""T"", (x)" USING btree ("Weird, ' +
        '""Col""" DESC, "a)b(", "x""" text_ops) INCLUDE ("inc, ""c""", plain)',
    );
    expect(def).toMatchObject({
      unique: true,
      name: 'Weird, "Idx" (1)',
      schema: 'My Schema',
      table: 'Odd "T", (x)',
      method: 'btree',
      include: ['inc, "c"', 'plain'],
    });
    expect(def?.keys).toEqual([
      { text: '"Weird, ""Col""" DESC', column: 'Weird, "Col"' },
      { text: '"a)b("', column: 'a)b(' },
      { text: '"x""" text_ops', column: 'x"' },
    ]);
  });

  it('keeps expressions whole, nested parentheses and literals with commas included', () => {
    const def = parseIndexDefinition(
      "CREATE INDEX i ON public.t USING btree (lower((email)::text), ((a + (b * 2))), COALESCE(note, ',)'::text) DESC, public.f(\"X\", 'y''s'))",
    );
    expect(def?.keys).toEqual([
      { text: 'lower((email)::text)', column: null },
      { text: '((a + (b * 2)))', column: null },
      { text: "COALESCE(note, ',)'::text) DESC", column: null },
      { text: "public.f(\"X\", 'y''s')", column: null },
    ]);
  });

  it('reads the predicate to the end, parentheses and quotes included', () => {
    const def = parseIndexDefinition(
      "CREATE INDEX i ON public.t USING btree (a) WHERE ((status)::text = ANY ((ARRAY['a, b'::character varying, 'c) WHERE x'::character varying])::text[]))",
    );
    expect(def?.predicate).toBe("((status)::text = ANY ((ARRAY['a, b'::character varying, 'c) WHERE x'::character varying])::text[]))");
    expect(def?.keys).toEqual([{ text: 'a', column: 'a' }]);
  });

  it('reads NULLS NOT DISTINCT, WITH options and a predicate after INCLUDE', () => {
    const def = parseIndexDefinition(
      'CREATE UNIQUE INDEX u ON public.t USING btree (a, b) INCLUDE (c) NULLS NOT DISTINCT WITH ' +
        "(fillfactor='70', deduplicate_items=off) WHERE (deleted_at IS NULL)",
    );
    expect(def).toMatchObject({
      unique: true,
      include: ['c'],
      nullsNotDistinct: true,
      withOptions: "fillfactor='70', deduplicate_items=off",
      predicate: '(deleted_at IS NULL)',
    });
    expect(def?.keys.map((k) => k.column)).toEqual(['a', 'b']);
  });

  it('reads ON ONLY, other access methods and operator class options', () => {
    expect(parseIndexDefinition('CREATE INDEX p ON ONLY public.events USING btree (created_at)')).toMatchObject({ only: true, table: 'events' });
    expect(parseIndexDefinition("CREATE INDEX g ON public.t USING gist (name gist_trgm_ops (siglen='32'))")?.keys).toEqual([
      { text: "name gist_trgm_ops (siglen='32')", column: 'name' },
    ]);
    expect(parseIndexDefinition('CREATE INDEX g ON public.t USING gin (tags)')?.method).toBe('gin');
  });

  it('accepts an unqualified table name', () => {
    expect(parseIndexDefinition('CREATE INDEX i ON orders USING hash (id)')).toMatchObject({ schema: null, table: 'orders', method: 'hash' });
  });

  it.each([
    ['empty (index locked at collection time)', ''],
    ['not an index', 'CREATE TABLE t (a int)'],
    ['unbalanced parentheses', 'CREATE INDEX i ON public.t USING btree ((a + b)'],
    ['unterminated quoted identifier', 'CREATE INDEX i ON public.t USING btree ("a)'],
    ['unterminated literal', "CREATE INDEX i ON public.t USING btree (a) WHERE (b = 'x)"],
    ['empty key list', 'CREATE INDEX i ON public.t USING btree ()'],
    ['an empty element', 'CREATE INDEX i ON public.t USING btree (a, , b)'],
    ['trailing text', 'CREATE INDEX i ON public.t USING btree (a) garbage'],
    ['empty predicate', 'CREATE INDEX i ON public.t USING btree (a) WHERE '],
  ])('returns null for %s', (_name, text) => {
    expect(parseIndexDefinition(text)).toBeNull();
  });
});

describe('splitTopLevel', () => {
  it('splits on top-level commas only', () => {
    expect(splitTopLevel(`a, f(b, c), "d,e", 'f,g', (h, (i, j))`)).toEqual(['a', 'f(b, c)', '"d,e"', "'f,g'", '(h, (i, j))']);
  });
  it('rejects unbalanced input', () => {
    expect(splitTopLevel('a), (b')).toBeNull();
    expect(splitTopLevel('(a')).toBeNull();
  });
});
