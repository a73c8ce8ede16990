/**
 * Parity: every rule module is registered, named after its id, tested and documented, and its docs page
 * is exactly what scripts/gen-rule-docs.ts produces (run `npx tsx scripts/gen-rule-docs.ts` to update).
 */
import { formatThresholdDefault } from '../../src/engine/docs-template.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyRule } from '../../src/engine/types.js';
import { allRules } from '../../rules/index.js';
import { DOCS_DIR, renderRuleDoc, renderRuleIndex } from '../../scripts/gen-rule-docs.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** A rule is rules/<id>.ts, or rules/<id>/index.ts when it has private helpers (`_lib` is shared code). */
const RULE_FILES = readdirSync(join(ROOT, 'rules'), { withFileTypes: true })
  .flatMap((e) => {
    if (e.isFile() && e.name.endsWith('.ts') && e.name !== 'index.ts') return [basename(e.name, '.ts')];
    if (e.isDirectory() && !e.name.startsWith('_') && existsSync(join(ROOT, 'rules', e.name, 'index.ts'))) return [e.name];
    return [];
  })
  .sort();
const ruleModulePath = (id: string): string =>
  existsSync(join(ROOT, 'rules', `${id}.ts`)) ? join(ROOT, 'rules', `${id}.ts`) : join(ROOT, 'rules', id, 'index.ts');
/** A threshold key names its unit: bytes, seconds, a ratio or fraction, or a count of something. */
const UNIT_SUFFIX = /(Bytes|Seconds|Ms|Ratio|Fraction|Share|Percent|Tuples|Xids|Age|Connections|Samples|Count|Calls|Rows|Blocks)$/;

async function loadModule(id: string): Promise<AnyRule> {
  const mod = (await import(ruleModulePath(id))) as { default?: AnyRule };
  if (!mod.default) throw new Error(`${ruleModulePath(id)} has no default export`);
  return mod.default;
}

describe('rule parity', () => {
  it('registers every rule file exactly once, in rules/index.ts', () => {
    expect(RULE_FILES.length).toBeGreaterThan(0);
    expect(allRules.map((r) => r.id).sort()).toEqual(RULE_FILES);
  });

  it('has no two rules sharing an id', () => {
    const ids = allRules.map((r) => r.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('has a generated docs index', () => {
    const path = join(DOCS_DIR, 'README.md');
    expect(existsSync(path), 'docs/rules/README.md (run npx tsx scripts/gen-rule-docs.ts)').toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(renderRuleIndex(allRules));
  });

  for (const id of RULE_FILES) {
    describe(id, () => {
      it('default-exports the registered rule whose id equals the file name', async () => {
        const rule = await loadModule(id);
        expect(rule.id).toBe(id);
        expect(allRules).toContain(rule);
      });

      it('has a rule test file', () => {
        expect(existsSync(join(ROOT, 'test', 'rules', `${id}.test.ts`)), `test/rules/${id}.test.ts`).toBe(true);
      });

      it('has all four docs sections and a docs page equal to the generator output', async () => {
        const rule = await loadModule(id);
        for (const section of ['summary', 'why', 'fix', 'falsePositives'] as const) {
          expect(rule.docs[section].trim().length, `docs.${section}`).toBeGreaterThan(20);
        }
        const path = join(DOCS_DIR, `${id}.md`);
        expect(existsSync(path), `docs/rules/${id}.md (run npx tsx scripts/gen-rule-docs.ts)`).toBe(true);
        expect(readFileSync(path, 'utf8'), 'docs page is stale: run npx tsx scripts/gen-rule-docs.ts').toBe(renderRuleDoc(rule));
      });

      it('names its thresholds in its docs instead of restating their defaults', async () => {
        const rule = await loadModule(id);
        const template = Object.values(rule.docsTemplate ?? rule.docs).join('\n');
        for (const [key, spec] of Object.entries(rule.thresholds)) {
          const shown = formatThresholdDefault(key, spec.default);
          // A default written out in prose drifts when the code changes; `{key}` is filled in by defineRule.
          const restated = new RegExp(`(^|[^0-9.,])${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9])`);
          if (shown.length >= 3) expect(template, `${key}: write {${key}} instead of ${shown}`).not.toMatch(restated);
        }
      });

      it('describes every threshold and names its unit in the key', async () => {
        const rule = await loadModule(id);
        for (const [key, spec] of Object.entries(rule.thresholds)) {
          expect(key, 'threshold key with a unit suffix').toMatch(UNIT_SUFFIX);
          expect(spec.description.trim().length, `${key} description`).toBeGreaterThan(10);
          expect(Number.isFinite(spec.default), `${key} default`).toBe(true);
        }
      });
    });
  }
});
