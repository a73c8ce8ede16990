/** Judgements of the missing-index rule beyond candidate search: hypopg verdicts and write costs. Pure. */
import { analyzeStatement, buildAnalysisContext } from '../../src/sql/index.js';
import type { IndexVerification, Snapshot } from '../../src/snapshot/types.js';
import type { Window } from '../../src/snapshot/window-types.js';
import type { IndexSuggestion } from '../../src/analysis/query-index-candidates.js';

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => b[i] === c);
}

/** Dexter's bar for a second column: the one-column plan still costs more than this (planner units). */
const SECOND_COLUMN_MIN_COST = 100;

/**
 * The verified outcome of a suggestion: null when nothing was verified (heuristic path), 'rejected' when
 * the planner would not use the index or it barely helps, else the smallest verified index that achieves
 * the benefit (a verified one-column prefix wins unless it still costs > 100 and the pair halves that).
 */
export function judgeVerification(
  s: IndexSuggestion,
  all: readonly IndexVerification[],
  minReduction: number,
): { columns: readonly string[]; best: IndexVerification } | 'rejected' | null {
  const verifiedFor = (columns: readonly string[]) =>
    all.filter(
      (v) => v.status === 'verified' && v.costBefore !== null && v.costAfter !== null && v.schema === s.schema && v.table === s.table &&
        sameColumns(v.columns, columns) && s.statements.some((st) => st.queryId === v.queryId),
    );
  const helps = (v: IndexVerification): boolean => v.usesIndex && v.costAfter! <= (1 - minReduction) * v.costBefore!;
  const bestOf = (vs: IndexVerification[]) => vs.filter(helps).sort((a, b) => b.costBefore! - b.costAfter! - (a.costBefore! - a.costAfter!))[0];
  const full = verifiedFor(s.columns);
  const fullBest = bestOf(full);
  const prefix = s.columns.length > 1 ? verifiedFor(s.columns.slice(0, 1)) : [];
  const prefixBest = bestOf(prefix);
  if (prefixBest) {
    const pairBeatsIt = fullBest && prefixBest.costAfter! > SECOND_COLUMN_MIN_COST && fullBest.costAfter! <= 0.5 * prefixBest.costAfter!;
    if (!pairBeatsIt) return { columns: s.columns.slice(0, 1), best: prefixBest };
  }
  if (fullBest) return { columns: s.columns, best: fullBest };
  return full.length + prefix.length > 0 ? 'rejected' : null;
}

/** Row writes that would maintain the index (inserts + non-HOT updates), on the suggestion's basis. */
export function writesOf(snapshot: Snapshot, window: Window | null, s: IndexSuggestion): number {
  if (s.basis === 'window' && window) {
    const d = window.tables.find((x) => x.oid === s.tableOid);
    return d ? Math.max(0, d.writes - d.hotUpdates) : 0;
  }
  const t = snapshot.tables.find((x) => x.oid === s.tableOid);
  return t ? Math.max(0, t.nTupIns + t.nTupUpd - t.nTupHotUpd) : 0;
}

/** The table's updates are mostly HOT and some UPDATE statement sets one of the suggested columns. */
export function updatesColumnHot(snapshot: Snapshot, s: IndexSuggestion, minHotRatio: number): boolean {
  const table = snapshot.tables.find((x) => x.oid === s.tableOid);
  if (!table || table.nTupUpd <= 0 || table.nTupHotUpd / table.nTupUpd < minHotRatio) return false;
  const ctx = buildAnalysisContext(snapshot);
  return snapshot.statements.some((st) => {
    if (st.query === null || !/^\s*(\/\*[\s\S]*?\*\/\s*)*update\b/i.test(st.query)) return false;
    const a = analyzeStatement(st.query, ctx, { queryId: st.queryId });
    return a.analysable && a.kind === 'update' && a.tables[a.mainTables[0] ?? -1]?.oid === s.tableOid && a.writtenColumns.some((c) => s.columns.includes(c));
  });
}
