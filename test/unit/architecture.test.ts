/**
 * The import boundaries of ../shared/ARCHITECTURE.md, checked on the source: an arrow the design forbids
 * fails here with the file and the import that broke it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Import {
  readonly from: string;
  /** Repository-relative path of the imported module (relative imports only). */
  readonly to: string;
  readonly names: string;
}

/** Static `import … from`, `export … from` and dynamic `import()` of relative modules. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: Import[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\s+([^;]*?)\s+from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;
  for (const m of text.matchAll(pattern)) {
    const spec = m[2] ?? m[3]!;
    const to = relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts');
    out.push({ from: file, to, names: m[1] ?? '' });
  }
  return out;
}

const ALL = [...sourceFiles('src'), ...sourceFiles('rules')].flatMap(importsOf);
const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

const FORBIDDEN: readonly { readonly why: string; readonly from: string; readonly to: string }[] = [
  { why: 'the collector never imports rules (shared judgement lives in src/analysis)', from: 'src/collector', to: 'rules' },
  { why: 'src/analysis is pure: no rules', from: 'src/analysis', to: 'rules' },
  { why: 'src/analysis is pure: no I/O', from: 'src/analysis', to: 'src/collector' },
  { why: 'the API owns its interface (src/api/deps.ts); it never imports the daemon', from: 'src/api', to: 'src/daemon' },
  { why: 'the daemon does not import the CLI', from: 'src/daemon', to: 'src/cli' },
  { why: 'the demo does not import the CLI', from: 'src/demo', to: 'src/cli' },
  { why: 'the API does not import the CLI', from: 'src/api', to: 'src/cli' },
  { why: 'rules never do I/O: no collector', from: 'rules', to: 'src/collector' },
];

describe('architecture: import boundaries', () => {
  it('scans a real import graph', () => {
    expect(ALL.length).toBeGreaterThan(300);
    expect(ALL.some((i) => i.from === 'src/cli/check.ts' && i.to === 'src/audit/index.ts')).toBe(true);
  });

  for (const rule of FORBIDDEN) {
    it(`${rule.from} ↛ ${rule.to}: ${rule.why}`, () => {
      const broken = ALL.filter((i) => under(i.from, rule.from) && under(i.to, rule.to)).map((i) => `${i.from} imports ${i.to}`);
      expect(broken).toEqual([]);
    });
  }

  it('only the audit pipeline evaluates rules and runs enrichments (outside the engine and collector themselves)', () => {
    const evaluating = ALL.filter((i) => i.to === 'src/engine/evaluate.ts' && /\bevaluateRules\b/.test(i.names) && !under(i.from, 'src/engine'));
    expect(evaluating.map((i) => i.from)).toEqual(['src/audit/run-audit.ts']);
    const enriching = ALL.filter((i) => under(i.to, 'src/collector/enrich') && !under(i.from, 'src/collector'));
    expect(enriching.map((i) => i.from)).toEqual(['src/audit/enrichments.ts']);
  });

  it('a leaked arrow is caught (the scan sees a planted violation)', () => {
    const planted = importsOf('src/api/app.ts').concat([{ from: 'src/api/app.ts', to: 'src/daemon/daemon.ts', names: 'x' }]);
    expect(planted.filter((i) => under(i.from, 'src/api') && under(i.to, 'src/daemon'))).toHaveLength(1);
  });
});
