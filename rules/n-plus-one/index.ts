import { defineRule } from '../../src/engine/define-rule.js';
import type { FindingDraft } from '../../src/engine/types.js';
import { analyzeStatement, isSqlParserReady, type StatementAnalysis } from '../../src/sql/index.js';
import { cumulativeStatements, windowStatements, type StatementFigures, type StatementSet } from '../../src/analysis/query-statements.js';
import { must } from '../../src/errors/must.js';
import { roleContexts } from './contexts.js';
import { N_PLUS_ONE_DOCS } from './docs.js';
import { backendEvidence } from './evidence.js';
import { buildLoopFinding, type Loop } from './finding.js';
import { chooseParent, contradicts, seriesEvidence, withoutBatchedCalls, type Candidate } from './parents.js';
import { batchSignature, buildKeyCatalog, childShapes, findLinks, isEagerFor, type ChildShape } from './shapes.js';

const PARSER_NOT_LOADED = 'the SQL parser is not loaded: initSqlParser() must be awaited before rules are evaluated';
/** Loops nested deeper than this (invoices → lines → skus is depth 2) are not followed. */
const MAX_CHAIN_DEPTH = 3;
/** Intervals the child must run in before per-second series count as evidence (count). */
const MIN_SERIES_INTERVALS = 5;

export default defineRule({
  id: 'n-plus-one',
  title: 'N+1 query loop',
  category: 'queries',
  defaultSeverity: 'warning',
  requires: ['statements', 'tables', 'constraints'],
  thresholds: {
    minFanOutRatio: {
      default: 5,
      description: 'Child calls per parent call (count) at or above which a pair can be a loop; for a nested loop, per call of the outermost parent.',
    },
    minParentRowRatio: { default: 0.5, description: 'Lowest child calls per parent row (ratio) that the parent explains.' },
    maxParentRowRatio: { default: 1.5, description: 'Highest child calls per parent row (ratio) explained without temporal support.' },
    parentTieRatio: {
      default: 1.2,
      description: 'Parents whose ratios lie within this factor (ratio ≥ 1) of each other tie: only per-second support then picks one.',
    },
    minWindowCalls: { default: 100, description: 'Child calls in the window (count) below which the cumulative counters are used.' },
    minCumulativeCalls: { default: 1000, description: 'Child calls (count, cumulative basis) below which nothing is judged.' },
    maxChildMeanMs: { default: 5, description: 'Children slower than this (ms per call) belong to missing-index, not here.' },
    criticalFanOutRatio: { default: 50, description: 'Fan-out (count) at or above which the loop is critical.' },
    criticalCallShare: { default: 0.25, description: 'Share of all calls (0–1) the child must reach to be critical.' },
  },
  docs: N_PLUS_ONE_DOCS,
  evaluate({ snapshot, window, thresholds: t }) {
    // Without the parser every statement is "not analysable": a silent clean result would be a lie.
    if (!isSqlParserReady()) throw new Error(PARSER_NOT_LOADED);
    const contextOf = roleContexts(snapshot);
    const keys = buildKeyCatalog(snapshot);
    const cumulative = cumulativeStatements(snapshot);
    const windowed = window ? windowStatements(snapshot, window) : null;
    const analyses = new Map<string, StatementAnalysis | null>();
    const analysisOf = (s: StatementFigures): StatementAnalysis | null => {
      let a = analyses.get(s.key);
      if (a === undefined) {
        const r = analyzeStatement(s.query, contextOf(s.userId).ctx, { queryId: s.queryId });
        analyses.set(s.key, (a = r.analysable ? r : null));
      }
      return a;
    };
    const byKey = new Map(cumulative.statements.map((s) => [s.key, s]));
    const windowByKey = new Map((windowed?.statements ?? []).map((s) => [s.key, s]));
    const verdicts = new Map<string, Loop | null>();
    const judging = new Set<string>();
    const band = { minRatio: t.minParentRowRatio, maxRatio: t.maxParentRowRatio };

    const findings: (FindingDraft & { rank: number })[] = [];
    for (const child of cumulative.statements) {
      const loop = verdictOf(child.key);
      if (!loop) continue;
      const { ctx, searchPathSource } = contextOf(loop.child.userId);
      // An unqualified name that other schemas hold too: say which, since the choice rests on the search_path.
      const others = loop.shape.resolution === 'qualified' ? [] : (ctx.schemasByTableName.get(loop.shape.table) ?? []).filter((s) => s !== loop.shape.schema);
      const parentTable = keys.tableNames.get(loop.best.link.parentTableOid);
      findings.push(buildLoopFinding(loop, { searchPathSource, sameNameSchemas: others, parentTable }, t));
    }
    return findings.sort((x, y) => y.rank - x.rank).map(({ rank: _rank, ...f }) => f);

    /** The loop a statement (by key) is the child of, memoised; null when it is none. */
    function verdictOf(key: string): Loop | null {
      const known = verdicts.get(key);
      if (known !== undefined) return known;
      const child = must(byKey.get(key), `cumulative statement ${key}`);
      const inWindow = windowByKey.get(key);
      // windowByKey is empty without a window, so a statement found there has one.
      const useWindow = windowed !== null && inWindow !== undefined && inWindow.calls >= t.minWindowCalls;
      const set: StatementSet = useWindow ? windowed : cumulative;
      const c = useWindow ? inWindow : child;
      const enough = set !== cumulative || c.calls >= t.minCumulativeCalls;
      const loop = enough && c.calls > 0 && c.totalExecTimeMs / c.calls <= t.maxChildMeanMs ? loopOf(c, set, 0, c.calls) : null;
      verdicts.set(key, loop);
      return loop;
    }

    /**
     * The loop `c` is the child of, with fan-out measured from `leafCalls` (the innermost child's calls): a
     * statement in the middle of a nested loop runs few times per call of its parent, but its own parent runs
     * once per row of the grandparent, and so on up to MAX_CHAIN_DEPTH. `judging` holds the path (no cycles).
     */
    function loopOf(c: StatementFigures, set: StatementSet, depth: number, leafCalls: number): Loop | null {
      if (!c.toplevel || judging.has(c.key) || depth > MAX_CHAIN_DEPTH) return null;
      const a = analysisOf(c);
      const shapes = a ? childShapes(a, keys, c.query) : [];
      judging.add(c.key);
      let loop: Loop | null = null;
      for (const shape of shapes) if ((loop = judge(c, shape, set, depth, leafCalls))) break;
      judging.delete(c.key);
      return loop;
    }

    /** Calls of the role's batched loads of the child's key in `set`: summed per batch shape, the most of any (count). */
    function batchedCallsOf(c: StatementFigures, shape: ChildShape, set: StatementSet): number {
      const bySignature = new Map<string, number>();
      for (const b of set.statements) {
        if (b.userId !== c.userId || !b.toplevel || b.key === c.key) continue;
        const ba = analysisOf(b);
        const signature = ba ? batchSignature(ba, shape, b.query) : null;
        if (signature !== null) bySignature.set(signature, (bySignature.get(signature) ?? 0) + b.calls);
      }
      return Math.max(0, ...bySignature.values());
    }

    function judge(c: StatementFigures, shape: ChildShape, set: StatementSet, depth: number, leafCalls: number): Loop | null {
      const candidates: (Candidate & { grandparent?: Loop['grandparent'] })[] = [];
      let eagerSkipped = 0;
      let batched: number | undefined;
      for (const p of set.statements) {
        if (p.key === c.key || !p.toplevel || p.userId !== c.userId || p.calls <= 0 || p.rows <= 0) continue;
        const pa = analysisOf(p);
        if (!pa) continue;
        const linked = findLinks(shape, pa, keys, contextOf(p.userId).ctx);
        const links = linked.filter((l) => !isEagerFor(pa, shape, l));
        const [link] = links;
        if (!link) {
          if (linked.length > 0) eagerSkipped++;
          continue;
        }
        const plain: Candidate = { parent: p, link, fanOut: c.calls / p.calls, ratio: c.calls / p.rows };
        const pair = plain.ratio < band.minRatio ? withoutBatchedCalls(plain, c.calls, (batched ??= batchedCallsOf(c, shape, set)), band) : plain;
        const loopCalls = p.calls - (pair.batchedParentCalls ?? 0);
        if (leafCalls / loopCalls >= t.minFanOutRatio) candidates.push(pair);
        else if (pair.ratio >= t.minParentRowRatio && pair.ratio <= t.maxParentRowRatio) {
          // A nested loop: few rows per parent call, but the parent itself runs once per row of its own parent.
          const outer = loopOf(p, set, depth + 1, leafCalls);
          if (outer) {
            const root = outer.grandparent?.root ?? outer.best.parent;
            candidates.push({ ...pair, grandparent: { queryId: outer.best.parent.queryId, root, fanOut: leafCalls / root.calls } });
          }
        }
      }
      const chosen = chooseParent(c, candidates, { ...band, tieFactor: t.parentTieRatio, minIntervals: MIN_SERIES_INTERVALS });
      if (!chosen) return null; // no parent, or rivals nothing tells apart → no finding
      const best = chosen.best as (typeof candidates)[number];
      let temporal = chosen.temporal;
      let sharedBackends: number | null = null;
      if (set.basis === 'window' && window) {
        temporal ??= seriesEvidence(c, best.parent, MIN_SERIES_INTERVALS);
        const backends = backendEvidence(window.samples, c.queryId, best.parent.queryId);
        if (backends.disjointGroups) return null;
        sharedBackends = backends.sharedBackends;
      }
      if (contradicts(temporal) || chosen.ratio < t.minParentRowRatio) return null;
      // Calls beyond the parent's rows need the series to move together: under steady load a small residual
      // comes from any two independent rates, so only correlation counts here.
      if (chosen.ratio > t.maxParentRowRatio && !((temporal?.rho ?? 0) >= 0.8)) return null;
      return {
        child: c,
        shape,
        set,
        best,
        ratio: chosen.ratio,
        choice: chosen.choice,
        tied: chosen.tied,
        candidates: candidates.length,
        eagerSkipped,
        temporal,
        sharedBackends,
        grandparent: best.grandparent ?? null,
        basis: set.basis,
      };
    }
  },
});
