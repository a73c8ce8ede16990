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

/** A hypopg check that planned both with and without the index. */
export type CostedVerification = IndexVerification & { readonly costBefore: number; readonly costAfter: number };

function hasCosts(v: IndexVerification): v is CostedVerification {
  return v.costBefore !== null && v.costAfter !== null;
}

/** One verified key-column list: its best check (the largest saving) and whether it cleared the bar. */
export interface ComparedIndex {
  readonly columns: readonly string[];
  readonly costBefore: number;
  readonly costAfter: number;
  readonly helps: boolean;
}

export interface Verdict {
  readonly columns: readonly string[];
  readonly best: CostedVerification;
  /** Every key-column list hypopg planned for the suggestion's statements. */
  readonly compared: readonly ComparedIndex[];
  /** Statements some verified index helps. */
  readonly helpedQueryIds: ReadonlySet<string>;
}

/**
 * The verified outcome of a suggestion: null when nothing was verified (heuristic path), 'rejected' when no
 * compared index is used by the planner and cuts the cost enough, else the index with the largest saving —
 * unless a verified shorter prefix of it achieves the benefit (Dexter: the longer index must still matter,
 * i.e. the prefix costs > 100 and the longer one halves that).
 */
export function judgeVerification(s: IndexSuggestion, all: readonly IndexVerification[], minReduction: number): Verdict | 'rejected' | null {
  const mine = all
    .filter(hasCosts)
    .filter((v) => v.status === 'verified' && v.schema === s.schema && v.table === s.table && s.statements.some((st) => st.queryId === v.queryId));
  if (mine.length === 0) return null;
  const helps = (v: CostedVerification): boolean => v.usesIndex && v.costAfter <= (1 - minReduction) * v.costBefore;
  const saving = (v: CostedVerification): number => v.costBefore - v.costAfter;
  const lists: (readonly string[])[] = [];
  for (const v of mine) if (!lists.some((l) => sameColumns(l, v.columns))) lists.push(v.columns);
  const per = lists.flatMap((columns) => {
    const vs = mine.filter((v) => sameColumns(v.columns, columns)).sort((a, b) => saving(b) - saving(a));
    const [any] = vs;
    return any ? [{ columns, best: vs.find(helps), any }] : [];
  });
  const compared = per.map((x) => {
    const v = x.best ?? x.any;
    return { columns: x.columns, costBefore: v.costBefore, costAfter: v.costAfter, helps: x.best !== undefined };
  });
  const helping = per.flatMap(({ columns, best }) => (best ? [{ columns, best }] : [])).sort((x, y) => saving(y.best) - saving(x.best));
  const [first] = helping;
  if (!first) return 'rejected';
  let pick = first;
  const prefix = helping
    .filter((x) => x.columns.length < pick.columns.length && x.columns.every((c, i) => pick.columns[i] === c))
    .sort((x, y) => x.columns.length - y.columns.length)[0];
  if (prefix && !(prefix.best.costAfter > SECOND_COLUMN_MIN_COST && pick.best.costAfter <= 0.5 * prefix.best.costAfter)) pick = prefix;
  const helpedQueryIds = new Set(mine.filter(helps).map((v) => v.queryId));
  return { columns: pick.columns, best: pick.best, compared, helpedQueryIds };
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
