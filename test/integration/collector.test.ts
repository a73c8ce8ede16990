import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSnapshot, connectTarget, type Target } from '../../src/collector/index.js';
import { ConnectionError, UsageError } from '../../src/errors/errors.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { createTestDatabase, holdConnections, type TestDatabase, snapshotAs } from '../support/database.js';
import { plantCollectorSchema } from '../support/collector-schema.js';

const PGSS_BY_MAJOR: Record<number, string> = { 15: '1.10', 16: '1.10', 17: '1.11', 18: '1.12' };
const MARKER = '/* pg-advisor */';
const LONG_QUERY = 'select id, email, name, id * id as id_squared, length(email) as email_length, upper(name) as upper_name from shop.customers where id = $1';

let db: TestDatabase;
let holders: Awaited<ReturnType<typeof holdConnections>> | undefined;
let admin: Snapshot;
let monitor: Snapshot;
let monitorUrl: string;

beforeAll(async () => {
  db = await createTestDatabase({ extensions: ['pgstattuple'] });
  await plantCollectorSchema(db.adminUrl);
  // A few parameterised statements, through pg (extended protocol).
  for (let i = 1; i <= 25; i++) await db.admin.query('select name from shop.customers where id = $1', [i]);
  for (let i = 1; i <= 5; i++) {
    await db.admin.query('select count(*) from shop."OrderItems" where customer_id = $1 and "order lines" > $2', [i, 3]);
  }
  await db.admin.query(LONG_QUERY, [7]);
  // IN lists of different lengths: one entry each up to PG17, squashed into one on PG18.
  await db.admin.query('select id from shop.customers where id in ($1, $2)', [1, 2]);
  await db.admin.query('select id from shop.customers where id in ($1, $2, $3)', [1, 2, 3]);
  // Horizon holders: an idle-in-transaction snapshot and a prepared transaction.
  const held = await holdConnections(db.adminUrl, 2, { applicationName: 'holder-app' });
  holders = held;
  const [idle, preparer] = held.clients;
  await idle!.query('begin isolation level repeatable read');
  await idle!.query('select count(*) from shop.customers');
  await preparer!.query(`begin; insert into shop.customers values (100000, 'p@example.com', 'p'); prepare transaction 'pgadv_test_gxact'`);
  monitorUrl = await db.createMonitorRole();
  admin = await snapshotAs(db.adminUrl);
  monitor = await snapshotAs(monitorUrl);
});

afterAll(async () => {
  await db?.admin.query(`rollback prepared 'pgadv_test_gxact'`).catch(() => {});
  await holders?.release();
  await db?.drop();
});

describe('collectSnapshot as superuser', () => {
  it('records versions, capabilities and every source ok', () => {
    const major = Math.floor(admin.meta.serverVersionNum / 10000);
    expect(admin.meta.database).toBe(db.name);
    expect(admin.meta.capabilities).toMatchObject({
      superuser: true,
      pgMonitor: true,
      readAllStats: true,
      pgssLoaded: true,
      pgstattuple: true,
      hypopg: false,
    });
    expect(admin.meta.capabilities.pgssVersion).toBe(PGSS_BY_MAJOR[major]);
    expect(admin.meta.pgssDealloc).toBeGreaterThanOrEqual(0);
    expect(admin.meta.searchPath).toContain('public');
    for (const [name, status] of Object.entries(admin.meta.sources)) expect(status, name).toMatchObject({ status: 'ok' });
    expect(Object.keys(admin.meta.sources)).toHaveLength(15);
    expect(admin.meta.collectDurationMs).toBeGreaterThan(0);
    expect(Object.isFrozen(admin.tables[0])).toBe(true);
  });

  it('reads settings with units converted', () => {
    const s = admin.settings!;
    expect(s.maxConnections).toBeGreaterThan(0);
    expect(s.blockSizeBytes).toBe(8192);
    expect(s.autovacuumNaptimeSeconds).toBe(60);
    expect(s.autovacuumFreezeMaxAge).toBe(200_000_000);
    expect(s.trackCounts).toBe(true);
    // The server's value (off here), not the 10 s the advisor sets on its own sessions.
    expect(s.idleInTransactionSessionTimeoutMs).toBe(0);
    if (admin.meta.serverVersionNum < 160000) expect(s.reservedConnections).toBe(0);
    if (admin.meta.serverVersionNum < 180000) expect(s.autovacuumVacuumMaxThreshold).toBeNull();
  });

  it('reads statements with texts, string query ids, no advisor statements', () => {
    const byId = admin.statements.find((s) => s.query === 'select name from shop.customers where id = $1');
    expect(byId).toBeDefined();
    expect(byId!.calls).toBeGreaterThanOrEqual(25);
    expect(byId!.rows).toBeGreaterThanOrEqual(25);
    expect(byId!.queryId).toMatch(/^-?\d+$/);
    expect(byId!.userName).toBe('postgres');
    expect(byId!.totalExecTimeMs).toBeGreaterThan(0);
    expect(byId!.toplevel).toBe(true);
    expect(byId!.statsSince === null).toBe(admin.meta.serverVersionNum < 170000);
    expect(admin.statements.every((s) => !s.query?.includes(MARKER))).toBe(true);
    expect(new Set(admin.statements.map((s) => s.dbId))).toEqual(new Set([admin.databases.find((d) => d.name === db.name)!.oid]));
  });

  it('handles IN lists per version (PG18 squashes them into one entry)', () => {
    const inLists = admin.statements.filter((s) => /from shop\.customers where id in/.test(s.query ?? ''));
    if (admin.meta.serverVersionNum >= 180000) {
      expect(inLists).toHaveLength(1);
      expect(inLists[0]!.calls).toBe(2);
    } else {
      expect(inLists.map((s) => s.calls)).toEqual([1, 1]);
    }
  });

  it('reads client backends with server-side ages and the idle-in-transaction holder', () => {
    const self = admin.activity.filter((b) => b.isSelf);
    expect(self).toHaveLength(1);
    expect(self[0]!.applicationName).toBe('pg-advisor');
    const idle = admin.activity.find((b) => b.applicationName === 'holder-app' && b.state === 'idle in transaction');
    expect(idle).toBeDefined();
    expect(idle!.xminAge).toBeGreaterThanOrEqual(0);
    expect(idle!.xactAgeSeconds).toBeGreaterThan(0);
    expect(admin.activity.every((b) => (b.backendAgeSeconds ?? 0) >= 0)).toBe(true);
  });

  it('reads databases and roles', () => {
    const me = admin.databases.find((d) => d.name === db.name)!;
    expect(me.backends).toBeGreaterThanOrEqual(3);
    expect(me.sizeBytes).toBeGreaterThan(1_000_000);
    expect(me.xidAge).toBeGreaterThan(0);
    expect(me.connLimit).toBe(-1);
    expect(me.sessions).toBeGreaterThanOrEqual(1);
    const postgres = admin.roles.find((r) => r.name === 'postgres')!;
    expect(postgres).toMatchObject({ superuser: true, canLogin: true });
    expect(postgres.backends).toBeGreaterThanOrEqual(3);
  });

  it('reads tables with odd names, sizes, reloptions and ages', () => {
    const items = admin.tables.find((t) => t.name === 'OrderItems')!;
    expect(items).toMatchObject({ schema: 'shop', kind: 'r', reltuples: 5000, locked: false });
    expect(items.heapBytes! % 8192).toBe(0);
    expect(items.totalBytes!).toBeGreaterThan(items.heapBytes!);
    expect(items.xidAge).toBeGreaterThan(0);
    expect(items.lastAnalyzeAgeSeconds).toBeGreaterThanOrEqual(0);
    const lines = admin.tables.find((t) => t.name === 'order lines')!;
    expect(lines.reloptions).toEqual({ fillfactor: '70', autovacuum_enabled: 'false' });
    const bloated = admin.tables.find((t) => t.name === 'bloated')!;
    expect(bloated.nTupDel).toBe(50000);
    expect(bloated.vacuumCount).toBeGreaterThanOrEqual(1);
    expect(admin.tables.some((t) => t.schema === 'pg_catalog' || t.schema === 'information_schema')).toBe(false);
  });

  it('reads indexes: key and include columns, expressions, partial, unique, fillfactor', () => {
    const idx = (name: string) => admin.indexes.find((i) => i.name === name)!;
    expect(idx('OrderItems_lower_weird')).toMatchObject({ columns: [null], isPartial: false, method: 'btree', fillfactor: 90 });
    expect(idx('OrderItems_partial')).toMatchObject({ columns: ['order lines'], isPartial: true });
    expect(idx('OrderItems_cover')).toMatchObject({ columns: ['customer_id', 'id'], includeColumns: ['café'], isUnique: true });
    expect(idx('OrderItems_pkey')).toMatchObject({ isPrimary: true, isValid: true, table: 'OrderItems' });
    expect(idx('order lines_pkey').columns).toEqual(['item_id', 'n']);
    expect(idx('OrderItems_pkey').sizeBytes).toBeGreaterThan(0);
    expect(idx('OrderItems_pkey').definition).toContain('"OrderItems"');
    // No index is being built or dropped: all ready, none flagged (rules-invalid-index covers the flags).
    expect(admin.indexes.filter((i) => !i.isReady || i.buildInProgress || i.dropInProgress)).toEqual([]);
  });

  it('reads constraints with columns in order and FK targets', () => {
    const fk = admin.constraints.find((c) => c.table === 'order lines' && c.type === 'f')!;
    expect(fk).toMatchObject({ columns: ['item_id'], refSchema: 'shop', refTable: 'OrderItems', refColumns: ['id'] });
    expect(fk.refTableOid).toBe(admin.tables.find((t) => t.name === 'OrderItems')!.oid);
    const pk = admin.constraints.find((c) => c.table === 'order lines' && c.type === 'p')!;
    expect(pk).toMatchObject({ columns: ['item_id', 'n'], refTable: null, refColumns: [] });
    expect(admin.constraints.find((c) => c.name === 'customers_email_key')).toMatchObject({ type: 'u', columns: ['email'] });
  });

  it('reads column statistics including quoted and unicode names', () => {
    const weird = admin.columns.find((c) => c.table === 'OrderItems' && c.column === 'we"ird')!;
    expect(weird).toMatchObject({ dataType: 'text', nullFrac: 0, nDistinct: 7 });
    expect(weird.topFrequency).toBeGreaterThan(0.1);
    expect(admin.columns.find((c) => c.column === 'café')?.dataType).toBe('numeric');
  });

  it('reads horizon holders and the next xid', () => {
    const v = admin.vacuum!;
    expect(v.nextXid).toBeGreaterThan(0);
    const prepared = v.horizonHolders.find((h) => h.kind === 'prepared-transaction');
    expect(prepared).toMatchObject({ name: 'pgadv_test_gxact' });
    expect(prepared!.ageSeconds).toBeGreaterThanOrEqual(0);
    const backend = v.horizonHolders.find((h) => h.kind === 'backend' && h.detail.includes('holder-app'));
    expect(backend?.detail).toContain('idle in transaction');
    expect(v.horizonHolders.every((h) => h.xminAge >= 0)).toBe(true);
  });

  it('measures the bloated heap with pgstattuple and estimates unique btrees', () => {
    const heap = admin.bloat!.tables.find((t) => t.name === 'bloated')!;
    expect(heap.method).toBe('pgstattuple_approx');
    expect(heap.wasteBytes / heap.tableBytes).toBeGreaterThan(0.3);
    expect(heap.wasteBytes / heap.tableBytes).toBeLessThan(0.7);
    const healthy = admin.bloat!.tables.find((t) => t.name === 'OrderItems');
    if (healthy) expect(healthy.wasteBytes / healthy.tableBytes).toBeLessThan(0.2);
    const pkey = admin.bloat!.indexes.find((i) => i.name === 'bloated_pkey');
    expect(pkey?.method).toBe('estimate');
    for (const b of [...admin.bloat!.tables, ...admin.bloat!.indexes]) {
      expect(b.wasteBytes, b.name).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('collectSnapshot as a pg_monitor-only role', () => {
  it('keeps most sources ok; columns empty with a note; bloat measured but not estimated', () => {
    expect(monitor.meta.capabilities).toMatchObject({ superuser: false, pgMonitor: true, readAllStats: true, pgstattuple: true });
    for (const name of ['settings', 'statements', 'activity', 'databases', 'roles', 'tables', 'indexes', 'constraints', 'vacuum'] as const) {
      expect(monitor.meta.sources[name], name).toEqual({ status: 'ok' });
    }
    expect(monitor.columns).toEqual([]);
    expect(monitor.meta.sources.columns).toMatchObject({ status: 'ok', note: expect.stringContaining('GRANT SELECT') });
    expect(monitor.meta.sources.bloat).toMatchObject({ status: 'ok', note: expect.stringContaining('GRANT SELECT') });
    expect(monitor.bloat!.tables.find((t) => t.name === 'bloated')?.method).toBe('pgstattuple_approx');
    expect(monitor.bloat!.tables.some((t) => t.method === 'estimate')).toBe(false);
    expect(monitor.statements.find((s) => s.query === 'select name from shop.customers where id = $1')?.calls).toBeGreaterThanOrEqual(25);
    expect(monitor.tables.find((t) => t.name === 'OrderItems')?.heapBytes).toBeGreaterThan(0);
  });

  it('says what grant is missing when neither estimate nor pgstattuple is possible', async () => {
    await db.admin.query('drop extension pgstattuple');
    try {
      const s = await snapshotAs(monitorUrl);
      expect(s.meta.capabilities.pgstattuple).toBe(false);
      expect(s.meta.sources.bloat).toMatchObject({ status: 'unavailable', hint: expect.stringContaining('GRANT SELECT') });
      expect(s.meta.sources.bloat).toMatchObject({ hint: expect.stringContaining('CREATE EXTENSION pgstattuple') });
      expect(s.bloat).toBeNull();
      expect(s.meta.sources.tables).toEqual({ status: 'ok' });
    } finally {
      await db.admin.query('create extension pgstattuple');
    }
  });
});

describe('degraded targets', () => {
  it('marks statements unavailable with the setup hint when the extension is missing', async () => {
    const other = await createTestDatabase();
    try {
      await other.admin.query('drop extension pg_stat_statements');
      await other.admin.query('create table t (id int primary key)');
      const s = await snapshotAs(other.adminUrl);
      expect(s.meta.capabilities.pgssVersion).toBeNull();
      expect(s.meta.sources.statements).toMatchObject({
        status: 'unavailable',
        hint: expect.stringContaining('CREATE EXTENSION pg_stat_statements'),
      });
      expect(s.statements).toEqual([]);
      expect(s.meta.sources.tables).toEqual({ status: 'ok' });
      expect(s.tables.map((t) => t.name)).toEqual(['t']);
    } finally {
      await other.drop();
    }
  });

  it('notes what a role without pg_monitor cannot see, with the grant', async () => {
    const s = await snapshotAs(await db.createMonitorRole({ pgMonitor: false }));
    expect(s.meta.capabilities).toMatchObject({ superuser: false, pgMonitor: false, readAllStats: false, pgstattuple: false });
    for (const name of ['statements', 'activity', 'vacuum'] as const) {
      expect(s.meta.sources[name], name).toMatchObject({ status: 'ok', note: expect.stringContaining('GRANT pg_monitor') });
    }
    // Other roles' entries have no queryid for this role: none of the superuser's statements is visible.
    expect(s.statements.some((x) => x.userName === 'postgres')).toBe(false);
    expect(s.meta.sources.bloat).toMatchObject({ status: 'unavailable', hint: expect.stringContaining('GRANT pg_stat_scan_tables') });
    expect(s.meta.sources.tables).toEqual({ status: 'ok' });
    expect(s.tables.find((t) => t.name === 'OrderItems')?.heapBytes).toBeGreaterThan(0);
  });

  it('bounds query texts (never below 100 characters) and still drops its own statements', async () => {
    const target = await connectTarget({ url: monitorUrl });
    try {
      const s = await collectSnapshot(target, { maxQueryTextLength: 20 });
      const long = s.statements.find((x) => x.query?.startsWith('select id, email, name, id * id'));
      expect(long?.query).toBe(LONG_QUERY.slice(0, 100));
      expect(s.statements.every((x) => (x.query?.length ?? 0) <= 100)).toBe(true);
      expect(s.statements.some((x) => x.query?.includes('pg-advisor'))).toBe(false);
    } finally {
      await target.close();
    }
  });

  it('records a source that times out as failed and still collects the others', async () => {
    const real = await connectTarget({ url: monitorUrl, statementTimeoutMs: 500 });
    // The real server, with the vacuum source's statement replaced by one that outlives statement_timeout.
    const slowVacuum: Target = {
      query: (sql, params) => (sql.includes('pg_stat_progress_vacuum') ? real.query('select /* pg-advisor */ pg_sleep(2)') : real.query(sql, params)),
      close: () => real.close(),
    };
    try {
      const s = await collectSnapshot(slowVacuum);
      expect(s.meta.sources.vacuum).toMatchObject({
        status: 'failed',
        reason: expect.stringContaining('57014'),
        hint: expect.stringContaining('statement_timeout'),
      });
      expect(s.vacuum).toBeNull();
      expect(s.meta.sources.bloat).toMatchObject({ status: 'ok' });
      expect(s.tables.length).toBeGreaterThan(3);
    } finally {
      await slowVacuum.close();
    }
  });

  it('skips sizes of a relation held by an AccessExclusiveLock instead of waiting', async () => {
    const locker = new pg.Client({ connectionString: db.adminUrl });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table shop.locked_t in access exclusive mode');
      const started = Date.now();
      const s = await snapshotAs(monitorUrl);
      expect(Date.now() - started).toBeLessThan(5000);
      const t = s.tables.find((x) => x.name === 'locked_t')!;
      expect(t).toMatchObject({ locked: true, heapBytes: null, totalBytes: null });
      expect(s.indexes.find((i) => i.name === 'locked_t_pkey')?.sizeBytes).toBeNull();
      expect(s.tables.find((x) => x.name === 'OrderItems')).toMatchObject({ locked: false });
      // Counted and named, never silently skipped.
      expect(s.meta.sources.tables).toEqual({
        status: 'ok',
        note: '1 table(s) not measured: an AccessExclusiveLock is held or queued on them (DDL in progress): shop.locked_t',
      });
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
  });
});

describe('connectTarget', () => {
  it('fails fast on an unreachable port, with a hint and no password', async () => {
    const started = Date.now();
    const error = await connectTarget({ url: 'postgres://someone:s3cret-pw@127.0.0.1:1/nowhere', connectTimeoutMs: 3000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toContain('someone:***@127.0.0.1:1');
    expect((error as ConnectionError).message).not.toContain('s3cret-pw');
    expect((error as ConnectionError).hint).toMatch(/host and port/);
  });

  it('reports a wrong password as a ConnectionError', async () => {
    const url = new URL(monitorUrl);
    url.password = 'definitely-wrong';
    const error = await connectTarget({ url: url.toString() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/password authentication failed/);
    expect((error as Error).message).not.toContain('definitely-wrong');
    expect((error as ConnectionError).hint).toMatch(/password/);
  });

  it('reports a missing database', async () => {
    const url = new URL(db.adminUrl);
    url.pathname = '/no_such_db_here';
    const error = await connectTarget({ url: url.toString() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).hint).toMatch(/database name/);
  });

  it('sets the safety settings on every session and stays read-only', async () => {
    const target: Target = await connectTarget({ url: monitorUrl, statementTimeoutMs: 300, maxConnections: 9 });
    try {
      const [row] = await target.query<{ ro: string; st: string; lt: string; iit: string; app: string }>(
        `select /* pg-advisor */ current_setting('default_transaction_read_only') as ro, current_setting('statement_timeout') as st,
           current_setting('lock_timeout') as lt, current_setting('idle_in_transaction_session_timeout') as iit,
           current_setting('application_name') as app`,
      );
      expect(row).toEqual({ ro: 'on', st: '300ms', lt: '1s', iit: '10s', app: 'pg-advisor' });
      await expect(target.query('select /* pg-advisor */ pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
      await expect(target.query('create /* pg-advisor */ table nope (id int)')).rejects.toMatchObject({ code: '25006' });
    } finally {
      await target.close();
    }
  });

  it('refuses a URL that overrides the safety settings', async () => {
    const url = new URL(monitorUrl);
    url.searchParams.set('application_name', 'not-the-advisor');
    await expect(connectTarget({ url: url.toString() })).rejects.toBeInstanceOf(UsageError);
  });

  it('refuses when this role already has as many advisor sessions as the cap', async () => {
    const first = await connectTarget({ url: monitorUrl, maxConnections: 1 });
    try {
      const error = await connectTarget({ url: monitorUrl, maxConnections: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).message).toMatch(/already open/);
    } finally {
      await first.close();
    }
  });
});
