/** How a missing-index finding explains itself: the index SQL, why each column, what was compared. Pure. */
import type { EvidenceValue } from '../../src/engine/types.js';
import { quoteIdent, quoteQualified } from '../../src/sql/index.js';
import type { IndexSuggestion } from '../../src/analysis/query-index-candidates.js';
import { roundRatio } from '../_lib/format.js';
import type { Verdict } from './judgement.js';

/** CREATE INDEX CONCURRENTLY for the suggestion with the given key columns (operator classes follow the column). */
export function indexSql(s: IndexSuggestion, columns: readonly string[]): string {
  const keys = columns.map((c) => {
    const opclass = s.opclasses[s.columns.indexOf(c)] ?? null;
    return opclass ? `${quoteIdent(c)} ${opclass}` : quoteIdent(c);
  });
  const using = s.method === 'btree' ? '' : ` USING ${s.method}`;
  return `CREATE INDEX CONCURRENTLY ON ${quoteQualified(s.schema, s.table)}${using} (${keys.join(', ')})${s.predicate ? ` WHERE ${s.predicate}` : ''}`;
}

/** Per chosen column: its role (equality, range, sort, null-test, pattern, join) and the fraction of rows it keeps. */
export function columnChoiceEvidence(s: IndexSuggestion, columns: readonly string[]): Record<string, EvidenceValue> {
  const out: Record<string, EvidenceValue> = {};
  for (const c of columns) {
    const reason = s.reasons.find((r) => r.column === c);
    out[c] = {
      role: reason?.role ?? 'equality',
      selectivity: reason?.selectivity === null || reason?.selectivity === undefined ? null : roundRatio(reason.selectivity),
    };
  }
  return out;
}

/** The alternatives: with hypopg their generic-plan costs, else the column lists that were considered. */
export function alternativesEvidence(s: IndexSuggestion, verdict: Verdict | null): string[] {
  if (verdict) {
    return verdict.compared
      .filter((x) => !x.columns.every((c, i) => verdict.columns[i] === c) || x.columns.length !== verdict.columns.length)
      .map((x) => `(${x.columns.join(', ')}): cost ${roundRatio(x.costBefore)} → ${roundRatio(x.costAfter)}${x.helps ? '' : ' (not enough)'}`);
  }
  return s.alternatives.map((cols) => `(${cols.join(', ')})`);
}

/** One sentence on why these columns, for the recommendation text. */
export function choiceSentence(s: IndexSuggestion, columns: readonly string[], verdict: Verdict | null): string {
  const parts = columns.map((c) => {
    const r = s.reasons.find((x) => x.column === c);
    const sel = r?.selectivity === null || r?.selectivity === undefined ? '' : ` keeping ~${+(r.selectivity * 100).toPrecision(2)} % of rows`;
    return `${c} (${r?.role ?? 'equality'}${sel})`;
  });
  const rejected = Object.entries(s.rejected).map(([c, why]) => `${c} left out: ${why}`);
  const compared = verdict && verdict.compared.length > 1 ? `hypopg compared ${verdict.compared.length} candidate indexes and this one saves the most.` : '';
  return [`Columns: ${parts.join(', ')}${s.predicate ? `, partial on ${s.predicate}` : ''}.`, rejected.join('; '), compared].filter(Boolean).join(' ');
}
