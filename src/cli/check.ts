import type { Config } from '../config/resolve.js';
import { evaluateRules } from '../engine/evaluate.js';
import type { AnyRule } from '../engine/types.js';
import { UsageError } from '../errors/errors.js';
import { buildReport, countAtOrAbove, renderJson, renderText, ruleErrors, type Report, type ReportDiagnostic } from '../report/index.js';
import type { Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';
import { EXIT } from './failure.js';
import {
  collectSnapshot,
  collectWindow,
  connectTarget,
  enrichSnapshot,
  initSqlParser,
  maskUrl,
  redact,
} from './integrations.js';
import { colorEnabled, type CliIo } from './io.js';
import { createProgress, type Progress } from './progress.js';
import { packageVersion } from './version.js';

const NO_TARGET_HINT =
  'pass --database-url postgres://user@host:5432/database (password in the URL, PGPASSWORD or ~/.pgpass), or set DATABASE_URL (or PGHOST, PGPORT, PGUSER, PGDATABASE); `pg-advisor demo` tries it on a throwaway PostgreSQL';

/**
 * connect → collect (or sample for --window) → enrich → evaluate → report. The connection is closed
 * before rules run. Throws the collector's typed errors (connection, permission) unchanged.
 */
export async function collectReport(config: Config, rules: readonly AnyRule[], progress: Progress): Promise<Report> {
  if (!config.databaseUrl) throw new UsageError('no database to check', { hint: NO_TARGET_HINT });
  const extra: ReportDiagnostic[] = [];
  try {
    await initSqlParser();
  } catch (error) {
    extra.push({
      source: 'sql-parser',
      status: 'degraded',
      message: `the SQL parser did not load (${error instanceof Error ? error.message : String(error)}); query analysis is limited`,
      hint: 'reinstall dependencies (npm ci); libpg-query ships a WASM build that needs no compiler',
    });
  }

  progress.update(`connecting to ${maskUrl(config.databaseUrl)} …`);
  const target = await connectTarget({
    url: config.databaseUrl,
    statementTimeoutMs: config.statementTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
  });
  let snapshot: Snapshot;
  let window: Window | null = null;
  try {
    if (config.windowMs > 0) {
      const seconds = Math.round(config.windowMs / 1000);
      const started = Date.now();
      progress.update(`sampling 0/${seconds} s`);
      const collected = await collectWindow(target, {
        durationMs: config.windowMs,
        onSample: () => progress.update(`sampling ${Math.min(seconds, Math.round((Date.now() - started) / 1000))}/${seconds} s`),
      });
      snapshot = collected.snapshot;
      window = collected.window;
    } else {
      progress.update('collecting statistics …');
      snapshot = await collectSnapshot(target);
    }
    if (config.ruleIds.includes('missing-index')) {
      progress.update('verifying index suggestions …');
      // Same window and thresholds as the rule, so the verified candidates are the ones it judges.
      snapshot = await enrichSnapshot(target, snapshot, {
        window,
        thresholds: config.ruleSettings['missing-index']?.thresholds,
      });
    }
  } finally {
    progress.clear();
    await target.close().catch(() => {});
  }

  const selected = rules.filter((r) => config.ruleIds.includes(r.id));
  const evaluation = evaluateRules({ rules: selected, snapshot, window, settings: config.ruleSettings });
  const report = buildReport({ snapshot, window, evaluation, redact, version: packageVersion() });
  return extra.length > 0 ? { ...report, diagnostics: [...extra, ...report.diagnostics] } : report;
}

/** Renders the report on stdout in the configured format. */
export function printReport(report: Report, config: Config, io: CliIo): void {
  io.stdout.write(
    config.format === 'json' ? renderJson(report) : renderText(report, { color: colorEnabled(io.stdout, io.env), failOn: config.failOn }),
  );
}

/** 2 when a rule crashed, 1 when findings reach --fail-on, else 0. */
export function checkExitCode(report: Report, config: Config, io: CliIo): number {
  const crashed = ruleErrors(report);
  if (crashed > 0) {
    io.stderr.write(`pg-advisor: ${crashed} rule(s) crashed; the report above is incomplete (see its diagnostics)\n`);
    io.stderr.write('  hint: this is a bug in pg-advisor; please report it with the JSON report (--format json)\n');
    return EXIT.ERROR;
  }
  return countAtOrAbove(report.counts, config.failOn) > 0 ? EXIT.FINDINGS : EXIT.OK;
}

/** The `check` command: report on stdout, progress on stderr (TTY), exit code per --fail-on. */
export async function runCheck(config: Config, rules: readonly AnyRule[], io: CliIo): Promise<number> {
  const report = await collectReport(config, rules, createProgress(io.stderr));
  printReport(report, config, io);
  return checkExitCode(report, config, io);
}
