/**
 * Docs prose stays readable in a terminal and in diffs: lines of the README and docs/ are at most
 * MAX_PROSE_LINE characters, except inside fenced code blocks (examples are shown as the tool prints
 * them) and Markdown table rows (which cannot wrap).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_PROSE_LINE = 120;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

export function longProseLines(text: string, max = MAX_PROSE_LINE): string[] {
  let fenced = false;
  const out: string[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced && !/^\s*\|/.test(line) && [...line].length > max) out.push(`${i + 1}: ${line.slice(0, 60)}…`);
  }
  return out;
}

describe('docs line length', () => {
  it('flags a long prose line but not a long code line or table row', () => {
    const long = 'x'.repeat(MAX_PROSE_LINE + 1);
    expect(longProseLines(`${long}\n\`\`\`\n${long}\n\`\`\`\n| ${long} |`)).toHaveLength(1);
  });

  for (const file of [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))]) {
    it(`${relative(ROOT, file)}: prose lines ≤ ${MAX_PROSE_LINE} characters`, () => {
      expect(longProseLines(readFileSync(file, 'utf8'))).toEqual([]);
    });
  }
});
