import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { DEFAULT_HISTORY_MS, describeDaemonConfig, loadDaemonConfig } from '../../src/config/daemon/index.js';
import { UsageError } from '../../src/errors/errors.js';

const load = (text: string, env: Record<string, string> = {}, file = 'advisor.yaml') => loadDaemonConfig({ file, text, env, rules: allRules });
const problemOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
};

describe('daemon config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves targets, rules, api tokens, retention and env overrides', () => {
    const tokenFile = join(dir, 'read-token');
    writeFileSync(tokenFile, 'read-token-from-file-123\n');
    const config = load(
      `
defaults:
  interval: 30s
  history: 10m
  rules:
    table-bloat: { enabled: false }
targets:
  - name: orders-db
    urlEnv: ORDERS_URL
    interval: 15s
    history: 2m
    rules:
      idle-in-transaction:
        thresholds: { maxIdleSeconds: 120 }
  - name: local
    url: postgres://monitor@localhost/app
api:
  port: 9000
  tokens:
    - { name: grafana, scope: read, file: ${tokenFile} }
retention:
  samples: 3d
lifecycle:
  resolveAfterMisses: 5
`,
      {
        ORDERS_URL: 'postgres://app:s3cret@db/orders',
        ADVISOR_API_TOKEN: 'admin-token-0123456789',
        ADVISOR_API_HOST: '0.0.0.0',
        ADVISOR_STORE_URL: 'postgres://store:pw@s/advisor',
      },
    );
    expect(config.targets.map((t) => [t.name, t.intervalMs, t.maskedUrl])).toEqual([
      ['orders-db', 15_000, 'postgres://app:***@db/orders'],
      ['local', 30_000, 'postgres://monitor@localhost/app'],
    ]);
    expect(config.targets.map((t) => t.historyMs)).toEqual([120_000, 600_000]);
    expect(config.targets[0]!.ruleIds).not.toContain('table-bloat');
    expect(config.targets[0]!.ruleSettings).toEqual({ 'idle-in-transaction': { thresholds: { maxIdleSeconds: 120 } } });
    expect(config.api).toMatchObject({ host: '0.0.0.0', port: 9000 });
    expect(config.api.tokens.map((t) => [t.name, t.scope, t.token])).toEqual([
      ['grafana', 'read', 'read-token-from-file-123'],
      ['ADVISOR_API_TOKEN', 'admin', 'admin-token-0123456789'],
    ]);
    expect(config.retention.samplesMs).toBe(3 * 86_400_000);
    expect(config.lifecycle.resolveAfterMisses).toBe(5);
    expect(config.store.url).toBe('postgres://store:pw@s/advisor');
    expect(Object.isFrozen(config)).toBe(true);
    const described = JSON.stringify(describeDaemonConfig(config));
    for (const secret of ['s3cret', 'pw@', 'admin-token-0123456789', 'read-token-from-file-123']) expect(described).not.toContain(secret);
  });

  it('uses DATABASE_URL as the target `default` when no targets are configured', () => {
    const config = load('', { DATABASE_URL: 'postgres://localhost/app' });
    expect(config.targets.map((t) => t.name)).toEqual(['default']);
    expect(config.targets[0]!.intervalMs).toBe(60_000);
    expect(config.targets[0]!.historyMs).toBe(DEFAULT_HISTORY_MS);
    expect(load('', {}).targets).toEqual([]);
  });

  it('names the bad key and what is allowed', () => {
    expect(problemOf(() => load('targets:\n  - name: a\n    urll: x\n'))).toMatch(/targets\.0\.urll: unknown target setting; valid: name, url, urlEnv/);
    expect(problemOf(() => load('targets:\n  - name: a\n    url: postgres://h/d\n    interval: 10\n'))).toMatch(
      /targets\.0\.interval: expected a duration string such as "15s"/,
    );
    expect(problemOf(() => load('targets:\n  - name: a\n    url: postgres://h/d\n    rules: { nope: {} }\n'))).toMatch(
      /targets\.0\.rules\.nope: unknown rule; valid: /,
    );
    expect(problemOf(() => load('targets:\n  - name: a\n    url: postgres://h/d\n    rules: { table-bloat: { thresholds: { x: 1 } } }\n'))).toMatch(
      /thresholds\.x: unknown threshold of table-bloat setting/,
    );
    expect(problemOf(() => load('api: { port: 70000 }'))).toMatch(/api\.port/);
    expect(problemOf(() => load('targets:\n  - { name: a, url: postgres://h/d, history: 2h }\n'))).toMatch(/targets\.0\.history: 2h is out of range/);
    expect(problemOf(() => load('defaults: { history: soon }'))).toMatch(/defaults\.history: "soon" is not a duration/);
    expect(problemOf(() => load('targets:\n  - { name: a, url: postgres://h/d, interval: 90s }\n'))).toMatch(
      /targets\.0\.interval: sample interval 90000 ms cannot be scheduled evenly; use an interval that divides/,
    );
    expect(problemOf(() => load('{ "store": { "dir": 3 } }', {}, 'advisor.json'))).toMatch(/store\.dir/);
    expect(problemOf(() => load('targets: [', {}))).toMatch(/not valid YAML/);
  });

  it('keeps secrets out of the file and checks their sources', () => {
    expect(problemOf(() => load('targets:\n  - name: a\n    url: postgres://u:pw@h/d\n'))).toMatch(
      /contains a password; put the URL in an environment variable/,
    );
    expect(problemOf(() => load('targets:\n  - name: a\n    urlEnv: MISSING_URL\n'))).toMatch(/environment variable MISSING_URL is not set/);
    expect(problemOf(() => load('targets:\n  - name: a\n'))).toMatch(/give exactly one of url, urlEnv, urlFile/);
    expect(problemOf(() => load('targets:\n  - { name: a, url: postgres://h/d }\n  - { name: a, url: postgres://h/e }\n'))).toMatch(/duplicate target name a/);
    expect(problemOf(() => load('', { ADVISOR_API_TOKEN: 'short' }))).toMatch(/at least 16 characters/);
    expect(problemOf(() => load('targets:\n  - name: a\n    urlEnv: A_URL\n', { A_URL: 'postgres://u:pw@h/d?statement_timeout=0' }))).toMatch(
      /targets\.0: the URL sets statement_timeout, which would override the advisor's safety settings/,
    );
    // store-only resolution (migrate) ignores targets and their secrets
    const storeOnly = loadDaemonConfig({ file: 'x.yaml', text: 'targets:\n  - name: a\n    urlEnv: MISSING_URL\n', env: {}, rules: allRules, storeOnly: true });
    expect(storeOnly.targets).toEqual([]);
  });
});
