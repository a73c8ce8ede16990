/** The finding of one judged loop: severity ladder, evidence (with why the parent was chosen), texts. Pure. */
import type { EvidenceValue, FindingDraft, Severity } from '../../src/engine/types.js';
import { redact } from '../../src/sql/index.js';
import { formatCount, formatNumber, roundRatio } from '../_lib/format.js';
import type { Basis, StatementFigures, StatementSet } from '../../src/analysis/query-statements.js';
import type { SearchPathSource } from './contexts.js';
import type { TemporalEvidence } from './evidence.js';
import type { Candidate, ParentChoice } from './parents.js';
import type { ChildShape } from './shapes.js';

export interface Loop {
  readonly child: StatementFigures;
  readonly shape: ChildShape;
  readonly set: StatementSet;
  readonly basis: Basis;
  readonly best: Candidate;
  /** child calls per parent row (ratio) */
  readonly ratio: number;
  readonly choice: ParentChoice;
  readonly tied: number;
  /** Linked parents with enough fan-out (count). */
  readonly candidates: number;
  /** Linked statements passed over because they already load the child's rows (count). */
  readonly eagerSkipped: number;
  readonly temporal: TemporalEvidence | null;
  readonly sharedBackends: number | null;
  /**
   * For a nested loop: the parent's own parent, the outermost statement of the chain (`root`, the grandparent
   * itself for two levels) and the child calls per call of the root (count).
   */
  readonly grandparent: { readonly queryId: string; readonly root: StatementFigures; readonly fanOut: number } | null;
}

export interface FindingThresholds {
  readonly criticalFanOutRatio: number;
  readonly criticalCallShare: number;
}

/** How the child's table name was read: whose search_path, and which other schemas hold a table of that name. */
export interface NameResolution {
  readonly searchPathSource: SearchPathSource;
  readonly sameNameSchemas: readonly string[];
  /** Name of the parent's table whose column feeds the child's key; undefined when the catalog lacks it. */
  readonly parentTable?: string;
}

export function buildLoopFinding(loop: Loop, names: NameResolution, t: FindingThresholds): FindingDraft & { rank: number } {
  const { child: c, shape, set, best, temporal } = loop;
  const nameOnly = best.link.source === 'name';
  const fanOut = loop.grandparent ? loop.grandparent.fanOut : best.fanOut;
  const callShare = set.totalCalls > 0 ? c.calls / set.totalCalls : 0;
  const severity: Severity = nameOnly ? 'info' : fanOut >= t.criticalFanOutRatio || callShare >= t.criticalCallShare ? 'critical' : 'warning';
  const perSecond = (n: number): number | null => (set.seconds ? roundRatio(n / set.seconds) : null);
  const evidence: Record<string, EvidenceValue> = {
    parentQueryId: best.parent.queryId,
    parentChoice: loop.choice,
    candidateParents: loop.candidates,
    tiedParents: loop.tied,
    eagerParentsSkipped: loop.eagerSkipped,
    table: `${shape.schema}.${shape.table}`,
    tableResolution: shape.resolution,
    searchPathSource: names.searchPathSource,
    keyColumn: shape.keyColumn,
    keyOperator: shape.keyOperator,
    joinedTables: [...shape.joinedTables],
    linkType: best.link.type,
    linkSource: best.link.source,
    parentColumn: best.link.parentColumn,
    basis: set.basis,
    childCalls: c.calls,
    parentCalls: best.parent.calls,
    parentRows: best.parent.rows,
    fanOut: roundRatio(best.fanOut),
    ratio: roundRatio(loop.ratio),
    callsPerSecond: perSecond(c.calls),
    parentCallsPerSecond: perSecond(best.parent.calls),
    rowsPerCall: roundRatio(c.rows / c.calls),
    parentRowsPerCall: roundRatio(best.parent.rows / best.parent.calls),
    callShare: roundRatio(callShare),
    parents: loop.candidates,
  };
  if (names.sameNameSchemas.length > 0) evidence.sameNameSchemas = [...names.sameNameSchemas];
  if (best.batchedParentCalls !== undefined) evidence.batchedParentCalls = best.batchedParentCalls;
  if (loop.grandparent) {
    evidence.grandparentQueryId = loop.grandparent.queryId;
    evidence.chainFanOut = roundRatio(loop.grandparent.fanOut);
    if (loop.grandparent.root.queryId !== loop.grandparent.queryId) evidence.rootQueryId = loop.grandparent.root.queryId;
  }
  if (temporal) {
    // Evidence numbers are non-negative by contract: a negative correlation is reported by its size.
    if (temporal.rho !== null && temporal.rho >= 0) evidence.rho = roundRatio(temporal.rho);
    else if (temporal.rho !== null) evidence.anticorrelation = roundRatio(-temporal.rho);
    evidence.residual = roundRatio(Math.min(temporal.residual, 1e6));
  }
  if (loop.sharedBackends !== null) evidence.sharedBackends = loop.sharedBackends;
  const childText = redact(c.query, { maxLength: 500 });
  const parentText = redact(best.parent.query, { maxLength: 500 });
  const how =
    best.link.type === 'belongs-to'
      ? `collect the ${best.link.parentColumn} values of the parent's rows and load them at once with \`WHERE ${shape.keyColumn} = ANY($1)\``
      : `collect the parent rows' ${best.link.parentColumn} values and load all children at once with \`WHERE ${shape.keyColumn} = ANY($1)\``;
  // What the loop does, in the reader's words: the statement's query id stays in the object and evidence.
  const perRowOf = names.parentTable ?? 'another statement';
  const label = `${shape.table} by ${shape.keyColumn}, once per row of ${perRowOf}`;
  const nested = loop.grandparent ? `, ${formatNumber(loop.grandparent.fanOut)} per call of the statement driving that one (a nested loop)` : '';
  return {
    rank: (severity === 'critical' ? 2e12 : severity === 'warning' ? 1e12 : 0) + c.calls,
    severity,
    title: `N+1 query loop: ${label}`,
    summary:
      `${formatCount(c.calls)} lookups of ${shape.schema}.${shape.table} by ${shape.keyColumn} run about ` +
      `once per row of ${names.parentTable !== undefined ? `a statement reading ${names.parentTable}` : 'another statement'} ` +
      `(${formatNumber(best.fanOut)} per call of it${nested}, ` +
      `${set.basis} counters)${nameOnly ? '; linked by column names only' : ''}.`,
    object: { type: 'query', queryId: c.queryId, schema: shape.schema, name: shape.table, label },
    evidence,
    recommendation: {
      text:
        `Batch the loop: ${how}, join ${shape.table} into the parent query, or use the ORM's eager loading ` +
        `(includes/preload, select_related/prefetch_related, selectinload/joinedload, include). Repeated ` +
        `statement: ${childText} — driven by: ${parentText}`,
    },
    impact: { roundTripsSaved: Math.max(0, c.calls - best.parent.calls) },
  };
}
