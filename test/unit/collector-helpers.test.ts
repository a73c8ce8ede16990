import { describe, expect, it } from 'vitest';
import { maskUrl, TextCache } from '../../src/collector/index.js';
import { describeConnectError } from '../../src/collector/connect.js';
import { type CollectionContext, versionAtLeast } from '../../src/collector/context.js';
import { failedSourceStatus, isConnectionLost, PGSS_SETUP_HINT } from '../../src/collector/source-status.js';
import { parseReloptions } from '../../src/collector/sources/common.js';
import { ConnectionError, PermissionError } from '../../src/errors/errors.js';
import { parseSearchPath } from '../../src/collector/sources/roles.js';

describe('maskUrl', () => {
  it('masks URL passwords and keeps the rest', () => {
    expect(maskUrl('postgres://app:s3cret@db.example.com:5433/prod?sslmode=require')).toBe(
      'postgres://app:***@db.example.com:5433/prod?sslmode=require',
    );
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
