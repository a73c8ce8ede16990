/**
 * JUnit output parsed by a real, conforming XML parser: Python's expat (python3 is part of the Node
 * machine image; no XML parser ships in node_modules and we add no dependency for a test). A missing
 * python3 fails the test file loudly rather than skipping it.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import type { Finding } from '../../src/engine/types.js';
import { applyBaseline, buildBaseline, escapeXml, renderJunit, type Report } from '../../src/report/index.js';
import { makeFinding, makeReport } from '../support/report-fixtures.js';

interface XmlNode {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly text: string;
  readonly children: XmlNode[];
}

const PARSER = `
import json, sys
import xml.parsers.expat
root = {"children": []}
stack = [root]
def start(tag, attrs):
    node = {"tag": tag, "attrs": attrs, "text": "", "children": []}
    stack[-1]["children"].append(node)
    stack.append(node)
def end(tag):
    stack.pop()
def data(text):
    if len(stack) > 1:
        stack[-1]["text"] += text
p = xml.parsers.expat.ParserCreate("UTF-8")
p.StartElementHandler = start
p.EndElementHandler = end
p.CharacterDataHandler = data
try:
    p.Parse(sys.stdin.buffer.read(), True)
except xml.parsers.expat.ExpatError as e:
    print("XML parse error: " + str(e), file=sys.stderr)
    sys.exit(3)
json.dump(root["children"][0], sys.stdout)
`;

/** Parses with expat; throws (with expat's message) when the document is not well-formed. */
function parseXml(xml: string): XmlNode {
  try {
    return JSON.parse(execFileSync('python3', ['-c', PARSER], { input: xml, encoding: 'utf8' })) as XmlNode;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}

const EVIL = 'a&b <c> "d" \'e\' ]]> \u0001\u001f \ud800 end';

const FINDINGS: Finding[] = [
  makeFinding({ rule: 'xid-wraparound', severity: 'critical', object: { type: 'database', name: 'shop' }, fingerprint: 'fp-xid' }),
  makeFinding({ object: { type: 'table', schema: 'Sales', name: EVIL }, summary: `multi\nline ${EVIL}` }),
  makeFinding({ fingerprint: 'fp-table-2', severity: 'info', object: { type: 'table', schema: 'public', name: 'small' } }),
  makeFinding({ rule: 'idle-in-transaction', severity: 'info', object: { type: 'application', name: 'billing' }, fingerprint: 'fp-app' }),
];

/** Every rule selected: a source unavailable, vacuum-lag skipped and pool-exhaustion crashed. */
function reportOf(findings: readonly Finding[]): Report {
  return makeReport(findings, {
    target: { database: `shop ${EVIL}` },
    rulesEvaluated: allRules.map((r) => r.id).filter((id) => id !== 'vacuum-lag' && id !== 'pool-exhaustion'),
    diagnostics: [
      { source: 'bloat', status: 'unavailable', message: 'source bloat unavailable', hint: null },
      { rule: 'vacuum-lag', status: 'skipped', message: 'rule vacuum-lag skipped: source vacuum unavailable', hint: 'GRANT pg_monitor TO "advisor";' },
      { rule: 'pool-exhaustion', status: 'error', message: 'rule pool-exhaustion crashed: <boom> & more', hint: 'report it' },
    ],
  });
}

const byName = (suite: XmlNode, name: string): XmlNode => {
  const found = suite.children.find((c) => c.tag === 'testcase' && c.attrs.name === name);
  if (!found) throw new Error(`no testcase ${name}`);
  return found;
};
const child = (node: XmlNode, tag: string): XmlNode | undefined => node.children.find((c) => c.tag === tag);

describe('renderJunit', () => {
  const xml = renderJunit(reportOf(FINDINGS), allRules, 'warning');
  const root = parseXml(xml);
  const suite = root.children.find((c) => c.tag === 'testsuite')!;

  it('the parser rejects malformed XML (so a pass means something)', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/mismatched tag/);
    expect(() => parseXml('<a>&</a>')).toThrow(/not well-formed/);
    expect(() => parseXml('<a>\u0001</a>')).toThrow(/not well-formed|invalid token/);
  });

  it('is one well-formed <testsuite> with one <testcase> per selected rule, classname pg-advisor.<category>', () => {
    expect(root.tag).toBe('testsuites');
    expect(root.children.filter((c) => c.tag === 'testsuite')).toHaveLength(1);
    const cases = suite.children.filter((c) => c.tag === 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(allRules.map((r) => r.id));
    for (const [i, c] of cases.entries()) expect(c.attrs.classname).toBe(`pg-advisor.${allRules[i]!.category}`);
    expect(suite.attrs).toMatchObject({ tests: String(allRules.length), failures: '2', errors: '1', skipped: '1' });
    expect(root.attrs).toMatchObject({ tests: String(allRules.length), failures: '2', errors: '1', skipped: '1' });
  });

  it('fails a rule with findings at or above --fail-on: message = count + worst, one line per finding', () => {
    const xid = child(byName(suite, 'xid-wraparound'), 'failure')!;
    expect(xid.attrs).toMatchObject({ message: '1 finding at or above --fail-on warning (worst: critical)', type: 'critical' });
    const bloat = byName(suite, 'table-bloat');
    const failure = child(bloat, 'failure')!;
    expect(failure.attrs.message).toBe('1 finding at or above --fail-on warning (worst: warning)');
    expect(failure.text.split('\n')).toHaveLength(1);
    // Escaped and round-tripped: what the parser reads is the original text (invalid XML characters replaced).
    expect(failure.text).toContain('a&b <c> "d" \'e\' ]]> \ufffd\ufffd \ufffd end');
    expect(failure.text).toContain('multi line');
    // The info finding of the same rule is reported, not failed.
    expect(child(bloat, 'system-out')!.text).toMatch(/^\[info\] table public\.small/);
  });

  it('reports findings below --fail-on in <system-out> and passes the rule', () => {
    const idle = byName(suite, 'idle-in-transaction');
    expect(child(idle, 'failure')).toBeUndefined();
    expect(child(idle, 'system-out')!.text).toContain('fp-app');
  });

  it('marks skipped rules <skipped message> with the hint, crashed ones <error>', () => {
    expect(child(byName(suite, 'vacuum-lag'), 'skipped')!.attrs.message).toBe(
      'rule vacuum-lag skipped: source vacuum unavailable (hint: GRANT pg_monitor TO "advisor";)',
    );
    const error = child(byName(suite, 'pool-exhaustion'), 'error')!;
    expect(error.attrs.message).toBe('rule pool-exhaustion crashed: <boom> & more');
    expect(error.text).toBe('report it');
  });

  it('passes rules without findings (no child elements)', () => {
    expect(byName(suite, 'index-bloat').children).toEqual([]);
  });

  it('skips a selected rule that neither ran nor has a diagnostic, saying so', () => {
    const partial = { ...reportOf(FINDINGS), rulesEvaluated: ['table-bloat', 'xid-wraparound', 'idle-in-transaction'] };
    const s = parseXml(renderJunit(partial, allRules, 'warning')).children[0]!;
    expect(child(byName(s, 'index-bloat'), 'skipped')!.attrs.message).toBe('rule index-bloat was not evaluated');
  });

  it('carries the target and --fail-on as properties, escaped', () => {
    const props = Object.fromEntries(child(suite, 'properties')!.children.map((p) => [p.attrs.name, p.attrs.value]));
    expect(props).toMatchObject({ database: `shop a&b <c> "d" 'e' ]]> \ufffd\ufffd \ufffd end`, failOn: 'warning' });
  });

  it('follows --fail-on: critical fails only the critical rule, never fails nothing', () => {
    const critical = parseXml(renderJunit(reportOf(FINDINGS), allRules, 'critical'));
    expect(critical.attrs.failures).toBe('1');
    const never = parseXml(renderJunit(reportOf(FINDINGS), allRules, 'never'));
    expect(never.attrs.failures).toBe('0');
    expect(never.attrs.errors).toBe('1'); // a crashed rule is an error whatever --fail-on says
  });

  it('does not fail on baselined findings, but does on escalated ones', () => {
    const baseline = buildBaseline(reportOf([FINDINGS[1]!, { ...FINDINGS[0]!, severity: 'warning' }]), 'then');
    const applied = applyBaseline(reportOf(FINDINGS), baseline, 'b.json');
    const doc = parseXml(renderJunit(applied, allRules, 'warning'));
    const s = doc.children[0]!;
    expect(child(byName(s, 'table-bloat'), 'failure')).toBeUndefined();
    expect(child(byName(s, 'table-bloat'), 'system-out')!.text).toContain('[warning] [baselined]');
    expect(child(byName(s, 'xid-wraparound'), 'failure')!.text).toContain('[critical] [escalated]');
  });

  it('escapeXml keeps valid surrogate pairs and drops characters XML 1.0 cannot carry', () => {
    expect(escapeXml('😀 \ud83d')).toBe('😀 \ufffd');
    expect(escapeXml('\u0000\t\n\r')).toBe('\ufffd\t\n\r');
  });
});
