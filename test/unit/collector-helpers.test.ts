import { describe, expect, it } from 'vitest';
import { TextCache } from '../../src/collector/index.js';
import { maskUrl } from '../../src/secrets/index.js';
import { describeConnectError } from '../../src/collector/connect.js';
import { type CollectionContext, versionAtLeast } from '../../src/collector/context.js';
import { failedSourceStatus, isConnectionLost, PGSS_SETUP_HINT } from '../../src/collector/source-status.js';
import { parseReloptions } from '../../src/collector/sources/common.js';
import { collectionDeadlineMs, QueryDeadlineError, queryDeadlineMs, withCollectionDeadline } from '../../src/collector/deadline.js';
import { refuseUnsafeUrl, safetyMismatches, unsafeUrlSettings } from '../../src/collector/session-safety.js';
import { ConnectionError, PermissionError, UsageError } from '../../src/errors/errors.js';
import { parseSearchPath } from '../../src/collector/sources/roles.js';

describe('maskUrl', () => {
  it('masks URL passwords and keeps the rest', () => {
    expect(maskUrl('postgres://app:s3cret@db.example.com:5433/prod?sslmode=require')).toBe('postgres://app:***@db.example.com:5433/prod?sslmode=require');
    expect(maskUrl('postgres://app@db/prod')).toBe('postgres://app@db/prod');
    expect(maskUrl('postgresql://h/db?password=abc')).not.toContain('abc');
  });
  it('masks key=value connection strings', () => {
    expect(maskUrl('host=db user=app password=s3cret dbname=x')).toBe('host=db user=app password=*** dbname=x');
  });
});

describe('TextCache', () => {
  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new TextCache({ maxEntries: 2 });
    cache.set('1', 'a');
    cache.set('2', 'b');
    expect(cache.get('1')).toBe('a'); // 1 is now the most recent
    cache.set('3', 'c');
    expect(cache.has('2')).toBe(false);
    expect(cache.missing(['1', '2', '3', '2'])).toEqual(['2']);
    cache.set('4', null);
    expect(cache.get('4')).toBeNull();
    expect(cache.get('nope')).toBeUndefined();
    expect(cache.size).toBe(2);
  });
});

describe('describeConnectError', () => {
  const err = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  it.each([
    ['ECONNREFUSED', /host and port/],
    ['ENOTFOUND', /host name/],
    ['EAI_AGAIN', /host name/],
    ['28P01', /password/],
    ['28000', /pg_hba\.conf/],
    ['3D000', /database name/],
    ['53300', /max_connections|CONNECTION LIMIT/],
    ['57P03', /retry/],
  ])('%s → ConnectionError with a hint', (code, hint) => {
    const e = describeConnectError(err(code), 'postgres://u:***@h/db', 5000);
    expect(e).toBeInstanceOf(ConnectionError);
    expect((e as ConnectionError).hint).toMatch(hint);
    expect(e.message).toContain('postgres://u:***@h/db');
  });
  it('maps timeouts and privilege errors', () => {
    expect(describeConnectError(new Error('timeout expired'), 'm', 5000).message).toMatch(/within 5000 ms/);
    expect(describeConnectError(err('42501'), 'm', 5000)).toBeInstanceOf(PermissionError);
  });
});

describe('failedSourceStatus', () => {
  const ctx = { currentUser: 'advisor', database: 'app' } as CollectionContext;
  const err = (code: string) => Object.assign(new Error('boom'), { code });
  it('names the grant, extension or setting that fixes it', () => {
    expect(failedSourceStatus('activity', err('42501'), ctx)).toMatchObject({ status: 'unavailable', hint: 'GRANT pg_monitor TO advisor' });
    expect(failedSourceStatus('statements', err('42P01'), ctx)).toMatchObject({ hint: PGSS_SETUP_HINT });
    expect(failedSourceStatus('statements', err('55000'), ctx)).toMatchObject({ hint: PGSS_SETUP_HINT });
    expect(failedSourceStatus('bloat', err('42883'), ctx)).toMatchObject({ hint: 'CREATE EXTENSION pgstattuple' });
    expect(failedSourceStatus('tables', err('57014'), ctx)).toMatchObject({ hint: expect.stringContaining('statement_timeout') });
    expect(failedSourceStatus('tables', err('55P03'), ctx)).toMatchObject({ hint: expect.stringContaining('lock_timeout') });
    expect(failedSourceStatus('tables', err('57014'), ctx)).toMatchObject({ reason: 'boom (SQLSTATE 57014)' });
  });
  it('tells a missing privilege or extension (unavailable) from a failure (timeout, lock, error)', () => {
    expect(failedSourceStatus('bloat', err('42501'), ctx).status).toBe('unavailable');
    expect(failedSourceStatus('statements', err('55000'), ctx).status).toBe('unavailable');
    expect(failedSourceStatus('statements', err('42883'), ctx).status).toBe('unavailable');
    expect(failedSourceStatus('tables', err('57014'), ctx).status).toBe('failed');
    expect(failedSourceStatus('indexes', err('55P03'), ctx).status).toBe('failed');
    expect(failedSourceStatus('tables', err('42P01'), ctx).status).toBe('failed');
    expect(failedSourceStatus('activity', new Error('something odd'), ctx).status).toBe('failed');
  });
});

describe('unsafeUrlSettings', () => {
  it('names every safety setting a URL or key=value string would override, and lets other options pass', () => {
    expect(unsafeUrlSettings('postgres://a@h/db?statement_timeout=0')).toEqual(['statement_timeout']);
    expect(unsafeUrlSettings('postgres://a@h/db?options=-c%20statement_timeout%3D0')).toEqual(['options: statement_timeout']);
    expect(unsafeUrlSettings('postgres://a@h/db?options=--lock-timeout%3D0')).toEqual(['options: lock_timeout']);
    expect(unsafeUrlSettings('postgres://a@h/db?options=-c%20search_path%3Dapp&sslmode=require')).toEqual([]);
    expect(unsafeUrlSettings("host=h dbname=db options='-c default_transaction_read_only=off'")).toEqual(['options: default_transaction_read_only']);
    expect(unsafeUrlSettings('host=h application_name=x')).toEqual(['application_name']);
  });
  it('refuses with a UsageError that never shows the password', () => {
    expect(() => refuseUnsafeUrl('postgres://a:pw@h/db?lock_timeout=0', 'postgres://a:***@h/db?lock_timeout=0')).toThrow(UsageError);
    expect(() => refuseUnsafeUrl('postgres://a:pw@h/db', 'm')).not.toThrow();
  });
});

describe('safetyMismatches', () => {
  const s = { statementTimeoutMs: 5000, lockTimeoutMs: 1000, idleInTransactionMs: 10_000 };
  const ok = { others: 0, read_only: 'on', application_name: 'pg-advisor', statement_timeout_ms: 5000, lock_timeout_ms: 1000, idle_in_transaction_ms: 10_000 };
  it('lists each safety setting not in force', () => {
    expect(safetyMismatches(ok, s)).toEqual([]);
    expect(safetyMismatches({ ...ok, statement_timeout_ms: 0, idle_in_transaction_ms: 0 }, s)).toEqual([
      'statement_timeout=0ms',
      'idle_in_transaction_session_timeout=0ms',
    ]);
    expect(safetyMismatches({ ...ok, read_only: 'off', application_name: 'x', lock_timeout_ms: 600_000 }, s)).toHaveLength(3);
  });
});

describe('client-side deadlines', () => {
  it('sit a little above statement_timeout (at least 1 s grace, half of it for long ones) and bound a collection', () => {
    expect(queryDeadlineMs(500)).toBe(1500);
    expect(queryDeadlineMs(5000)).toBe(7500);
    expect(collectionDeadlineMs(500)).toBe(60_000);
    expect(collectionDeadlineMs(5000)).toBe(150_000);
  });
  it('a statement past its deadline counts as a lost session (the collection ends, the pool drops it)', () => {
    expect(isConnectionLost(new QueryDeadlineError(1500, 500))).toBe(true);
  });
  it('withCollectionDeadline rejects at the deadline and swallows the abandoned body', async () => {
    const started = Date.now();
    const never = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 300));
    await expect(withCollectionDeadline(50, 'collecting statistics', () => never)).rejects.toThrow('collecting statistics did not finish within 50 ms');
    expect(Date.now() - started).toBeLessThan(250);
    await new Promise((r) => setTimeout(r, 300)); // the late rejection must not surface as unhandled
  });
});

describe('isConnectionLost', () => {
  it('tells a dead session from a failed statement', () => {
    expect(isConnectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLost(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isConnectionLost(Object.assign(new Error('permission denied'), { code: '42501' }))).toBe(false);
    expect(isConnectionLost(Object.assign(new Error('canceling statement'), { code: '57014' }))).toBe(false);
  });
});

describe('small parsers', () => {
  it('compares extension versions numerically', () => {
    expect(versionAtLeast('1.10', '1.9')).toBe(true);
    expect(versionAtLeast('1.8', '1.9')).toBe(false);
    expect(versionAtLeast('1.11', '1.11')).toBe(true);
    expect(versionAtLeast(null, '1.8')).toBe(false);
  });
  it('parses reloptions', () => {
    expect(parseReloptions(['fillfactor=70', 'autovacuum_enabled=false', 'x=a=b'])).toEqual({
      fillfactor: '70',
      autovacuum_enabled: 'false',
      x: 'a=b',
    });
    expect(parseReloptions(null)).toEqual({});
  });
});

describe('parseSearchPath (pg_db_role_setting values)', () => {
  it('splits, folds unquoted names, keeps quoted ones verbatim and replaces $user', () => {
    expect(parseSearchPath('billing', 'svc')).toEqual(['billing']);
    expect(parseSearchPath('"$user", public', 'svc')).toEqual(['svc', 'public']);
    expect(parseSearchPath('Billing ,  "My Schema",app', 'svc')).toEqual(['billing', 'My Schema', 'app']);
    expect(parseSearchPath('"a""b", c', 'svc')).toEqual(['a"b', 'c']);
    expect(parseSearchPath('', 'svc')).toEqual([]);
  });
});
