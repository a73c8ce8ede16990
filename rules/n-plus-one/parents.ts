/**
 * Choice of the parent that drives a loop among the statements linked to its child (detection.md §1.2
 * steps 3–5), and the reason given for it. Pure.
 */
import type { StatementFigures } from '../../src/analysis/query-statements.js';
import { temporalEvidence, type TemporalEvidence } from './evidence.js';
import type { Link } from './shapes.js';

export interface Candidate {
  readonly parent: StatementFigures;
  readonly link: Link;
  /** child calls per parent call (count) */
  readonly fanOut: number;
  /** child calls per parent row (ratio) */
  readonly ratio: number;
  /** Parent calls whose keys a batched load of the child took instead (count); set when counted out. */
  readonly batchedParentCalls?: number;
}

/**
 * A list that serves both the lazy page and the eager one (same text, hence one statement) has twice the
 * rows its loop explains. When batched loads of the child's key (`IN ($1, $2, …)`, `= ANY($1)`) ran
 * `batchedCalls` times, that many parent calls fed them rather than the loop: count them out, keeping rows
 * per call. Only used to rescue a ratio below the band, and only when the result falls inside it.
 */
export function withoutBatchedCalls(pair: Candidate, childCalls: number, batchedCalls: number, o: Pick<ChoiceOptions, 'minRatio' | 'maxRatio'>): Candidate {
  const p = pair.parent;
  if (pair.ratio >= o.minRatio || batchedCalls <= 0 || batchedCalls >= p.calls) return pair;
  const loopCalls = p.calls - batchedCalls;
  const ratio = childCalls / ((p.rows * loopCalls) / p.calls);
  if (ratio < o.minRatio || ratio > o.maxRatio) return pair;
  return { ...pair, fanOut: childCalls / loopCalls, ratio, batchedParentCalls: batchedCalls };
}

/**
 * Why this parent: the only linked statement; the only one linked by a declared key among in-band ones; the
 * closest ratio with no rival near it; the per-second series when rivals tie; or (no parent in band) the
 * first one, judged with the rows of all parents summed.
 */
export type ParentChoice = 'only-candidate' | 'declared-key' | 'closest-ratio' | 'temporal-support' | 'summed-parents';

export interface Choice {
  readonly best: Candidate;
  /** child calls per parent row used for the band test (ratio) */
  readonly ratio: number;
  readonly choice: ParentChoice;
  /** In-band candidates tied with the chosen one, itself included (count). */
  readonly tied: number;
  /** Series evidence when the tie was broken by it (else computed later by the caller). */
  readonly temporal: TemporalEvidence | null;
}

export interface ChoiceOptions {
  readonly minRatio: number;
  readonly maxRatio: number;
  /** Ratios within this factor of each other tie (ratio ≥ 1). */
  readonly tieFactor: number;
  /** Intervals the child must run in before series count as evidence (count). */
  readonly minIntervals: number;
}

/** ρ ≥ 0.8 or residual ≤ 0.15: the child's calls follow this parent's rows second by second. */
export function supports(t: TemporalEvidence | null): boolean {
  return t !== null && ((t.rho ?? 0) >= 0.8 || t.residual <= 0.15);
}

/** ρ < 0.3 and residual > 0.4: the series say the two move independently. */
export function contradicts(t: TemporalEvidence | null): boolean {
  return t !== null && (t.rho ?? 0) < 0.3 && t.residual > 0.4;
}

export function seriesEvidence(child: StatementFigures, parent: StatementFigures, minIntervals: number): TemporalEvidence | null {
  if (!child.callsSeries || !parent.rowsSeries || parent.rows <= 0) return null;
  return temporalEvidence(child.callsSeries, parent.rowsSeries, child.calls / parent.rows, minIntervals);
}

const strength = (c: Candidate): number => (c.link.source === 'foreign-key' ? 0 : 1);

/**
 * Picks the parent, or null when rivals tie and nothing breaks the tie: two pages returning the same rows at
 * the same rate (a lazy list and the eager page beside it, or an unrelated list that happens to match a hot
 * lookup) are told apart only by positive support from the per-second series, never by ratio alone.
 */
export function chooseParent(child: StatementFigures, candidates: readonly Candidate[], o: ChoiceOptions): Choice | null {
  const sorted = [...candidates].sort((x, y) => strength(x) - strength(y) || Math.abs(Math.log(x.ratio)) - Math.abs(Math.log(y.ratio)));
  const [closest] = sorted;
  if (!closest) return null;
  const inBand = sorted.filter((c) => c.ratio >= o.minRatio && c.ratio <= o.maxRatio);
  const [first] = inBand;
  if (!first) {
    const rows = candidates.reduce((n, c) => n + c.parent.rows, 0);
    const only = candidates.length === 1;
    return { best: closest, ratio: child.calls / rows, choice: only ? 'only-candidate' : 'summed-parents', tied: 0, temporal: null };
  }
  const tied = inBand.filter((c) => strength(c) === strength(first) && Math.abs(Math.log(c.ratio / first.ratio)) <= Math.log(o.tieFactor));
  if (tied.length === 1) {
    const choice: ParentChoice =
      candidates.length === 1 ? 'only-candidate' : inBand.some((c) => strength(c) > strength(first)) ? 'declared-key' : 'closest-ratio';
    return { best: first, ratio: first.ratio, choice, tied: 1, temporal: null };
  }
  const supported = tied
    .map((c) => ({ c, t: seriesEvidence(child, c.parent, o.minIntervals) }))
    .flatMap(({ c, t }) => (t !== null && supports(t) ? [{ c, t }] : []))
    .sort((x, y) => x.t.residual - y.t.residual || (y.t.rho ?? 0) - (x.t.rho ?? 0));
  const winner = supported[0];
  if (!winner) return null;
  return { best: winner.c, ratio: winner.c.ratio, choice: 'temporal-support', tied: tied.length, temporal: winner.t };
}
