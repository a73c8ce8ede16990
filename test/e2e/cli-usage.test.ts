import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { runCli } from './run-cli.js';

// Usage errors are detected before any connection: this URL is never dialled.
const URL_FLAG = ['--database-url', 'postgres://nobody:secret-pw-123@127.0.0.1:1/none'];
const RULE_IDS = allRules.map((r) => r.id);
const dir = mkdtempSync(join(tmpdir(), 'pg-advisor-e2e-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('pg-advisor --help / --version', () => {
  it('prints help with examples and exit codes, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: pg-advisor/);
    expect(r.stdout).toContain('npx pg-advisor demo');
    expect(r.stdout).toMatch(/Exit codes:/);
    const check = await runCli(['check', '--help']);
    expect(check.code).toBe(0);
    for (const flag of ['--database-url', '--format', '--window', '--fail-on', '--rules', '--config', '--statement-timeout']) {
      expect(check.stdout).toContain(flag);
    }
  });

  it('prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rejects an unknown command with exit 2 and a hint', async () => {
    const r = await runCli(['chek']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'chek'/);
    expect(r.stderr).toContain('hint:');
  });
});

describe('check: malformed flags exit 2 and say what is valid', () => {
  it.each([['10x'], ['10'], ['2h'], ['-1s']])('--window %s', async (value) => {
    const r = await runCli(['check', ...URL_FLAG, '--window', value]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^pg-advisor: --window: /);
    expect(r.stderr).toMatch(/(ms, s or m \(e\.g\. 500ms, 10s, 2m\)|out of range).*between 1s and 10m/);
    expect(r.stderr).toContain('hint: for example --window 10s');
  });

  it('--window above the maximum', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--window', '11m']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--window: 11m is out of range; use a duration between 1s and 10m');
  });

  it('--fail-on', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--fail-on', 'error']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 'error' is invalid. Allowed choices are critical, warning, info, never.");
    expect(r.stderr).toContain('hint: run `pg-advisor check --help`');
  });

  it('--format', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--format', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Allowed choices are text, json, markdown, sarif, junit.');
  });

  it('--rules with an unknown id names it and lists the valid ones', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--rules', `${RULE_IDS[0]},tabel-bloat`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--rules: unknown rule "tabel-bloat"; valid: ${RULE_IDS.join(', ')}`);
    expect(r.stderr).toContain('hint: pg-advisor rules lists every rule');
  });

  it('--statement-timeout', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--statement-timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--statement-timeout: "soon" is not a duration/);
  });

  it('no database anywhere', async () => {
    const r = await runCli(['check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pg-advisor: no database to check');
    expect(r.stderr).toMatch(/hint: pass --database-url .* DATABASE_URL/);
  });

  it('never prints the password of the URL it was given', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--window', 'bad']);
    expect(r.stderr + r.stdout).not.toContain('secret-pw-123');
  });
});

describe('check --config: bad files exit 2 with the path of the bad key and what is valid', () => {
  const [first] = allRules;
  const thresholdKeys = Object.keys(first!.thresholds);

  it('bad YAML', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--config', configFile('bad.yaml', 'rules:\n  x: [\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config file .*bad\.yaml is not valid YAML \(line \d+, column \d+\)/);
    expect(r.stderr).toContain('hint: see docs/config.md');
  });

  it('bad JSON', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--config', configFile('bad.json', '{"window": "10s",}')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config file .*bad\.json is not valid JSON/);
  });

  it('unknown top-level key, rule id and threshold key', async () => {
    const text = `windw: 10s\nrules:\n  tabel-bloat: {}\n  ${first!.id}:\n    thresholds:\n      ${thresholdKeys[0]}X: 1\n`;
    const r = await runCli(['check', ...URL_FLAG, '--config', configFile('unknown.yaml', text)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('windw: unknown setting; valid: databaseUrl, statementTimeout, connectTimeout, window, failOn, rules');
    expect(r.stderr).toContain(`rules.tabel-bloat: unknown rule; valid: ${RULE_IDS.join(', ')}`);
    expect(r.stderr).toContain(`rules.${first!.id}.thresholds.${thresholdKeys[0]}X: unknown threshold; valid: ${thresholdKeys.join(', ')}`);
  });

  it('wrong types', async () => {
    const text = `window: 10\nfailOn: loud\nrules:\n  ${first!.id}:\n    enabled: "no"\n    thresholds:\n      ${thresholdKeys[0]}: lots\n`;
    const r = await runCli(['check', ...URL_FLAG, '--config', configFile('types.yaml', text)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('window: expected a duration string such as "500ms", "10s" or "2m"');
    expect(r.stderr).toContain('failOn: expected one of critical, warning, info, never');
    expect(r.stderr).toContain(`rules.${first!.id}.enabled: expected true or false`);
    expect(r.stderr).toContain(`rules.${first!.id}.thresholds.${thresholdKeys[0]}: expected a number`);
  });

  it('a missing file', async () => {
    const r = await runCli(['check', ...URL_FLAG, '--config', join(dir, 'missing.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read config file .*missing\.yaml \(ENOENT\)/);
  });
});

describe('rules', () => {
  it('lists every registered rule with thresholds and docs as JSON', async () => {
    const r = await runCli(['rules', '--format', 'json']);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as {
      version: number;
      rules: { id: string; thresholds: { key: string; default: number }[]; docs: { summary: string } }[];
    };
    expect(parsed.version).toBe(1);
    expect(parsed.rules.map((x) => x.id)).toEqual(RULE_IDS);
    for (const rule of parsed.rules) {
      expect(rule.docs.summary.length).toBeGreaterThan(10);
      const source = allRules.find((x) => x.id === rule.id)!;
      expect(rule.thresholds.map((t) => t.key)).toEqual(Object.keys(source.thresholds));
    }
  });

  it('prints the full documentation of one rule, and exits 2 for an unknown id', async () => {
    const [first] = allRules;
    const r = await runCli(['rules', first!.id]);
    expect(r.code).toBe(0);
    for (const section of ['What it detects', 'Why it matters', 'How to fix it', 'False positives', 'Thresholds']) expect(r.stdout).toContain(section);
    const bad = await runCli(['rules', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`unknown rule "nope"; valid: ${RULE_IDS.join(', ')}`);
  });
});
