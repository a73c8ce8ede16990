import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText, parseDuration, resolveConfig, urlFromPgEnv, WINDOW_BOUNDS, type CheckFlags } from '../../src/config/index.js';
import { defineRule } from '../../src/engine/define-rule.js';
import type { AnyRule } from '../../src/engine/types.js';
import { UsageError } from '../../src/errors/errors.js';

function rule(id: string, thresholds: Record<string, number>): AnyRule {
  return defineRule({
    id,
    title: id,
    category: 'storage',
    defaultSeverity: 'warning',
    requires: [],
    thresholds: Object.fromEntries(Object.entries(thresholds).map(([k, v]) => [k, { default: v, description: k }])),
    docs: { summary: 's', why: 'w', fix: 'f', falsePositives: 'fp' },
    evaluate: () => [],
  }) as unknown as AnyRule;
}

const RULES = [rule('table-bloat', { minTableBytes: 1, bloatRatio: 0.5 }), rule('vacuum-lag', { minDeadTuples: 10 })];
const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function resolve(flags: CheckFlags = {}, env: Record<string, string> = {}) {
  return resolveConfig({ flags, env, rules: RULES });
}

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1.5s', 1500],
    ['0', 0],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text, { minMs: 100, maxMs: 600_000, allowZero: true })).toEqual({ ok: true, ms });
  });

  it.each(['10', '10x', 's', '-5s', '10 minutes', ''])('rejects %j and says what is valid', (text) => {
    const result = parseDuration(text, WINDOW_BOUNDS);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(/ms, s or m .*between 1s and 10m/);
  });

  it('rejects values out of range', () => {
    const result = parseDuration('11m', WINDOW_BOUNDS);
    expect(result).toEqual({ ok: false, problem: expect.stringMatching(/out of range.*between 1s and 10m/) });
  });
});

describe('resolveConfig', () => {
  it('applies defaults and freezes the result', () => {
    const config = resolve({ databaseUrl: 'postgres://a@h/db' });
    expect(config).toMatchObject({ format: 'text', windowMs: 0, statementTimeoutMs: 5000, failOn: 'warning', ruleIds: ['table-bloat', 'vacuum-lag'] });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.ruleIds)).toBe(true);
  });

  it('takes flags over environment over config file over defaults', () => {
    const cfg = file('precedence.yaml', 'databaseUrl: postgres://file@h/db\nwindow: 20s\nfailOn: critical\nstatementTimeout: 2s\n');
    const fromFile = resolve({ config: cfg });
    expect(fromFile).toMatchObject({
      databaseUrl: 'postgres://file@h/db',
      databaseUrlSource: 'config file',
      windowMs: 20_000,
      failOn: 'critical',
      statementTimeoutMs: 2000,
    });
    const fromEnv = resolve({ config: cfg }, { DATABASE_URL: 'postgres://env@h/db' });
    expect(fromEnv).toMatchObject({ databaseUrl: 'postgres://env@h/db', databaseUrlSource: 'DATABASE_URL' });
    const fromFlags = resolve({ config: cfg, databaseUrl: 'postgres://flag@h/db', window: '3s', failOn: 'info' }, { DATABASE_URL: 'postgres://env@h/db' });
    expect(fromFlags).toMatchObject({ databaseUrl: 'postgres://flag@h/db', databaseUrlSource: '--database-url', windowMs: 3000, failOn: 'info' });
  });

  it('builds the URL from PG* variables as libpq does when nothing else names a target', () => {
    const config = resolve({}, { PGHOST: 'db.internal', PGPORT: '6432', PGUSER: 'mon itor', PGPASSWORD: 'p@ss', PGDATABASE: 'app' });
    expect(config.databaseUrl).toBe('postgres://mon%20itor:p%40ss@db.internal:6432/app');
    expect(config.databaseUrlSource).toBe('PG* environment');
    expect(urlFromPgEnv({ PGHOST: '/var/run/postgresql', PGDATABASE: 'app' })).toBe('postgres://%2Fvar%2Frun%2Fpostgresql/app');
    expect(urlFromPgEnv({ PGPASSWORD: 'only-a-password' })).toBeNull();
    expect(resolve({}, {}).databaseUrl).toBeNull();
  });

  it('rejects a connection string that is not a URL', () => {
    expect(usageMessage(() => resolve({ databaseUrl: 'host=db dbname=app' }))).toMatch(/must start with postgres:\/\//);
  });

  it('selects rules with --rules, naming unknown ids and the valid ones', () => {
    expect(resolve({ rules: 'vacuum-lag' }).ruleIds).toEqual(['vacuum-lag']);
    expect(usageMessage(() => resolve({ rules: 'vacuum-lag,tabel-bloat' }))).toBe('--rules: unknown rule "tabel-bloat"; valid: table-bloat, vacuum-lag');
    expect(usageMessage(() => resolve({ rules: ' , ' }))).toMatch(/at least one rule id/);
  });

  it('lets the config file disable rules and set thresholds; --rules overrides enabled: false', () => {
    const cfg = file('rules.yaml', 'rules:\n  table-bloat:\n    enabled: false\n  vacuum-lag:\n    thresholds:\n      minDeadTuples: 500\n');
    const config = resolve({ config: cfg });
    expect(config.ruleIds).toEqual(['vacuum-lag']);
    expect(config.ruleSettings).toEqual({ 'vacuum-lag': { thresholds: { minDeadTuples: 500 } } });
    expect(resolve({ config: cfg, rules: 'table-bloat' }).ruleIds).toEqual(['table-bloat']);
  });

  it('says what is valid for a malformed --window, --statement-timeout, --fail-on and --format', () => {
    expect(usageMessage(() => resolve({ window: 'ten' }))).toMatch(/^--window: "ten" is not a duration; .*e\.g\. 500ms, 10s, 2m/);
    expect(usageMessage(() => resolve({ statementTimeout: '1h' }))).toMatch(/^--statement-timeout: /);
    expect(usageMessage(() => resolve({ failOn: 'error' }))).toBe('--fail-on error is not a level; valid: critical, warning, info, never');
    expect(usageMessage(() => resolve({ format: 'xml' }))).toBe('--format xml is not supported; valid: text, json, markdown, sarif, junit');
  });

  it('reports a missing config file', () => {
    expect(usageMessage(() => resolve({ config: join(dir, 'nope.yaml') }))).toMatch(/cannot read config file .*nope\.yaml \(ENOENT\)/);
  });
});

describe('config file validation', () => {
  const parse = (text: string, name = 'c.yaml') => parseConfigText(text, name, RULES);

  it('accepts YAML and JSON with the same content', () => {
    const yaml = parse('window: 10s\nrules:\n  table-bloat:\n    thresholds:\n      bloatRatio: 0.3\n');
    const json = parse('{"window":"10s","rules":{"table-bloat":{"thresholds":{"bloatRatio":0.3}}}}', 'c.json');
    expect(yaml).toEqual(json);
    expect(parse('')).toEqual({});
  });

  it('names the path of an unknown threshold and the valid keys', () => {
    expect(usageMessage(() => parse('rules:\n  table-bloat:\n    thresholds:\n      minTableByte: 5\n'))).toContain(
      'rules.table-bloat.thresholds.minTableByte: unknown threshold; valid: minTableBytes, bloatRatio',
    );
  });

  it('names an unknown rule id and the valid ones', () => {
    expect(usageMessage(() => parse('rules:\n  table-blot: {}\n'))).toContain('rules.table-blot: unknown rule; valid: table-bloat, vacuum-lag');
  });

  it('names unknown top-level keys, wrong types and bad enum values, one line each', () => {
    const message = usageMessage(() =>
      parse('windw: 10s\nfailOn: loud\nrules:\n  vacuum-lag:\n    enabled: "no"\n    thresholds:\n      minDeadTuples: "many"\n'),
    );
    expect(message).toContain('windw: unknown setting; valid: databaseUrl, statementTimeout, connectTimeout, window, failOn, rules');
    expect(message).toContain('failOn: expected one of critical, warning, info, never');
    expect(message).toContain('rules.vacuum-lag.enabled: expected true or false');
    expect(message).toContain('rules.vacuum-lag.thresholds.minDeadTuples: expected a number');
  });

  it('rejects durations without a unit and negative thresholds', () => {
    expect(usageMessage(() => parse('window: 10\n'))).toContain('window: expected a duration string such as "500ms", "10s" or "2m"');
    expect(usageMessage(() => parse('window: 10h\n'))).toMatch(/window: "10h" is not a duration/);
    expect(usageMessage(() => parse('rules:\n  vacuum-lag:\n    thresholds:\n      minDeadTuples: -1\n'))).toContain(
      'rules.vacuum-lag.thresholds.minDeadTuples: expected a finite number ≥ 0',
    );
  });

  it('reports YAML and JSON syntax errors with their position', () => {
    expect(usageMessage(() => parse('rules: [\n'))).toMatch(/^config file c\.yaml is not valid YAML \(line \d+, column \d+\)/);
    expect(usageMessage(() => parse('a: 1\na: 2\n'))).toMatch(/not valid YAML .*unique/);
    expect(usageMessage(() => parse('{"window": "10s"', 'c.json'))).toMatch(/^config file c\.json is not valid JSON: /);
    expect(usageMessage(() => parse('- 1\n- 2\n'))).toContain('(top level): expected a mapping of settings at the top level');
  });
});
