/**
 * Rule docs name their thresholds instead of restating the defaults: `{minCalls}` in a docs string
 * becomes the default of the rule's `minCalls`, in the unit its key carries, so prose cannot drift from
 * the code. `{key:%}` forces a percentage (for 0–1 `Ratio` keys). Pure.
 */
import { formatBytes, formatDuration } from '../format/units.js';
import type { RuleDocs, ThresholdSpecs } from './types.js';

const PLACEHOLDER = /\{([a-zA-Z][a-zA-Z0-9]*)(?::(%|raw))?\}/g;

const count = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en-US') : String(n));
const percent = (fraction: number): string => `${Number((fraction * 100).toFixed(2))} %`;

/** A threshold's default as prose: 8388608 Bytes → "8.0 MiB", 0.01 Share → "1 %", 3600 Seconds → "60 min". */
export function formatThresholdDefault(key: string, value: number, style?: '%' | 'raw'): string {
  if (style === 'raw') return String(value);
  if (style === '%' || /(Fraction|Share|Percent)$/.test(key)) return percent(value);
  if (/Bytes$/.test(key)) return formatBytes(value).replace(/\.0 /, ' ');
  if (/Seconds$/.test(key)) return formatDuration(value);
  if (/Ms$/.test(key)) return `${count(value)} ms`;
  return count(value);
}

/** Replaces every placeholder; throws on a key the rule does not have (caught by the parity test). */
export function interpolateDocs(docs: RuleDocs, thresholds: ThresholdSpecs, ruleId: string): RuleDocs {
  const fill = (text: string): string =>
    text.replace(PLACEHOLDER, (_, key: string, style: '%' | 'raw' | undefined) => {
      const spec = thresholds[key];
      if (!spec) throw new Error(`rule ${ruleId}: docs name {${key}}, which is not one of its thresholds`);
      return formatThresholdDefault(key, spec.default, style);
    });
  return { summary: fill(docs.summary), why: fill(docs.why), fix: fill(docs.fix), falsePositives: fill(docs.falsePositives) };
}
