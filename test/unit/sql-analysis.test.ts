import { describe, expect, it } from 'vitest';
import { analyzeStatement, buildAnalysisContext, initSqlParser, type AnalysisResult, type StatementAnalysis } from '../../src/sql/index.js';
import { makeConstraint, makeSnapshot, makeTable } from '../support/builders.js';

await initSqlParser();

const snapshot = makeSnapshot({
  meta: { searchPath: ['app', 'public'] },
  tables: [
    makeTable({ oid: 1, schema: 'app', name: 'users' }),
    makeTable({ oid: 2, schema: 'public', name: 'users' }),
    makeTable({ oid: 3, schema: 'public', name: 'posts' }),
    makeTable({ oid: 4, schema: 'public', name: 'User' }),
  ],
  constraints: [
    makeConstraint({
      schema: 'public',
      table: 'posts',
      tableOid: 3,
      name: 'posts_user_id_fkey',
      type: 'f',
      columns: ['user_id'],
      refTableOid: 2,
      refColumns: ['id'],
    }),
  ],
});
const ctx = buildAnalysisContext(snapshot);

function analysed(text: string): StatementAnalysis {
  const r: AnalysisResult = analyzeStatement(text, ctx);
  if (!r.analysable) throw new Error(`not analysable: ${r.reason}`);
  return r;
}
const preds = (a: StatementAnalysis) =>
  a.predicates.map((p) => ({ table: a.tables[p.table]!.name, column: p.column, op: p.op, value: p.value, n: p.parameterCount }));

describe('analyzeStatement', () => {
  it('resolves aliases, search_path and explicit schemas', () => {
    const a = analysed('select p.id, p.user_id from posts p join users u on u.id = p.user_id where p.title like $1');
    expect(a.tables.map((t) => [t.schema, t.name, t.oid])).toEqual(
      expect.arrayContaining([
        ['public', 'posts', 3],
        ['app', 'users', 1],
      ]),
    );
    expect(a.joins).toHaveLength(1);
    expect(preds(a)).toEqual([{ table: 'posts', column: 'title', op: 'like-prefix', value: 'parameter', n: 1 }]);
    expect(analysed('select * from public.users where id = $1').tables[0]).toMatchObject({ schema: 'public', oid: 2 });
  });

  it('keeps quoted identifiers as written', () => {
    const a = analysed('SELECT "public"."User"."id" FROM "public"."User" WHERE ("public"."User"."id" = $1 AND 1=1) LIMIT $2 OFFSET $3');
    expect(a.tables[0]).toMatchObject({ schema: 'public', name: 'User', oid: 4 });
    expect(preds(a)).toEqual([{ table: 'User', column: 'id', op: 'equality', value: 'parameter', n: 1 }]);
    expect([a.limit, a.offset]).toEqual(['parameter', 'parameter']);
  });

  it('classifies operators: range, between, null tests, flipped comparisons, casts', () => {
    const a = analysed('select * from posts where $1 > created_at and score between $2 and $3 and deleted_at is null and user_id = $4::int8 and kind <> $5');
    expect(preds(a)).toEqual([
      { table: 'posts', column: 'created_at', op: 'range', value: 'parameter', n: 1 },
      { table: 'posts', column: 'score', op: 'range', value: 'parameter', n: 2 },
      { table: 'posts', column: 'deleted_at', op: 'null-test', value: 'constant', n: 0 },
      { table: 'posts', column: 'user_id', op: 'equality', value: 'parameter', n: 1 },
      { table: 'posts', column: 'kind', op: 'other', value: 'parameter', n: 1 },
    ]);
    expect(a.predicates[0]!.operator).toBe('<');
  });

  it('tells IN lists (incl. PG18 squashed) and = ANY($1) from equality', () => {
    expect(preds(analysed('select * from posts where user_id in ($1 /*, ... */)'))[0]).toMatchObject({ op: 'in-list', n: 1 });
    expect(preds(analysed('select * from posts where user_id in ($1, $2, $3)'))[0]).toMatchObject({ op: 'in-list', n: 3 });
    expect(preds(analysed('select * from posts where user_id = any($1::int[])'))[0]).toMatchObject({ op: 'any-array', n: 1 });
    expect(preds(analysed("select * from posts where kind in ('a', 'b')"))[0]).toMatchObject({ op: 'in-list', value: 'constant' });
  });

  it('leaves function-wrapped columns, OR trees and jsonb paths out of predicates, and says so', () => {
    for (const text of [
      'select * from posts where lower(title) = $1',
      'select * from posts where user_id = $1 or id = $2',
      'select * from posts where data->>$1 = $2',
    ]) {
      const a = analysed(text);
      expect(a.predicates, text).toEqual([]);
      expect(a.hasUnanalysedConditions, text).toBe(true);
    }
    expect(preds(analysed('select * from posts where data @> $1'))[0]).toMatchObject({ op: 'other' });
  });

  it('CTE names are not tables; sub-selects and LATERAL are derived sources', () => {
    const a = analysed('with recent as (select * from posts where created_at > $1) select * from recent where user_id = $2');
    expect(a.tables.map((t) => t.name)).toEqual(['posts']);
    expect(a.ctes).toEqual(['recent']);
    expect(a.mainTables).toEqual([]);
    expect(a.hasDerivedSources).toBe(true);
    expect(a.predicates).toEqual([]);
    const l = analysed('select u.id, p.* from users u cross join lateral (select * from posts where posts.user_id = u.id limit $1) p where u.id = $2');
    expect(l.subqueries).toBe(true);
    expect(l.hasDerivedSources).toBe(true);
    expect(preds(l)).toEqual([{ table: 'users', column: 'id', op: 'equality', value: 'parameter', n: 1 }]);
  });

  it('reports ORDER BY, LIMIT, aggregates, GROUP BY, window functions, output columns and star', () => {
    const a = analysed('select * from posts where user_id = $1 order by created_at desc limit $2');
    expect(a.orderBy.map((o) => [o.column, o.direction])).toEqual([['created_at', 'desc']]);
    expect(a.outputStarTables).toEqual([0]);
    const g = analysed('select user_id, count(*) from posts group by user_id');
    expect([g.aggregates, g.groupBy, g.outputColumns.map((c) => c.column)]).toEqual([true, true, ['user_id']]);
    expect(analysed('select id, row_number() over (partition by user_id) from posts').windowFunctions).toBe(true);
    expect(analysed('select count(*) from posts where user_id = $1').aggregates).toBe(true);
  });

  it('handles locking clauses, ON CONFLICT, RETURNING, UPDATE and DELETE', () => {
    expect(analysed('select * from posts where id = $1 for update skip locked').locking).toEqual(['FOR UPDATE SKIP LOCKED']);
    expect(analysed('select * from posts for no key update nowait').locking).toEqual(['FOR NO KEY UPDATE NOWAIT']);
    const i = analysed('insert into posts (user_id, title) values ($1, $2) on conflict (id) do update set title = excluded.title returning id');
    expect([i.kind, i.onConflict, i.returning, i.writtenColumns]).toEqual(['insert', true, true, ['user_id', 'title']]);
    const u = analysed('update posts set title = $1 where id = $2');
    expect([u.kind, u.writtenColumns, preds(u)]).toEqual(['update', ['title'], [{ table: 'posts', column: 'id', op: 'equality', value: 'parameter', n: 1 }]]);
    const d = analysed('delete from posts using users where posts.user_id = users.id and users.id = $1');
    expect([d.kind, d.joins.length, preds(d).length]).toEqual(['delete', 1, 1]);
  });

  it('resolves unqualified columns among joined tables only through known columns', () => {
    const a = analysed('select * from posts p join users u on u.id = p.author where user_id = $1');
    expect(preds(a)).toEqual([{ table: 'posts', column: 'user_id', op: 'equality', value: 'parameter', n: 1 }]);
    const b = analysed('select * from posts p join users u on u.id = p.author where nickname = $1');
    expect(b.predicates).toEqual([]);
    expect(b.hasUnanalysedConditions).toBe(true);
  });

  it('utility statements and invalid texts are not analysable, never thrown', () => {
    for (const [text, kind] of [
      ['VACUUM (ANALYZE) posts', 'utility'],
      ['SET statement_timeout = $1', 'utility'],
      ['SAVEPOINT $1', 'utility'],
      ['BEGIN', 'utility'],
      ['select from where', 'select'],
      ['', 'unknown'],
      ['select 1; select 2', 'select'],
    ] as const) {
      expect(analyzeStatement(text, ctx), text).toMatchObject({ analysable: false, kind });
    }
  });

  it('caches by queryid and text: a known statement is not parsed again', () => {
    const a = analyzeStatement('select * from posts where id = $1', ctx, { queryId: '-1' });
    expect(analyzeStatement('select * from posts where id = $1', ctx, { queryId: '-1' })).toBe(a);
  });

  it('tolerates leading comments (marginalia, sqlcommenter)', () => {
    const a = analysed('/*controller:posts,action:index*/ SELECT "posts".* FROM "posts" WHERE "posts"."user_id" = $1 /*traceparent=\'00-abc\'*/');
    expect(preds(a)).toEqual([{ table: 'posts', column: 'user_id', op: 'equality', value: 'parameter', n: 1 }]);
  });
});
