import { describe, expect, it } from 'vitest';
import { allRules } from '../../rules/index.js';
import { loadDaemonConfig } from '../../src/config/daemon/index.js';
import { parseConfigText } from '../../src/config/index.js';
import { MAX_YAML_ALIASES } from '../../src/config/load.js';
import { UsageError } from '../../src/errors/errors.js';

/** "Billion laughs": each level repeats the previous one 9 times; 9 levels expand to 387 million strings. */
const BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...Array.from({ length: 8 }, (_, i) => {
    const prev = String.fromCharCode(97 + i);
    const name = String.fromCharCode(98 + i);
    return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`;
  }),
  'window: *i',
].join('\n');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('YAML config limits', () => {
  it('refuses an alias bomb in the check config as a usage error (exit 2), quickly', () => {
    const started = Date.now();
    const error = thrown(() => parseConfigText(BOMB, 'bomb.yaml', allRules));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toContain('bomb.yaml');
    expect((error as UsageError).hint).toContain(String(MAX_YAML_ALIASES));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses an alias bomb in the daemon config as a usage error', () => {
    const error = thrown(() => loadDaemonConfig({ file: 'daemon.yaml', text: BOMB, env: {}, rules: allRules }));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain('daemon.yaml');
  });

  it('still accepts a few aliases for shared settings', () => {
    const text = 'rules:\n  table-bloat:\n    thresholds: { minTableBytes: 1000 }\n  index-bloat:\n    thresholds: { minIndexBytes: *n }\n';
    const ok = parseConfigText(text.replace('1000 }', '&n 1000 }'), 'ok.yaml', allRules);
    expect(ok).toMatchObject({ rules: { 'table-bloat': { thresholds: { minTableBytes: 1000 } }, 'index-bloat': { thresholds: { minIndexBytes: 1000 } } } });
  });
});
