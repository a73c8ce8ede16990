import { expect, it } from 'vitest';
import rule from '../../rules/n-plus-one.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { initSqlParser } from '../../src/sql/index.js';
import type { Backend, StatementStat } from '../../src/snapshot/types.js';
import type { StatementDelta } from '../../src/snapshot/window-types.js';
import {
  makeBackend, makeConstraint, makeIndex, makeSample, makeSnapshot, makeStatement, makeTable, makeWindow,
} from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

await initSqlParser();

const USERS = 16_501;
const POSTS = 16_502;
const tables = [
  makeTable({ oid: USERS, name: 'users', reltuples: 5_000, relpages: 60 }),
  makeTable({ oid: POSTS, name: 'posts', reltuples: 100_000, relpages: 1_200 }),
];
const constraints = [
  makeConstraint({ table: 'users', tableOid: USERS, name: 'users_pkey', type: 'p', columns: ['id'] }),
  makeConstraint({ table: 'posts', tableOid: POSTS, name: 'posts_pkey', type: 'p', columns: ['id'] }),
  makeConstraint({
    table: 'posts', tableOid: POSTS, name: 'posts_user_id_fkey', type: 'f', columns: ['user_id'],
    refSchema: 'public', refTable: 'users', refTableOid: USERS, refColumns: ['id'],
  }),
];
const indexes = [makeIndex({ oid: 17_001, name: 'users_pkey', tableOid: USERS, table: 'users', columns: ['id'] })];

const USER_LOOKUP = 'SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2';
const FEED = 'SELECT id, user_id, title FROM posts ORDER BY id DESC LIMIT $1 OFFSET $2';
const POSTS_OF_USER = 'SELECT p.* FROM public.posts AS p WHERE p.user_id = $1 AND p.deleted_at IS NULL';
const USER_LIST = 'select id, name from users order by id limit $1';

const stmt = (queryId: string, query: string, calls: number, rows: number, extra: Partial<StatementStat> = {}): StatementStat =>
  makeStatement({ queryId, query, calls, rows, totalExecTimeMs: calls * 0.01, meanExecTimeMs: 0.01, ...extra });

/** Other traffic, so the statements under test are a small share of all calls. */
const background = stmt('9', 'SELECT now()', 10_000_000, 10_000_000);
const snap = (statements: StatementStat[], extra: Parameters<typeof makeSnapshot>[0] = {}) =>
  makeSnapshot({ tables, constraints, indexes, statements: [...statements, background], ...extra });

const belongsTo = [stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000)];

/** A window in which the child and parent move together, seen by the same backends. */
function loopWindow(child: { id: string; calls: number[]; rows: number[] }, parent: { id: string; calls: number[]; rows: number[] }, activity: (i: number) => Backend[]) {
  const delta = (queryId: string, s: { calls: number[]; rows: number[] }, query: string): StatementDelta => ({
    userId: 16_400, dbId: 16_384, queryId, toplevel: true, userName: 'app', query,
    calls: s.calls.reduce((a, b) => a + b, 0), rows: s.rows.reduce((a, b) => a + b, 0),
    totalExecTimeMs: 1, sharedBlks: 10, callsSeries: s.calls, rowsSeries: s.rows, restarts: 0,
  });
  return makeWindow({
    samples: child.calls.length + 1,
    perSample: (i) => ({ activity: activity(i) }),
    statements: [
      delta(child.id, child, USER_LOOKUP),
      delta(parent.id, parent, FEED),
      delta('9', { calls: child.calls.map(() => 100_000), rows: child.calls.map(() => 100_000) }, 'SELECT now()'),
    ],
  });
}

const series = [900, 850, 1000, 700, 950, 800, 1000, 900, 880, 920];
const webBackends = (i: number): Backend[] => [
  makeBackend({ pid: 501, queryId: i % 3 === 0 ? '-222' : '111', applicationName: 'web' }),
  makeBackend({ pid: 502, queryId: '111', applicationName: 'web' }),
];

ruleTester(rule, {
  valid: [
    { name: 'hot independent point lookups without a parent', snapshot: snap([stmt('111', USER_LOOKUP, 500_000, 500_000)]) },
    {
      name: 'batched = ANY($1) lookup',
      snapshot: snap([stmt('111', 'SELECT * FROM users WHERE id = ANY($1)', 1_000, 20_000), stmt('-222', FEED, 1_000, 20_000)]),
    },
    {
      name: 'PG18 squashed IN list',
      snapshot: snap([stmt('111', 'SELECT * FROM users WHERE id IN ($1 /*, ... */)', 1_000, 20_000), stmt('-222', FEED, 1_000, 20_000)]),
    },
    {
      name: 'one lookup plus one list per request (F = 1)',
      snapshot: snap([stmt('111', USER_LOOKUP, 25_000, 25_000), stmt('-222', FEED, 25_000, 500_000)]),
    },
    {
      name: 'loop inside PL/pgSQL (not top-level)',
      snapshot: snap([stmt('111', USER_LOOKUP, 20_000, 20_000, { toplevel: false }), stmt('-222', FEED, 1_000, 20_000)]),
    },
    {
      name: 'write loop',
      snapshot: snap([stmt('111', 'UPDATE users SET seen_at = now() WHERE id = $1', 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000)]),
    },
    {
      name: 'parent under another role',
      snapshot: snap([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000, { userId: 99 })]),
    },
    {
      name: 'parent rows explain too few child calls (R < 0.5)',
      snapshot: snap([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', FEED, 1_000, 100_000)]),
    },
    {
      name: 'child called far more than parent rows, no window (R > 1.5)',
      snapshot: snap([stmt('111', USER_LOOKUP, 60_000, 60_000), stmt('-222', FEED, 1_000, 20_000)]),
    },
    {
      name: 'parent does not output the foreign key',
      snapshot: snap([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', 'SELECT id, title FROM posts ORDER BY id DESC LIMIT $1', 1_000, 20_000)]),
    },
    {
      name: 'slow child belongs to missing-index',
      snapshot: snap([stmt('111', USER_LOOKUP, 20_000, 20_000, { totalExecTimeMs: 200_000, meanExecTimeMs: 10 }), stmt('-222', FEED, 1_000, 20_000)]),
    },
    {
      name: 'too few calls to judge',
      snapshot: snap([stmt('111', USER_LOOKUP, 500, 500), stmt('-222', FEED, 25, 500)]),
    },
    {
      name: 'unrelated services with coincidental rates (disjoint application groups)',
      snapshot: snap(belongsTo),
      window: loopWindow(
        { id: '111', calls: series, rows: series },
        { id: '-222', calls: series.map((c) => c / 20), rows: series },
        () => [
          makeBackend({ pid: 601, queryId: '111', applicationName: 'auth' }),
          makeBackend({ pid: 602, queryId: '-222', applicationName: 'feed' }),
        ],
      ),
    },
    {
      name: 'series contradict the pairing',
      snapshot: snap(belongsTo),
      window: loopWindow(
        { id: '111', calls: [2000, 10, 10, 3000, 10, 10, 2500, 10, 10, 1500], rows: [2000, 10, 10, 3000, 10, 10, 2500, 10, 10, 1500] },
        { id: '-222', calls: [45, 45, 45, 45, 45, 45, 45, 45, 45, 45], rows: [900, 900, 900, 900, 900, 900, 900, 900, 900, 900] },
        webBackends,
      ),
    },
  ],
  invalid: [
    {
      name: 'belongs-to loop (cumulative)',
      snapshot: snap(belongsTo),
      findings: [{
        severity: 'warning',
        object: { type: 'query', queryId: '111' },
        evidence: { parentQueryId: '-222', linkType: 'belongs-to', linkSource: 'foreign-key', fanOut: 20, ratio: 1, basis: 'cumulative', rowsPerCall: 1 },
      }],
      renumbered: { snapshot: snap([stmt('111', USER_LOOKUP, 30_000, 30_000), stmt('-222', FEED, 1_500, 30_000)]) },
    },
    {
      name: 'has-many loop',
      snapshot: snap([stmt('333', POSTS_OF_USER, 10_000, 200_000), stmt('444', USER_LIST, 1_000, 10_000)]),
      findings: [{ severity: 'warning', object: { type: 'query', queryId: '333' }, evidence: { parentQueryId: '444', linkType: 'has-many', fanOut: 10, rowsPerCall: 20 } }],
    },
    {
      name: 'fan-out of 50 is critical',
      snapshot: snap([stmt('111', USER_LOOKUP, 50_000, 50_000), stmt('-222', FEED, 1_000, 50_000)]),
      findings: [{ severity: 'critical', object: { type: 'query', queryId: '111' }, evidence: { fanOut: 50 } }],
    },
    {
      name: 'child is a quarter of all calls: critical',
      snapshot: makeSnapshot({ tables, constraints, indexes, statements: [...belongsTo, stmt('9', 'SELECT now()', 50_000, 50_000)] }),
      findings: [{ severity: 'critical', object: { type: 'query', queryId: '111' } }],
      thresholds: { criticalFanOutRatio: 1000 },
    },
    {
      name: 'name-only link is info',
      snapshot: snap([stmt('111', 'SELECT * FROM users WHERE id = $1', 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000)], {
        constraints: constraints.filter((c) => c.type !== 'f'),
      }),
      findings: [{ severity: 'info', object: { type: 'query', queryId: '111' }, evidence: { linkSource: 'name', linkType: 'belongs-to' } }],
    },
    {
      name: 'window loop with shared backends',
      snapshot: snap(belongsTo),
      window: loopWindow({ id: '111', calls: series, rows: series }, { id: '-222', calls: series.map((c) => c / 20), rows: series }, webBackends),
      findings: [{ severity: 'warning', object: { type: 'query', queryId: '111' }, evidence: { basis: 'window', rho: 1, residual: 0, sharedBackends: 1 } }],
    },
    {
      name: 'child also called elsewhere but moving with the parent (R > 1.5, window)',
      snapshot: snap(belongsTo),
      window: loopWindow(
        { id: '111', calls: series.map((c) => 2 * c + 10), rows: series.map((c) => 2 * c + 10) },
        { id: '-222', calls: series.map((c) => c / 20), rows: series },
        webBackends,
      ),
      findings: [{ severity: 'warning', object: { type: 'query', queryId: '111' }, evidence: { basis: 'window' } }],
    },
    {
      name: 'window too quiet: cumulative basis',
      snapshot: snap(belongsTo),
      window: loopWindow({ id: '111', calls: [5, 5, 5, 5, 5], rows: [5, 5, 5, 5, 5] }, { id: '-222', calls: [1, 0, 0, 0, 0], rows: [20, 0, 0, 0, 0] }, webBackends),
      findings: [{ severity: 'warning', object: { type: 'query', queryId: '111' }, evidence: { basis: 'cumulative' } }],
    },
  ],
});

it('reports "not analysable" rather than throwing when the parser is missing (covered by sql tests); evidence redacts texts', () => {
  const result = evaluateRules({ rules: [rule], snapshot: snap([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', "SELECT id, user_id FROM posts WHERE title = 'secret' LIMIT 20", 1_000, 20_000)]), window: null });
  expect(result.findings).toHaveLength(1);
  expect(result.findings[0]!.recommendation.text).not.toContain('secret');
});

it('a negative correlation with a small residual does not contradict a loop', () => {
  const d = [100, -100, 100, -100, 100, -100, 100, -100, 100, -100];
  const result = evaluateRules({
    rules: [rule],
    snapshot: snap(belongsTo),
    window: loopWindow({ id: '111', calls: d.map((x) => 1000 + x), rows: d.map((x) => 1000 + x) }, { id: '-222', calls: d.map(() => 50), rows: d.map((x) => 1000 - x / 4) }, webBackends),
  });
  expect(result.findings.map((f) => f.object.queryId)).toEqual(['111']);
  expect(result.findings[0]!.evidence.rho).toBeUndefined();
  expect(Number(result.findings[0]!.evidence.anticorrelation)).toBeGreaterThan(0.9);
});
