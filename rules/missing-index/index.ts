import { defineRule } from '../../src/engine/define-rule.js';
import type { EvidenceValue, FindingDraft, Severity } from '../../src/engine/types.js';
import { isSqlParserReady, redact } from '../../src/sql/index.js';
import { formatCount, formatNumber, formatPercent, roundRatio } from '../_lib/format.js';
import { findIndexCandidates, INDEX_CANDIDATE_THRESHOLDS } from '../../src/analysis/query-index-candidates.js';
import { judgeVerification, updatesColumnHot, writesOf } from './judgement.js';
import { alternativesEvidence, choiceSentence, columnChoiceEvidence, indexSql } from './report.js';

const VERIFY_HINT =
  'Not verified with a hypothetical index: install hypopg in this database (CREATE EXTENSION hypopg) ' +
  'and grant the advisor role SELECT on the table so it can EXPLAIN the statement, or install the explain helper ' +
  '(pg-advisor setup --with-helpers).';

const GIN_NOTE = 'A trigram GIN index cannot be verified with hypopg (it builds only btree, hash and BRIN indexes).';

const PARSER_NOT_LOADED = 'the SQL parser is not loaded: initSqlParser() must be awaited before rules are evaluated';

export default defineRule({
  id: 'missing-index',
  title: 'Missing index',
  category: 'indexes',
  defaultSeverity: 'warning',
  requires: ['statements', 'tables', 'indexes'],
  enrichments: ['index-verification'],
  thresholds: {
    ...INDEX_CANDIDATE_THRESHOLDS,
    warningDbTimeShare: { default: 0.05, description: 'Share of execution time (0–1) of the benefiting statements for a warning.' },
    criticalDbTimeShare: { default: 0.25, description: 'Share of execution time (0–1) of the benefiting statements for critical.' },
    slowMeanMs: { default: 20, description: 'Mean time (ms) that, with slowCalls, makes a finding a warning.' },
    slowCalls: { default: 100, description: 'Calls (count) that, with slowMeanMs, make a finding a warning.' },
    writeAmplificationRatio: { default: 100, description: 'Row writes per benefiting call (ratio) above which a small benefit is downgraded to info.' },
    maxTableIndexCount: { default: 10, description: 'Tables with this many indexes (count) get findings downgraded to info.' },
    minCostReductionFraction: { default: 0.5, description: 'Fraction (0–1) a verified hypothetical index must cut the generic-plan cost by.' },
    minHotRatio: { default: 0.5, description: 'HOT share of updates (0–1) above which indexing an updated column is warned about.' },
  },
  docs: {
    summary: 'Finds statements that read a whole large table to return a few rows, and the index that would serve them.',
    why:
      'A sequential scan costs time proportional to the table, so a query that is fine today gets slower ' +
      'with every row, evicts useful pages from the cache and multiplies under concurrency.',
    fix:
      'Create the suggested index with CREATE INDEX CONCURRENTLY (no write lock; takes longer and must be ' +
      "retried if it fails, leaving an INVALID index to drop). Check the statement's plan afterwards.",
    falsePositives:
      'Only statements that cost real time (≥ {minDbTimeShare} of execution time, or ≥ {minMeanMs} mean ' +
      'over ≥ {minCalls} calls), read about the whole table per call (shared blocks ≥ {minTableReadShare} ' +
      'of its pages) and return a small part of it (≤ {maxSelectivityFraction} of rows, from pg_stats when ' +
      'visible, else from rows per call) are considered, on tables of ≥ {minTableRows} rows and ≥ ' +
      '{minTableBlocks} pages (a partitioned table counts its partitions, and the index is recommended on ' +
      'the partitioned parent). The statement is read block by block: a CTE, sub-select or view ' +
      '(definition from the catalog) it only filters is merged onto its base table as the planner inlines ' +
      "it; CTE bodies and sub-selects are judged on pg_stats; in a join the inner side's join key is " +
      'suggested when the outer side is filtered selectively (an indexed or pg_stats-selective equality, ' +
      'or a small table). Equality columns come first (most selective first), then a range (a two-sided ' +
      'one before a one-sided one; a weak equality does not lead when a range does the filtering) or the ' +
      'ORDER BY of a top-N; a top-N without a filter gets its sort key. A rare IS [NOT] NULL (≤ ' +
      '{maxPartialIndexFraction} of rows) becomes a partial index. LIKE with a constant left-anchored ' +
      "prefix gets text_pattern_ops (plain btree under a C collation); ILIKE, LIKE '%…%' and LIKE with a " +
      'parameter pattern (what pg_stat_statements keeps) get a trigram GIN index only when pg_trgm is ' +
      'installed, else nothing. Low-cardinality equality columns (top value ≥ {maxTopValueFraction} of ' +
      'rows, > {maxColumnSelectivityFraction} per value, or a single value) are never indexed; OR-trees ' +
      'and function-wrapped columns are left alone; foreign-key check statements (SELECT 1 FROM ONLY … FOR ' +
      'KEY SHARE) are left to fk-without-index. An existing valid index that leads with the column and can ' +
      'serve the predicate (btree; hash only for equality; a pattern operator class for LIKE) silences the ' +
      'suggestion; a BRIN, GiST or hash index that cannot is named in evidence. Aggregates without ' +
      'pg_stats, CTE bodies without pg_stats and ambiguous range choices are reported only when hypopg ' +
      'shows the index helps. With hypopg every candidate and its alternatives are planned; the one with ' +
      'the largest saving is kept (a shorter prefix wins unless the longer index halves a cost that is ' +
      'still over a hundred planner units) and only when the generic plan uses it and costs at least ' +
      '{minCostReductionFraction} less; the alternatives are in evidence. Without pg_stats (a ' +
      'pg_monitor-only role) the selectivity comes from observed rows per call; when every call returned ' +
      'exactly its LIMIT that number says nothing about the filter, so such a finding is only info. ' +
      'Writes: a table with many more row writes than benefiting calls and a small benefit, or with ' +
      '{maxTableIndexCount}+ indexes, gets info; an index on a column that frequent HOT updates change is ' +
      'flagged because it makes those updates non-HOT.',
  },
  evaluate({ snapshot, window, thresholds: t }) {
    // Without the parser every statement is "not analysable": a silent clean result would be a lie.
    if (!isSqlParserReady()) throw new Error(PARSER_NOT_LOADED);
    const findings: FindingDraft[] = [];
    const verifications = snapshot.enrichments?.indexVerifications ?? [];
    for (const candidate of findIndexCandidates(snapshot, window, t)) {
      const verdict = judgeVerification(candidate, verifications, t.minCostReductionFraction);
      if (verdict === 'rejected') continue; // the planner would not use it, or it barely helps
      const best = verdict?.best;
      // A statement whose selectivity the heuristics cannot tell counts only when a hypothetical index helped it.
      const statements = candidate.statements.filter((x) => !x.requiresVerification || verdict?.helpedQueryIds.has(x.queryId));
      const [top] = statements;
      if (!top) continue;
      const s = { ...candidate, statements, columns: verdict ? verdict.columns : candidate.columns };

      const calls = s.statements.reduce((n, x) => n + x.calls, 0);
      const time = s.statements.reduce((n, x) => n + x.totalExecTimeMs, 0);
      const share = Math.min(
        1,
        s.statements.reduce((n, x) => n + x.dbTimeShare, 0),
      );
      const mean = time / calls;
      let severity: Severity =
        share >= t.criticalDbTimeShare ? 'critical' : share >= t.warningDbTimeShare || (mean >= t.slowMeanMs && calls >= t.slowCalls) ? 'warning' : 'info';

      const writes = writesOf(snapshot, window, s);
      const indexCount = snapshot.indexes.filter((i) => i.tableOid === s.tableOid).length;
      const downgraded = (writes > t.writeAmplificationRatio * calls && share < 0.01) || indexCount >= t.maxTableIndexCount;
      if (downgraded) severity = 'info';
      const hotWarning = updatesColumnHot(snapshot, s, t.minHotRatio);
      // Selectivity unknown (every call returned exactly the LIMIT, no pg_stats, not verified): keep the
      // finding but do not let it fail a release.
      const limitBound = !best && s.statements.every((x) => x.limitBound);
      if (limitBound) severity = 'info';

      const sql = indexSql(candidate, s.columns);
      const evidence: Record<string, EvidenceValue> = {
        queryIds: s.statements.map((x) => x.queryId),
        basis: s.basis,
        calls,
        meanTimeMs: roundRatio(mean),
        dbTimeShare: roundRatio(share),
        rowsPerCall: roundRatio(top.rowsPerCall),
        blocksPerCall: Math.round(top.blocksPerCall),
        tableRows: s.tableRows,
        tablePages: s.tablePages,
        selectivity: top.selectivity,
        selectivitySource: top.selectivitySource,
        verification: best ? 'hypopg' : 'not-verified',
        existingIndexes: indexCount,
        rowWrites: writes,
        writeAmplificationDowngrade: downgraded,
        hotUpdateWarning: hotWarning,
        limitBound,
        origin: top.origin,
        indexMethod: s.method,
        partialPredicate: s.predicate,
        columnChoice: columnChoiceEvidence(s, s.columns),
        rejectedColumns: { ...s.rejected },
        alternatives: alternativesEvidence(s, verdict),
        unusableIndexes: [...s.unusableIndexes],
      };
      if (best) {
        evidence.costBefore = roundRatio(best.costBefore);
        evidence.costAfter = roundRatio(best.costAfter);
      }
      const failure = best ? undefined : verifications.find((v) => v.status === 'failed' && v.table === s.table && v.schema === s.schema && v.reason);
      const failureReason = failure?.reason;
      if (failureReason) evidence.verificationFailure = failureReason.slice(0, 300);
      const notes = [
        choiceSentence(s, s.columns, verdict),
        s.unusableIndexes.length > 0 ? `Existing index ${s.unusableIndexes.join(', ')} leads with the column but cannot serve this predicate.` : '',
        best
          ? `A hypothetical index cut the generic-plan cost from ${best.costBefore} to ${best.costAfter}.`
          : failureReason && !/not installed/.test(failureReason)
            ? `Not verified with a hypothetical index: ${failureReason.slice(0, 300)}.`
            : s.method === 'gin'
              ? GIN_NOTE
              : VERIFY_HINT,
        hotWarning ? `Frequent updates of ${s.columns.join(', ')} are HOT today; the index makes them non-HOT (more write I/O and bloat).` : '',
        downgraded ? 'The table is write-heavy or already has many indexes: weigh the write cost before adding it.' : '',
        limitBound
          ? 'Every call returned exactly its LIMIT, so how selective the filter is could not be observed: check ' +
            'the column has many distinct values (or grant SELECT so pg_stats shows it) before creating the ' +
            'index.'
          : '',
      ].filter(Boolean);
      findings.push({
        severity,
        summary:
          `${s.statements.length === 1 ? 'A statement reads' : `${s.statements.length} statements read`} ` +
          `about all of ${s.schema}.${s.table} (${formatCount(top.blocksPerCall)} blocks per call; the table ` +
          `has ${formatCount(s.tablePages)} pages) to return ${formatNumber(top.rowsPerCall)} rows, taking ` +
          `${formatPercent(share)} of execution time; an index on ` +
          `(${s.columns.join(', ')})${s.predicate ? ` WHERE ${s.predicate}` : ''} would serve ${s.statements.length === 1 ? 'it' : 'them'}.`,
        object: { type: 'table', schema: s.schema, name: s.table, columns: s.columns },
        evidence,
        recommendation: {
          text: `Create the index without blocking writes: ${sql}. Statement: ${redact(top.query, { maxLength: 500 })}. ${notes.join(' ')}`,
          sql,
        },
        impact: { dbTimeShare: roundRatio(share) },
      });
    }
    return findings;
  },
});
