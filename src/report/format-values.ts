/**
 * Human formatting of evidence for the terminal. Evidence keys carry their unit (`wasteBytes`,
 * `xactAgeSeconds`, `bloatRatio`); the unit picks the format and is dropped from the label.
 */
import type { EvidenceValue, FindingObject } from '../engine/types.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../sql/quote.js';
import { formatBytes, formatDuration } from '../format/units.js';
export { formatBytes, formatDuration };

export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 1 ? 2 : 4;
  return Number(n.toFixed(digits)).toLocaleString('en-US', { maximumFractionDigits: digits });
}

interface UnitRule {
  readonly suffix: RegExp;
  readonly format: (n: number) => string;
}

const UNIT_RULES: readonly UnitRule[] = [
  { suffix: /Bytes$/, format: formatBytes },
  { suffix: /Seconds$/, format: formatDuration },
  { suffix: /Ms$/, format: (n) => `${formatNumber(n)} ms` },
  // A ratio is a fraction (0–1, shown as a percentage) or, above 1, a multiple (shown as 3.5×).
  {
    suffix: /(Ratio|Share|Fraction)$|^(ratio|share|fraction)$/,
    format: (n) => (n > 1 ? `${formatNumber(n)}×` : `${formatNumber(Math.round(n * 1000) / 10)} %`),
  },
  { suffix: /(Percent|Pct)$/, format: (n) => `${formatNumber(n)} %` },
  { suffix: /PerSecond$/, format: (n) => `${formatNumber(n)}/s` },
];

/** `lastVacuumAgeSeconds` → "last vacuum age"; `wasteBytes` → "waste"; `ratio` → "ratio". */
export function labelOf(key: string): string {
  const stripped = key.replace(/(Bytes|Seconds|Ms|Percent|Pct|PerSecond)$/, '') || key;
  const spaced = stripped.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return /PerSecond$/.test(key) ? `${spaced} rate` : spaced;
}

/** Formats one evidence value by its key's unit; null when there is nothing worth printing. */
export function formatEvidenceValue(key: string, value: EvidenceValue): string | null {
  if (value === null) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    const rule = UNIT_RULES.find((r) => r.suffix.test(key));
    return rule ? rule.format(value) : formatNumber(value);
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (Array.isArray(value)) return value.length > 0 ? value.map(String).join(', ') : null;
  return null; // nested objects stay in the JSON report
}

/** How a finding's object reads in a terminal, identifiers quoted as SQL would need them. */
export function formatObject(object: FindingObject): string {
  const qualified = (name: string): string => (object.schema ? quoteQualified(object.schema, name) : quoteIdent(name));
  const columns = object.columns && object.columns.length > 0 ? ` (${object.columns.map(quoteIdent).join(', ')})` : '';
  switch (object.type) {
    case 'table':
      return `table ${qualified(object.name ?? '?')}${columns}`;
    case 'index':
      return `index ${qualified(object.name ?? '?')}${object.table ? ` on ${qualified(object.table)}` : ''}${columns}`;
    case 'query':
      // A query id says nothing to a reader; the label says what the statement does (the id stays in the JSON).
      return object.label ?? `query ${object.queryId ?? object.name ?? '?'}`;
    case 'database':
      return `database ${quoteIdent(object.name ?? '?')}`;
    case 'role':
      return `role ${quoteIdent(object.name ?? '?')}`;
    case 'application':
      return `application ${quoteLiteral(object.name ?? '')}`;
    case 'setting':
      return `setting ${object.name ?? '?'}`;
    case 'sequence':
      return `sequence ${qualified(object.name ?? '?')}`;
    case 'replication-slot':
      return `replication slot ${quoteLiteral(object.name ?? '')}`;
    default:
      return `${String(object.type)} ${object.name ?? ''}`.trim();
  }
}
