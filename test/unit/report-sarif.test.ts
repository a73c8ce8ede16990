/**
 * SARIF output validated against the SARIF 2.1.0 JSON schema (test/fixtures/sarif: the schema shipped
 * in Microsoft's SARIF Multitool npm package, see its README), plus the extra requirements GitHub code
 * scanning puts on uploads (a location per result, rule metadata, fingerprints).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import type { Finding } from '../../src/engine/types.js';
import { applyBaseline, buildBaseline, buildSarif, renderSarif, type Report } from '../../src/report/index.js';
import { makeFinding, makeReport } from '../support/report-fixtures.js';

const schema = JSON.parse(readFileSync(new URL('../fixtures/sarif/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as Record<string, unknown>;
// strictRequired is off only because the official schema lists `required` properties inside anyOf branches.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
ajvFormats.default(ajv);
const validateSarif = ajv.compile(schema);

function expectValid(log: unknown): void {
  const ok = validateSarif(log);
  expect(ok ? [] : validateSarif.errors?.map((e) => `${e.instancePath} ${e.message ?? ''}`)).toEqual([]);
}

const FINDINGS: Finding[] = [
  makeFinding({
    rule: 'xid-wraparound',
    severity: 'critical',
    object: { type: 'database', name: 'Shop DB' },
    fingerprint: 'fp-xid',
    summary: 'XID age near the stop limit.',
  }),
  makeFinding({ object: { type: 'table', schema: 'Sales', name: 'Weird "Table" ü|`x`' } }),
  makeFinding({
    rule: 'idle-in-transaction',
    severity: 'info',
    object: { type: 'application', name: "o'neil <app>" },
    fingerprint: 'fp-app',
    recommendation: { text: 'commit' },
  }),
];

/** Every rule selected; vacuum-lag skipped and pool-exhaustion crashed, so neither was evaluated. */
function reportOf(findings: readonly Finding[]): Report {
  return makeReport(findings, {
    target: { database: 'Shop DB' },
    rulesEvaluated: allRules.filter((r) => r.id !== 'vacuum-lag' && r.id !== 'pool-exhaustion').map((r) => r.id),
    diagnostics: [
      { rule: 'vacuum-lag', status: 'skipped', message: 'rule vacuum-lag skipped: source vacuum unavailable', hint: 'GRANT pg_monitor TO advisor;' },
      { rule: 'pool-exhaustion', status: 'error', message: 'rule pool-exhaustion crashed: boom', hint: 'report it' },
    ],
  });
}

const report = reportOf(FINDINGS);

describe('renderSarif', () => {
  const text = renderSarif(report, allRules);
  const log = JSON.parse(text) as ReturnType<typeof buildSarif>;
  const run = log.runs[0];

  it('validates against the SARIF 2.1.0 schema', () => {
    expectValid(log);
  });

  it('the schema check can fail (a result without a message, a bad level, an unknown property)', () => {
    const broken = JSON.parse(text) as { runs: { results: Record<string, unknown>[] }[] };
    delete broken.runs[0]!.results[0]!.message;
    expect(validateSarif(broken)).toBe(false);
    const badLevel = JSON.parse(text) as { runs: { results: Record<string, unknown>[] }[] };
    badLevel.runs[0]!.results[0]!.level = 'critical';
    expect(validateSarif(badLevel)).toBe(false);
    expect(validateSarif({ ...log, extra: true })).toBe(false);
  });

  it('validates with no findings, and with a baseline applied', () => {
    expectValid(buildSarif(reportOf([]), allRules));
    const baselined = applyBaseline(report, buildBaseline(reportOf([FINDINGS[1]!, { ...FINDINGS[0]!, severity: 'warning' }]), 'then'), 'b.json');
    const sarif = buildSarif(baselined, allRules);
    expectValid(sarif);
    expect(sarif.runs[0].results.map((r) => [r.ruleId, r.baselineState])).toEqual([
      ['xid-wraparound', 'updated'],
      ['table-bloat', 'unchanged'],
      ['idle-in-transaction', 'new'],
    ]);
  });

  it('has one run with the tool driver: name, version, informationUri and every selected rule with help', () => {
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    expect(log.runs).toHaveLength(1);
    const driver = run.tool.driver;
    expect(driver).toMatchObject({ name: 'pg-advisor', version: '0.1.0', informationUri: expect.stringMatching(/^https:\/\//) });
    // Skipped and crashed rules are described too: a clean result list never hides them.
    expect(driver.rules.map((r) => r.id)).toEqual(allRules.map((r) => r.id));
    for (const [i, rule] of driver.rules.entries()) {
      const source = allRules[i]!;
      expect(rule.shortDescription.text).toBe(source.title);
      expect(rule.fullDescription.text).toBe(source.docs.summary);
      expect(rule.help.text).toContain(source.docs.why);
      expect(rule.help.markdown).toContain(source.docs.fix);
      expect(rule.help.markdown).toContain('### False positives');
      expect(rule.name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
      expect(rule.defaultConfiguration.level).toBe({ critical: 'error', warning: 'warning', info: 'note' }[source.defaultSeverity]);
    }
  });

  it('has one result per finding with ruleId/ruleIndex, level, message, a location and the stable fingerprint', () => {
    expect(run.results).toHaveLength(FINDINGS.length);
    expect(run.results.map((r) => r.level)).toEqual(['error', 'warning', 'note']);
    for (const [i, result] of run.results.entries()) {
      const f = FINDINGS[i]!;
      expect(result.ruleId).toBe(f.rule);
      expect(run.tool.driver.rules[result.ruleIndex]!.id).toBe(f.rule);
      expect(result.message.text).toContain(f.summary);
      expect(result.partialFingerprints).toEqual({ 'pgAdvisorFingerprint/v1': f.fingerprint });
      // GitHub code scanning drops results without a physical location with a non-empty artifact URI.
      expect(result.locations).toHaveLength(1);
      expect(result.locations[0]).toMatchObject({
        physicalLocation: { artifactLocation: { uri: 'postgresql/Shop%20DB' }, region: { startLine: 1 } },
      });
    }
    expect(run.results[1]!.locations[0]).toMatchObject({
      logicalLocations: [{ name: 'Weird "Table" ü|`x`', fullyQualifiedName: 'Shop DB/Sales.Weird "Table" ü|`x`', kind: 'table' }],
    });
  });

  it('keeps the fingerprint when the numbers change (same object, new evidence)', () => {
    const later = reportOf([{ ...FINDINGS[1]!, evidence: { wasteBytes: 1 }, summary: 'other words', severity: 'critical' }]);
    expect(buildSarif(later, allRules).runs[0].results[0]!.partialFingerprints).toEqual(run.results[1]!.partialFingerprints);
  });

  it('points results at --sarif-artifact when given', () => {
    const custom = buildSarif(report, allRules, { artifactUri: 'db/schema.sql' });
    expectValid(custom);
    expect(custom.runs[0].results.every((r) => JSON.stringify(r.locations).includes('"uri":"db/schema.sql"'))).toBe(true);
  });

  it('writes --sarif-artifact as a relative URI reference (separators, ./, spaces, unicode)', () => {
    const custom = buildSarif(report, allRules, { artifactUri: '.\\db\\my schema ü.sql' });
    expectValid(custom);
    expect(custom.runs[0].results[0]!.locations[0]).toMatchObject({ physicalLocation: { artifactLocation: { uri: 'db/my%20schema%20%C3%BC.sql' } } });
  });

  it('reports skipped and crashed rules as tool notifications and a failed execution', () => {
    expect(run.invocations[0]).toMatchObject({
      executionSuccessful: false,
      toolExecutionNotifications: [
        { level: 'warning', associatedRule: { id: 'vacuum-lag' }, message: { text: expect.stringContaining('GRANT pg_monitor') } },
        { level: 'error', associatedRule: { id: 'pool-exhaustion' } },
      ],
    });
  });

  it('describes a finding whose rule was not passed in, so ruleIndex stays valid', () => {
    const sarif = buildSarif(reportOf([makeFinding({ rule: 'made-up-rule', fingerprint: 'x' })]), []);
    expectValid(sarif);
    expect(sarif.runs[0].tool.driver.rules.map((r) => r.id)).toEqual(['made-up-rule']);
    expect(sarif.runs[0].results[0]!.ruleIndex).toBe(0);
  });
});
