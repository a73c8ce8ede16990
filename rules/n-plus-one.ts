import { defineRule } from '../src/engine/define-rule.js';
import type { EvidenceValue, FindingDraft, Severity } from '../src/engine/types.js';
import { analyzeStatement, isSqlParserReady, buildAnalysisContext, redact, type StatementAnalysis } from '../src/sql/index.js';
import { formatCount, formatNumber, roundRatio } from './_lib/format.js';
import { backendEvidence, temporalEvidence, type TemporalEvidence } from './_lib/query-loop-evidence.js';
import { buildKeyCatalog, childShapes, findLinks, type ChildShape, type Link } from './_lib/query-loop-shapes.js';
import { cumulativeStatements, windowStatements, type StatementFigures, type StatementSet } from '../src/analysis/query-statements.js';

interface Pair {
  readonly parent: StatementFigures;
  readonly link: Link;
  readonly fanOut: number;
  readonly ratio: number;
}

const PARSER_NOT_LOADED = 'the SQL parser is not loaded: initSqlParser() must be awaited before rules are evaluated';

export default defineRule({
  id: 'n-plus-one',
  title: 'N+1 query loop',
  category: 'queries',
  defaultSeverity: 'warning',
  requires: ['statements', 'tables', 'constraints'],
  thresholds: {
    minFanOutRatio: { default: 5, description: 'Child calls per parent call (count) at or above which a pair can be a loop.' },
    minParentRowRatio: { default: 0.5, description: 'Lowest child calls per parent row (ratio) that the parent explains.' },
    maxParentRowRatio: { default: 1.5, description: 'Highest child calls per parent row (ratio) explained without temporal support.' },
    minWindowCalls: { default: 100, description: 'Child calls in the window (count) below which the cumulative counters are used.' },
    minCumulativeCalls: { default: 1000, description: 'Child calls (count, cumulative basis) below which nothing is judged.' },
    maxChildMeanMs: { default: 5, description: 'Children slower than this (ms per call) belong to missing-index, not here.' },
    criticalFanOutRatio: { default: 50, description: 'Fan-out (count) at or above which the loop is critical.' },
    criticalCallShare: { default: 0.25, description: 'Share of all calls (0–1) the child must reach to be critical.' },
  },
  docs: {
    summary: 'Finds statements the application runs once per row of another statement (N+1 loops), from pg_stat_statements alone.',
    why: 'Each loop iteration is a network round trip: a page that shows 50 rows sends 51 statements. Round trips, not execution time, dominate, so the loop grows linearly with data and saturates connection pools long before the database looks busy.',
    fix: 'Load the children in one statement: `WHERE key = ANY($1)` with the collected keys, a JOIN with the parent query, or the ORM\'s eager loading (Rails `includes`/`preload`, Django `select_related`/`prefetch_related`, SQLAlchemy `selectinload`/`joinedload`, Prisma `include`, TypeORM `relations`, Sequelize `include`, Hibernate `JOIN FETCH`/`@BatchSize`).',
    falsePositives: 'A finding needs a child (a one-table SELECT by a key column with one parameter, top-level), a parent of the same role whose output feeds that key through a declared foreign key (or the `user_id` ↔ `users.id` naming convention, reported as info), at least {minFanOutRatio} child calls per parent call, and {minParentRowRatio}–{maxParentRowRatio} child calls per parent row (more only with per-second correlation in a window). Hot independent lookups without a parent, batched `= ANY($1)`/IN-list access, one-lookup-plus-one-list requests, PL/pgSQL loops and write loops are never reported; in a window, unrelated services whose rates happen to match are rejected by the per-second series and by the disjoint application groups of the backends. Misses: parents served from a cache or another service, and loops whose parent also runs standalone so often that the ratio falls below {minParentRowRatio}.',
  },
  evaluate({ snapshot, window, thresholds: t }) {
    // Without the parser every statement is "not analysable": a silent clean result would be a lie.
    if (!isSqlParserReady()) throw new Error(PARSER_NOT_LOADED);
    const ctx = buildAnalysisContext(snapshot);
    const keys = buildKeyCatalog(snapshot);
    const cumulative = cumulativeStatements(snapshot);
    const windowed = window ? windowStatements(snapshot, window) : null;
    const analyses = new Map<string, StatementAnalysis | null>();
    const analysisOf = (s: StatementFigures): StatementAnalysis | null => {
      let a = analyses.get(s.key);
      if (a === undefined) {
        const r = analyzeStatement(s.query, ctx, { queryId: s.queryId });
        analyses.set(s.key, (a = r.analysable ? r : null));
      }
      return a;
    };

    const findings: (FindingDraft & { rank: number })[] = [];
    for (const child of cumulative.statements) {
      if (!child.toplevel) continue;
      const a = analysisOf(child);
      const shapes = a ? childShapes(a, keys) : [];
      if (shapes.length === 0) continue;
      const inWindow = windowed?.statements.find((s) => s.key === child.key);
      const set: StatementSet = inWindow && inWindow.calls >= t.minWindowCalls ? windowed! : cumulative;
      const c = set === cumulative ? child : inWindow!;
      if (set === cumulative && c.calls < t.minCumulativeCalls) continue;
      if (c.calls === 0 || c.totalExecTimeMs / c.calls > t.maxChildMeanMs) continue;

      for (const shape of shapes) {
        const draft = judge(c, shape, set);
        if (draft) findings.push(draft);
      }
    }
    return findings.sort((x, y) => y.rank - x.rank).map(({ rank: _rank, ...f }) => f);

    function judge(c: StatementFigures, shape: ChildShape, set: StatementSet): (FindingDraft & { rank: number }) | null {
      const pairs: Pair[] = [];
      for (const p of set.statements) {
        if (p.key === c.key || !p.toplevel || p.userId !== c.userId || p.calls <= 0 || p.rows <= 0) continue;
        const pa = analysisOf(p);
        if (!pa) continue;
        const links = findLinks(shape, pa, keys, ctx);
        if (links.length === 0) continue;
        const fanOut = c.calls / p.calls;
        if (fanOut < t.minFanOutRatio) continue;
        pairs.push({ parent: p, link: links[0]!, fanOut, ratio: c.calls / p.rows });
      }
      if (pairs.length === 0) return null; // no parent → no finding
      const sumRatio = c.calls / pairs.reduce((n, p) => n + p.parent.rows, 0);
      const strength = (p: Pair): number => (p.link.source === 'foreign-key' ? 0 : 1);
      pairs.sort((x, y) => strength(x) - strength(y) || Math.abs(Math.log(x.ratio)) - Math.abs(Math.log(y.ratio)));
      const inBand = (r: number): boolean => r >= t.minParentRowRatio && r <= t.maxParentRowRatio;
      const best = pairs.find((p) => inBand(p.ratio)) ?? pairs[0]!;
      const ratio = inBand(best.ratio) ? best.ratio : sumRatio;

      let temporal: TemporalEvidence | null = null;
      let sharedBackends: number | null = null;
      if (set.basis === 'window' && window) {
        if (c.callsSeries && best.parent.rowsSeries) temporal = temporalEvidence(c.callsSeries, best.parent.rowsSeries, c.calls / best.parent.rows, 5);
        const backends = backendEvidence(window.samples, c.queryId, best.parent.queryId);
        if (backends.disjointGroups) return null;
        sharedBackends = backends.sharedBackends;
      }
      const supports = temporal !== null && ((temporal.rho ?? 0) >= 0.8 || temporal.residual <= 0.15);
      const contradicts = temporal !== null && (temporal.rho ?? 0) < 0.3 && temporal.residual > 0.4;
      if (contradicts) return null;
      if (ratio < t.minParentRowRatio) return null;
      if (ratio > t.maxParentRowRatio && !supports) return null;

      const nameOnly = best.link.source === 'name';
      const callShare = set.totalCalls > 0 ? c.calls / set.totalCalls : 0;
      const severity: Severity = nameOnly
        ? 'info'
        : best.fanOut >= t.criticalFanOutRatio || callShare >= t.criticalCallShare
          ? 'critical'
          : 'warning';
      const perSecond = (n: number): number | null => (set.seconds ? roundRatio(n / set.seconds) : null);
      const evidence: Record<string, EvidenceValue> = {
        parentQueryId: best.parent.queryId,
        table: `${shape.schema}.${shape.table}`,
        keyColumn: shape.keyColumn,
        linkType: best.link.type,
        linkSource: best.link.source,
        parentColumn: best.link.parentColumn,
        basis: set.basis,
        childCalls: c.calls,
        parentCalls: best.parent.calls,
        parentRows: best.parent.rows,
        fanOut: roundRatio(best.fanOut),
        ratio: roundRatio(ratio),
        callsPerSecond: perSecond(c.calls),
        parentCallsPerSecond: perSecond(best.parent.calls),
        rowsPerCall: roundRatio(c.rows / c.calls),
        parentRowsPerCall: roundRatio(best.parent.rows / best.parent.calls),
        callShare: roundRatio(callShare),
        parents: pairs.length,
      };
      if (temporal) {
        // Evidence numbers are non-negative by contract: a negative correlation is reported by its size.
        if (temporal.rho !== null && temporal.rho >= 0) evidence.rho = roundRatio(temporal.rho);
        else if (temporal.rho !== null) evidence.anticorrelation = roundRatio(-temporal.rho);
        evidence.residual = roundRatio(Math.min(temporal.residual, 1e6));
      }
      if (sharedBackends !== null) evidence.sharedBackends = sharedBackends;
      const childText = redact(c.query, { maxLength: 500 });
      const parentText = redact(best.parent.query, { maxLength: 500 });
      const how = best.link.type === 'belongs-to'
        ? `collect the ${best.link.parentColumn} values of the parent's rows and load them at once with \`WHERE ${shape.keyColumn} = ANY($1)\``
        : `collect the parent rows' ${best.link.parentColumn} values and load all children at once with \`WHERE ${shape.keyColumn} = ANY($1)\``;
      return {
        rank: (severity === 'critical' ? 2e12 : severity === 'warning' ? 1e12 : 0) + c.calls,
        severity,
        summary: `${formatCount(c.calls)} lookups of ${shape.schema}.${shape.table} by ${shape.keyColumn} run about once per row of another statement (${formatNumber(best.fanOut)} per call of it, ${set.basis} counters)${nameOnly ? '; linked by column names only' : ''}.`,
        object: { type: 'query', queryId: c.queryId, schema: shape.schema, name: shape.table },
        evidence,
        recommendation: {
          text: `Batch the loop: ${how}, join ${shape.table} into the parent query, or use the ORM's eager loading (includes/preload, select_related/prefetch_related, selectinload/joinedload, include). Repeated statement: ${childText} — driven by: ${parentText}`,
        },
        impact: { roundTripsSaved: Math.max(0, c.calls - best.parent.calls) },
      };
    }
  },
});
