import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import rule from '../../rules/n-plus-one/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import { fingerprintOf } from '../../src/engine/fingerprint.js';
import { statementFingerprint } from '../../src/sql/fingerprint.js';
import { analyzeStatement, initSqlParser } from '../../src/sql/index.js';
import type { Backend, StatementStat } from '../../src/snapshot/types.js';
import type { StatementDelta } from '../../src/snapshot/window-types.js';
import { makeBackend, makeColumn, makeConstraint, makeIndex, makeRole, makeSnapshot, makeStatement, makeTable, makeWindow } from '../support/builders.js';
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
    table: 'posts',
    tableOid: POSTS,
    name: 'posts_user_id_fkey',
    type: 'f',
    columns: ['user_id'],
    refSchema: 'public',
    refTable: 'users',
    refTableOid: USERS,
    refColumns: ['id'],
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
function loopWindow(
  child: { id: string; calls: number[]; rows: number[] },
  parent: { id: string; calls: number[]; rows: number[] },
  activity: (i: number) => Backend[],
) {
  const delta = (queryId: string, s: { calls: number[]; rows: number[] }, query: string): StatementDelta => ({
    userId: 16_400,
    dbId: 16_384,
    queryId,
    toplevel: true,
    userName: 'app',
    query,
    calls: s.calls.reduce((a, b) => a + b, 0),
    rows: s.rows.reduce((a, b) => a + b, 0),
    totalExecTimeMs: 1,
    sharedBlks: 10,
    callsSeries: s.calls,
    rowsSeries: s.rows,
    restarts: 0,
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

/* ---- issue 15: join children, one-element IN, nested loops, search_path, parent choice ---- */
const TAGS = 16_503;
const POST_TAGS = 16_504;
const INVOICES = 16_510;
const LINES = 16_511;
const SKUS = 16_512;
const SVC_ORDERS = 16_520;
const SVC_ITEMS = 16_521;
const PUB_ORDERS = 16_522;
const SHOP_WIDGETS = 16_530;
const SHOP_PARTS = 16_531;
const A_ITEMS = 16_540;
const B_ITEMS = 16_541;
const fk = (table: string, tableOid: number, column: string, refTable: string, refTableOid: number, schema = 'public') =>
  makeConstraint({
    schema,
    table,
    tableOid,
    name: `${table}_${column}_fkey`,
    type: 'f',
    columns: [column],
    refSchema: schema,
    refTable,
    refTableOid,
    refColumns: ['id'],
  });
const pk = (table: string, tableOid: number, schema = 'public') =>
  makeConstraint({ schema, table, tableOid, name: `${table}_pkey`, type: 'p', columns: ['id'] });
const moreTables = [
  makeTable({ oid: TAGS, name: 'tags' }),
  makeTable({ oid: POST_TAGS, name: 'post_tags' }),
  makeTable({ oid: INVOICES, name: 'invoices' }),
  makeTable({ oid: LINES, name: 'invoice_lines' }),
  makeTable({ oid: SKUS, name: 'skus' }),
  makeTable({ oid: SVC_ORDERS, schema: 'svc', name: 'orders' }),
  makeTable({ oid: SVC_ITEMS, schema: 'svc', name: 'line_items' }),
  makeTable({ oid: PUB_ORDERS, name: 'orders' }),
  makeTable({ oid: PUB_ORDERS + 1, name: 'line_items' }),
  makeTable({ oid: SHOP_WIDGETS, schema: 'shop', name: 'widgets' }),
  makeTable({ oid: SHOP_PARTS, schema: 'shop', name: 'parts' }),
  makeTable({ oid: A_ITEMS, schema: 'a', name: 'items' }),
  makeTable({ oid: B_ITEMS, schema: 'b', name: 'items' }),
];
const moreConstraints = [
  pk('tags', TAGS),
  fk('post_tags', POST_TAGS, 'post_id', 'posts', POSTS),
  fk('post_tags', POST_TAGS, 'tag_id', 'tags', TAGS),
  pk('invoices', INVOICES),
  pk('invoice_lines', LINES),
  pk('skus', SKUS),
  fk('invoice_lines', LINES, 'invoice_id', 'invoices', INVOICES),
  fk('invoice_lines', LINES, 'sku_id', 'skus', SKUS),
  pk('orders', SVC_ORDERS, 'svc'),
  pk('line_items', SVC_ITEMS, 'svc'),
  fk('line_items', SVC_ITEMS, 'order_id', 'orders', SVC_ORDERS, 'svc'),
  pk('orders', PUB_ORDERS),
  pk('line_items', PUB_ORDERS + 1),
  pk('widgets', SHOP_WIDGETS, 'shop'),
  pk('parts', SHOP_PARTS, 'shop'),
  fk('parts', SHOP_PARTS, 'widget_id', 'widgets', SHOP_WIDGETS, 'shop'),
  pk('items', A_ITEMS, 'a'),
  pk('items', B_ITEMS, 'b'),
];
const wide = (statements: StatementStat[], extra: Parameters<typeof makeSnapshot>[0] = {}) =>
  snap(statements, { tables: [...tables, ...moreTables], constraints: [...constraints, ...moreConstraints], ...extra });

const POST_LIST = 'SELECT id, title FROM posts ORDER BY id DESC LIMIT $1';
const TAGS_OF_POST = 'SELECT "tags".* FROM "tags" INNER JOIN "post_tags" ON "tags"."id" = "post_tags"."tag_id" WHERE "post_tags"."post_id" = $1';
const TAGS_KEY_IN_ON = 'SELECT t.id, t.name, pt.post_id FROM tags t INNER JOIN post_tags pt ON t.id = pt.tag_id AND pt.post_id = $1';
const AUTHOR_THROUGH_POST = 'SELECT users.id, users.name FROM users INNER JOIN posts ON posts.user_id = users.id WHERE posts.id = $1';
const EAGER_FEED = 'SELECT posts.id, posts.user_id, users.name FROM posts INNER JOIN users ON users.id = posts.user_id ORDER BY posts.id DESC LIMIT $1';
const OTHER_FEED = 'SELECT id, user_id, created_at FROM posts WHERE created_at > $2 ORDER BY created_at DESC LIMIT $1';
const INVOICE_LIST = 'SELECT id, number FROM invoices ORDER BY id DESC LIMIT $1';
const LINES_OF_INVOICE = 'SELECT id, sku_id, qty FROM invoice_lines WHERE invoice_id = $1';
const SKU_LOOKUP = 'SELECT id, name FROM skus WHERE id = $1';
const SVC_ROLE = 16_401;
const svcRole = makeRole({ oid: SVC_ROLE, name: 'billing', searchPath: ['svc'] });
const svc = (queryId: string, query: string, calls: number, rows: number) => stmt(queryId, query, calls, rows, { userId: SVC_ROLE, userName: 'billing' });
const ITEMS_OF_ORDER = 'SELECT id, sku, qty FROM line_items WHERE order_id = $1';
const ORDER_LIST = 'SELECT id, total FROM orders ORDER BY id DESC LIMIT $1';

/** A window over the given statements (per-second calls and rows), backends from `activity`. */
function windowOf(list: { id: string; query: string; calls: number[]; rows: number[] }[], activity: (i: number) => Backend[] = () => []) {
  const n = list[0]!.calls.length;
  const delta = (s: (typeof list)[number]): StatementDelta => ({
    userId: 16_400,
    dbId: 16_384,
    queryId: s.id,
    toplevel: true,
    userName: 'app',
    query: s.query,
    calls: s.calls.reduce((a, b) => a + b, 0),
    rows: s.rows.reduce((a, b) => a + b, 0),
    totalExecTimeMs: 1,
    sharedBlks: 10,
    callsSeries: s.calls,
    rowsSeries: s.rows,
    restarts: 0,
  });
  const bg = { id: '9', query: 'SELECT now()', calls: Array(n).fill(100_000), rows: Array(n).fill(100_000) };
  return makeWindow({ samples: n + 1, perSample: (i) => ({ activity: activity(i) }), statements: [...list, bg].map(delta) });
}
const flat = series.map(() => 900);
const jumpy = [300, 1500, 200, 1600, 250, 1400, 300, 1500, 200, 1700];

const patternValid = [
  {
    name: 'batched IN ($1, $2, $3) list',
    snapshot: wide([stmt('111', 'SELECT id, name FROM users WHERE id IN ($1, $2, $3)', 20_000, 60_000), stmt('-222', FEED, 1_000, 20_000)]),
  },
  {
    name: 'hot lookups next to an eager page that joins the users already',
    snapshot: wide([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-223', EAGER_FEED, 1_000, 20_000)]),
  },
  {
    name: 'hot lookups tied between two lists, no series to tell them apart (cumulative)',
    snapshot: wide([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000), stmt('-224', OTHER_FEED, 1_000, 19_000)]),
  },
  {
    name: 'tied lists in a window, neither followed by the lookups',
    snapshot: wide([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000), stmt('-224', OTHER_FEED, 1_000, 20_000)]),
    window: windowOf([
      { id: '111', query: USER_LOOKUP, calls: jumpy, rows: jumpy },
      { id: '-222', query: FEED, calls: series.map((c) => c / 20), rows: series },
      { id: '-224', query: OTHER_FEED, calls: [...series].reverse().map((c) => c / 20), rows: [...series].reverse() },
    ]),
  },
  {
    name: 'steady independent lookups at three per parent row: small residual, no correlation (R > 1.5)',
    snapshot: wide([stmt('111', USER_LOOKUP, 60_000, 60_000), stmt('-222', FEED, 1_000, 20_000)]),
    window: windowOf([
      { id: '111', query: USER_LOOKUP, calls: [2700, 2750, 2650, 2700, 2720, 2680, 2700, 2710, 2690, 2700], rows: Array(10).fill(2700) },
      { id: '-222', query: FEED, calls: Array(10).fill(45), rows: [900, 880, 920, 900, 890, 910, 905, 895, 900, 900] },
    ]),
  },
  {
    name: 'a batched load beside a list that still explains too few lookups',
    snapshot: wide([
      stmt('111', USER_LOOKUP, 20_000, 20_000),
      stmt('-222', FEED, 5_000, 100_000),
      stmt('113', 'SELECT id FROM users WHERE id = ANY($1)', 500, 10_000),
    ]),
  },
  {
    name: 'key in a LEFT JOIN condition filters nothing',
    snapshot: wide([
      stmt('555', 'SELECT t.id, pt.post_id FROM tags t LEFT JOIN post_tags pt ON t.id = pt.tag_id AND pt.post_id = $1', 20_000, 20_000),
      stmt('556', POST_LIST, 1_000, 20_000),
    ]),
  },
  {
    name: 'child joined without an equality (cross join)',
    snapshot: wide([stmt('555', 'SELECT t.id FROM tags t, post_tags pt WHERE pt.post_id = $1', 20_000, 20_000), stmt('556', POST_LIST, 1_000, 20_000)]),
  },
  {
    name: 'one-table re-read of the parent rows by their own key (a show page beside a list)',
    snapshot: wide([stmt('557', 'SELECT id, title FROM posts WHERE id = $1', 20_000, 20_000), stmt('556', POST_LIST, 1_000, 20_000)]),
  },
  {
    name: 'few lookups per row-set whose parent is no loop (nested shape, fan-out 4 from the top)',
    snapshot: wide([stmt('701', INVOICE_LIST, 20_000, 20_000), stmt('702', LINES_OF_INVOICE, 20_000, 80_000), stmt('703', SKU_LOOKUP, 80_000, 80_000)]),
  },
  {
    name: 'unqualified name held by two schemas off the search_path',
    snapshot: wide([
      stmt('801', 'SELECT id, qty FROM items WHERE id = $1', 20_000, 20_000),
      stmt('802', 'SELECT id, item_id FROM a.items ORDER BY id LIMIT $1', 1_000, 20_000),
    ]),
  },
];

const patternInvalid = [
  {
    name: 'many-to-many child joined through its link table',
    snapshot: wide([stmt('555', TAGS_OF_POST, 20_000, 60_000), stmt('556', POST_LIST, 1_000, 20_000)]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '555', schema: 'public', name: 'post_tags' },
        evidence: { parentQueryId: '556', linkType: 'has-many', keyColumn: 'post_id', joinedTables: ['public.tags'], parentChoice: 'only-candidate' },
      },
    ],
  },
  {
    name: 'many-to-many child with the key inside the join condition',
    snapshot: wide([stmt('555', TAGS_KEY_IN_ON, 20_000, 60_000), stmt('556', POST_LIST, 1_000, 20_000)]),
    findings: [{ severity: 'warning' as const, object: { type: 'query' as const, queryId: '555' }, evidence: { parentQueryId: '556', linkType: 'has-many' } }],
  },
  {
    name: 'one-element IN list is equality',
    snapshot: wide([stmt('111', 'SELECT id, name FROM users WHERE id IN ($1)', 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000)]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '111' },
        evidence: { parentQueryId: '-222', keyOperator: 'IN', linkType: 'belongs-to' },
      },
    ],
  },
  {
    name: 'belongs-to loaded through the parent table by its primary key',
    snapshot: wide([stmt('560', AUTHOR_THROUGH_POST, 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000)]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '560', name: 'posts' },
        evidence: { parentQueryId: '-222', linkType: 'belongs-to', linkSource: 'foreign-key', parentColumn: 'id', joinedTables: ['public.users'] },
      },
    ],
  },
  {
    name: 'nested loop: the grandparent makes the fan-out',
    snapshot: wide([stmt('701', INVOICE_LIST, 1_000, 20_000), stmt('702', LINES_OF_INVOICE, 20_000, 80_000), stmt('703', SKU_LOOKUP, 80_000, 80_000)]),
    findings: [
      { severity: 'warning' as const, object: { type: 'query' as const, queryId: '702' }, evidence: { parentQueryId: '701', fanOut: 20 } },
      {
        severity: 'critical' as const,
        object: { type: 'query' as const, queryId: '703' },
        evidence: { parentQueryId: '702', grandparentQueryId: '701', fanOut: 4, chainFanOut: 80 },
      },
    ],
  },
  {
    name: 'nested loop whose middle level is below the fan-out floor too: only the inner loop reaches it',
    snapshot: wide([stmt('701', INVOICE_LIST, 1_000, 3_000), stmt('702', LINES_OF_INVOICE, 3_000, 12_000), stmt('703', SKU_LOOKUP, 12_000, 12_000)]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '703' },
        evidence: { parentQueryId: '702', grandparentQueryId: '701', fanOut: 4, chainFanOut: 12 },
      },
    ],
  },
  {
    name: "unqualified names resolved through the role's configured search_path",
    snapshot: wide([svc('901', ITEMS_OF_ORDER, 20_000, 60_000), svc('902', ORDER_LIST, 1_000, 20_000)], { roles: [makeRole({ name: 'advisor' }), svcRole] }),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '901', schema: 'svc', name: 'line_items' },
        evidence: { parentQueryId: '902', searchPathSource: 'role', tableResolution: 'search-path', sameNameSchemas: ['public'] },
      },
    ],
  },
  {
    name: 'without a configured search_path names read as the advisor reads them, and the finding says who else holds them',
    snapshot: wide([svc('901', ITEMS_OF_ORDER, 20_000, 60_000), svc('902', ORDER_LIST, 1_000, 20_000)]),
    findings: [
      {
        severity: 'info' as const,
        object: { type: 'query' as const, queryId: '901', schema: 'public', name: 'line_items' },
        evidence: { linkSource: 'name', searchPathSource: 'advisor', tableResolution: 'search-path', sameNameSchemas: ['svc'] },
      },
    ],
  },
  {
    name: 'unqualified names off the search_path held by one schema',
    snapshot: wide([
      stmt('911', 'SELECT id FROM parts WHERE widget_id = $1', 20_000, 60_000),
      stmt('912', 'SELECT id, name FROM widgets ORDER BY id LIMIT $1', 1_000, 20_000),
    ]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '911', schema: 'shop', name: 'parts' },
        evidence: { parentQueryId: '912', searchPathSource: 'advisor', tableResolution: 'unique-name' },
      },
    ],
  },
  {
    name: 'one list statement serves the lazy page and the eager page batching the same key',
    snapshot: wide([
      stmt('111', USER_LOOKUP, 20_000, 20_000),
      stmt('-222', FEED, 2_200, 44_000),
      stmt('113', 'SELECT id, name FROM users WHERE id IN ($1, $2, $3, $4)', 400, 1_600),
      stmt('114', 'SELECT id, name FROM users WHERE id IN ($1, $2, $3, $4, $5)', 800, 4_000),
    ]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '111' },
        evidence: { parentQueryId: '-222', batchedParentCalls: 1_200, ratio: 1, fanOut: 20 },
      },
    ],
  },
  {
    name: 'SQLAlchemy-style many-to-many: link table joined in WHERE, parameter first',
    snapshot: wide([
      stmt('555', 'SELECT tags.id, tags.name FROM tags, post_tags WHERE $1 = post_tags.post_id AND tags.id = post_tags.tag_id', 20_000, 60_000),
      stmt('556', POST_LIST, 1_000, 20_000),
    ]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '555', name: 'post_tags' },
        evidence: { parentQueryId: '556', linkType: 'has-many' },
      },
    ],
  },
  {
    name: 'a list joining the users only to filter its posts is no eager page',
    snapshot: wide([
      stmt('111', USER_LOOKUP, 20_000, 20_000),
      stmt(
        '-225',
        'SELECT posts.id, posts.user_id FROM posts JOIN users ON users.id = posts.user_id WHERE users.email LIKE $2 ORDER BY posts.id LIMIT $1',
        1_000,
        20_000,
      ),
    ]),
    findings: [
      { severity: 'warning' as const, object: { type: 'query' as const, queryId: '111' }, evidence: { parentQueryId: '-225', eagerParentsSkipped: 0 } },
    ],
  },
  {
    name: 'eager page beside the lazy list is passed over',
    snapshot: wide([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000), stmt('-223', EAGER_FEED, 1_000, 20_000)]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '111' },
        evidence: { parentQueryId: '-222', parentChoice: 'only-candidate', eagerParentsSkipped: 1 },
      },
    ],
  },
  {
    name: 'tied lists: the one the lookups follow second by second is the parent',
    snapshot: wide([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', FEED, 1_000, 20_000), stmt('-224', OTHER_FEED, 1_000, 20_000)]),
    window: windowOf([
      { id: '111', query: USER_LOOKUP, calls: series, rows: series },
      { id: '-222', query: FEED, calls: series.map((c) => c / 20), rows: series },
      { id: '-224', query: OTHER_FEED, calls: flat.map((c) => c / 20), rows: flat },
    ]),
    findings: [
      {
        severity: 'warning' as const,
        object: { type: 'query' as const, queryId: '111' },
        evidence: { parentQueryId: '-222', parentChoice: 'temporal-support', tiedParents: 2, basis: 'window' },
      },
    ],
  },
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
      window: loopWindow({ id: '111', calls: series, rows: series }, { id: '-222', calls: series.map((c) => c / 20), rows: series }, () => [
        makeBackend({ pid: 601, queryId: '111', applicationName: 'auth' }),
        makeBackend({ pid: 602, queryId: '-222', applicationName: 'feed' }),
      ]),
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
    ...patternValid,
  ],
  invalid: [
    ...patternInvalid,
    {
      name: 'belongs-to loop (cumulative)',
      snapshot: snap(belongsTo),
      findings: [
        {
          severity: 'warning',
          object: { type: 'query', queryId: '111' },
          evidence: { parentQueryId: '-222', linkType: 'belongs-to', linkSource: 'foreign-key', fanOut: 20, ratio: 1, basis: 'cumulative', rowsPerCall: 1 },
        },
      ],
      renumbered: { snapshot: snap([stmt('111', USER_LOOKUP, 30_000, 30_000), stmt('-222', FEED, 1_500, 30_000)]) },
    },
    {
      name: 'has-many loop',
      snapshot: snap([stmt('333', POSTS_OF_USER, 10_000, 200_000), stmt('444', USER_LIST, 1_000, 10_000)]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'query', queryId: '333' },
          evidence: { parentQueryId: '444', linkType: 'has-many', fanOut: 10, rowsPerCall: 20 },
        },
      ],
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
      window: loopWindow(
        { id: '111', calls: [5, 5, 5, 5, 5], rows: [5, 5, 5, 5, 5] },
        { id: '-222', calls: [1, 0, 0, 0, 0], rows: [20, 0, 0, 0, 0] },
        webBackends,
      ),
      findings: [{ severity: 'warning', object: { type: 'query', queryId: '111' }, evidence: { basis: 'cumulative' } }],
    },
  ],
});

it('reports "not analysable" rather than throwing when the parser is missing (covered by sql tests); evidence redacts texts', () => {
  const result = evaluateRules({
    rules: [rule],
    snapshot: snap([stmt('111', USER_LOOKUP, 20_000, 20_000), stmt('-222', "SELECT id, user_id FROM posts WHERE title = 'secret' LIMIT 20", 1_000, 20_000)]),
    window: null,
  });
  expect(result.findings).toHaveLength(1);
  expect(result.findings[0]!.recommendation.text).not.toContain('secret');
});

it('a negative correlation with a small residual does not contradict a loop', () => {
  const d = [100, -100, 100, -100, 100, -100, 100, -100, 100, -100];
  const result = evaluateRules({
    rules: [rule],
    snapshot: snap(belongsTo),
    window: loopWindow(
      { id: '111', calls: d.map((x) => 1000 + x), rows: d.map((x) => 1000 + x) },
      { id: '-222', calls: d.map(() => 50), rows: d.map((x) => 1000 - x / 4) },
      webBackends,
    ),
  });
  expect(result.findings.map((f) => f.object.queryId)).toEqual(['111']);
  expect(result.findings[0]!.evidence.rho).toBeUndefined();
  expect(Number(result.findings[0]!.evidence.anticorrelation)).toBeGreaterThan(0.9);
});

it('judges every real pg_stat_statements text of the corpus without crashing (tables made up from the texts)', () => {
  const read = (name: string) =>
    readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('-- '));
  const texts = [...read('query-corpus.sql'), ...read('query-corpus-extra.sql')];
  // Every table a text names becomes a table with a primary key on id; every `<table>_id`/`<table>Id` column
  // it compares or outputs becomes a foreign key to that table, so joins, links and parents are all exercised.
  const tableOids = new Map<string, number>();
  const columns = new Map<string, Set<string>>();
  for (const text of texts) {
    const a = analyzeStatement(text);
    if (!a.analysable) continue;
    for (const t of a.tables)
      if (!tableOids.has(`${t.schema ?? 'public'}.${t.name}`)) tableOids.set(`${t.schema ?? 'public'}.${t.name}`, 30_000 + tableOids.size);
    for (const c of [...a.predicates, ...a.outputColumns]) {
      const t = a.tables[c.table];
      if (t) columns.set(`${t.schema ?? 'public'}.${t.name}`, (columns.get(`${t.schema ?? 'public'}.${t.name}`) ?? new Set()).add(c.column));
    }
  }
  const split = (q: string) => q.split('.') as [string, string];
  const corpusTables = [...tableOids].map(([q, oid]) => makeTable({ oid, schema: split(q)[0], name: split(q)[1] }));
  const corpusConstraints = [...tableOids].flatMap(([q, oid]) => {
    const [schema, name] = split(q);
    const own = [makeConstraint({ schema, table: name, tableOid: oid, name: `${name}_pkey`, type: 'p', columns: ['id'] })];
    for (const col of columns.get(q) ?? []) {
      const target = [...tableOids].find(([r]) =>
        [`${split(r)[1]}_id`, `${split(r)[1].replace(/s$/, '')}_id`, `${split(r)[1].replace(/s$/, '')}Id`].includes(col),
      );
      if (target)
        own.push(
          makeConstraint({
            schema,
            table: name,
            tableOid: oid,
            name: `${name}_${col}_fkey`,
            type: 'f',
            columns: [col],
            refSchema: split(target[0])[0],
            refTable: split(target[0])[1],
            refTableOid: target[1],
            refColumns: ['id'],
          }),
        );
    }
    return own;
  });
  const corpusColumns = [...columns].flatMap(([q, cols]) => [...cols].map((column) => makeColumn({ schema: split(q)[0], table: split(q)[1], column })));
  const statements = texts.map((query, i) => stmt(String(100_000 + i), query, i % 2 === 0 ? 20_000 : 1_000, 20_000));
  const snapshot = makeSnapshot({ tables: corpusTables, constraints: corpusConstraints, columns: corpusColumns, statements });
  const shape = (i: number) => Array.from({ length: 10 }, (_, k) => 50 + ((i * 7 + k * 13) % 40));
  const window = makeWindow({
    samples: 11,
    statements: texts.map(
      (query, i): StatementDelta => ({
        userId: 16_400,
        dbId: 16_384,
        queryId: String(100_000 + i),
        toplevel: true,
        userName: 'app',
        query,
        calls: shape(i).reduce((a, b) => a + b, 0) * (i % 2 === 0 ? 20 : 1),
        rows: shape(i).reduce((a, b) => a + b, 0) * 20,
        totalExecTimeMs: 1,
        sharedBlks: 1,
        callsSeries: shape(i).map((x) => x * (i % 2 === 0 ? 20 : 1)),
        rowsSeries: shape(i).map((x) => x * 20),
        restarts: 0,
      }),
    ),
  });
  for (const w of [null, window]) {
    const started = performance.now();
    const result = evaluateRules({ rules: [rule], snapshot, window: w });
    expect(result.diagnostics.filter((d) => d.rule === rule.id)).toEqual([]);
    expect(result.evaluated).toEqual([rule.id]);
    console.log(
      `[n-plus-one corpus] ${texts.length} texts, ${corpusTables.length} tables, ` +
        `${w ? 'window' : 'cumulative'}: ${result.findings.length} findings in ` +
        `${Math.round(performance.now() - started)} ms`,
    );
  }
});

it('names the loop by what it does (child table and key, parent table), keeping the query id in object and evidence', () => {
  const result = evaluateRules({ rules: [rule], snapshot: snap(belongsTo), window: null });
  expect(result.findings).toHaveLength(1);
  const [finding] = result.findings;
  expect(finding?.object).toEqual({ type: 'query', queryId: '111', schema: 'public', name: 'users', label: 'users by id, once per row of posts' });
  expect(finding?.title).toContain('users by id, once per row of posts');
  expect(finding?.evidence.parentQueryId).toBe('-222');
  // The label is display only: the fingerprint is the one the object had before it carried one.
  const { label: _label, ...unlabelled } = finding?.object ?? { type: 'query' as const };
  expect(finding?.fingerprint).toBe(fingerprintOf('n-plus-one', unlabelled, undefined, statementFingerprint(USER_LOOKUP) ?? undefined));
});
