import type { Config, ReportFormat } from '../config/resolve.js';
import { runAudit } from '../audit/index.js';
import type { AnyRule } from '../engine/types.js';
import { UsageError } from '../errors/errors.js';
import {
  applyBaseline,
  buildBaseline,
  countAtOrAbove,
  crashedRules,
  gateCounts,
  loadBaselineFile,
  renderReport,
  ruleErrors,
  skippedRuleLines,
  sourceFailureLines,
  writeBaselineFile,
  type Report,
  type ReportDiagnostic,
} from '../report/index.js';
import { EXIT } from './failure.js';
import { allRules, connectTarget, initSqlParser, maskUrl } from './integrations.js';
import { colorEnabled, type CliIo } from '../terminal/io.js';
import { parseOutputs, writeOutputFile } from './outputs.js';
import { createProgress, type Progress } from '../terminal/progress.js';
import { packageVersion } from '../version.js';

const NO_TARGET_HINT =
  'pass --database-url postgres://user@host:5432/database (password in the URL, PGPASSWORD or ' +
  '~/.pgpass), or set DATABASE_URL (or PGHOST, PGPORT, PGUSER, PGDATABASE); `pg-advisor demo` tries it ' +
  'on a throwaway PostgreSQL';

/**
 * connect → the audit pipeline (src/audit) → report. The connection is closed before the report is
 * returned. Throws the collector's typed errors (connection, permission) unchanged.
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
  let report: Report;
  try {
    ({ report } = await runAudit(target, {
      rules: rules.filter((r) => config.ruleIds.includes(r.id)),
      settings: config.ruleSettings,
      windowMs: config.windowMs,
      version: packageVersion(),
      onProgress: (message) => progress.update(message),
    }));
  } finally {
    progress.clear();
    // The report is complete; a failure to close the pool cannot change it.
    await target.close().catch(() => {
      // the report is complete; a failure to close the pool cannot change it
    });
  }
  return extra.length > 0 ? { ...report, diagnostics: [...extra, ...report.diagnostics] } : report;
}

/** Release-gate flags of `check` (docs/ci.md). */
export interface ReleaseGateOptions {
  /** `--baseline FILE`: findings whose fingerprint is in it (at that severity or lower) do not gate. */
  readonly baseline?: string;
  /** `--write-baseline FILE`: record every finding of this run. */
  readonly writeBaseline?: string;
  /** `--sarif-artifact PATH`: the file SARIF results point at (default `postgresql/<database>`). */
  readonly sarifArtifact?: string;
  /** `--output FORMAT=FILE` (repeatable): the same report in other formats, written to files. */
  readonly outputs?: readonly string[];
  /**
   * `--strict` / `--no-strict`: a selected rule skipped for a missing extension or privilege fails the gate
   * (exit 2). Undefined means the default: strict when `--baseline` is given (a gate should not pass blind).
   */
  readonly strict?: boolean;
}

/** Whether skipped rules fail the gate: `--strict`/`--no-strict` when given, else strict with `--baseline`. */
export function isStrict(gate: ReleaseGateOptions): boolean {
  return gate.strict ?? gate.baseline !== undefined;
}

/** The report in `format`; the selected `rules` are described in SARIF and JUnit. Coloured only when `color`. */
export function renderCheckReport(
  report: Report,
  format: ReportFormat,
  config: Config,
  options: { rules?: readonly AnyRule[]; gate?: ReleaseGateOptions; color?: boolean } = {},
): string {
  return renderReport(report, format, {
    rules: (options.rules ?? allRules).filter((r) => config.ruleIds.includes(r.id)),
    failOn: config.failOn,
    baselineFile: options.gate?.baseline,
    sarifArtifact: options.gate?.sarifArtifact,
    color: options.color,
  });
}

/** Renders the report on stdout in the configured format. */
export function printReport(report: Report, config: Config, io: CliIo, rules: readonly AnyRule[] = allRules, gate: ReleaseGateOptions = {}): void {
  io.stdout.write(renderCheckReport(report, config.format, config, { rules, gate, color: colorEnabled(io.stdout, io.env) }));
}

/**
 * 2 when a rule crashed or a source a rule needs failed (or, when `strict`, a selected rule was skipped),
 * 1 when findings reach --fail-on (baselined ones excluded), else 0.
 */
export function checkExitCode(report: Report, config: Config, io: CliIo, strict = false): number {
  const failedSources = sourceFailureLines(report);
  for (const line of failedSources) io.stderr.write(`${line}\n`);
  const crashed = crashedRules(report);
  if (crashed > 0) {
    io.stderr.write(`pg-advisor: ${crashed} rule(s) crashed; the report above is incomplete (see its diagnostics)\n`);
    io.stderr.write('  hint: this is a bug in pg-advisor; please report it with the JSON report (--format json)\n');
  }
  const skipped = strict ? skippedRuleLines(report) : [];
  for (const line of skipped) io.stderr.write(`${line}\n`);
  if (crashed > 0 || failedSources.length > 0 || skipped.length > 0) return EXIT.ERROR;
  return countAtOrAbove(gateCounts(report), config.failOn) > 0 ? EXIT.FINDINGS : EXIT.OK;
}

/**
 * The `check` command: report on stdout, progress on stderr (TTY), exit code per --fail-on. A bad
 * --baseline file or --output spec fails before connecting; --write-baseline records the run before it
 * is gated; --output files are written after stdout (a file that cannot be written exits 2).
 */
export async function runCheck(config: Config, rules: readonly AnyRule[], io: CliIo, gate: ReleaseGateOptions = {}): Promise<number> {
  const outputs = parseOutputs(gate.outputs ?? []);
  const baseline = gate.baseline !== undefined ? loadBaselineFile(gate.baseline) : null;
  const collected = await collectReport(config, rules, createProgress(io.stderr));
  if (gate.writeBaseline !== undefined) writeBaselineFile(gate.writeBaseline, buildBaseline(collected, new Date().toISOString()));
  const report = baseline && gate.baseline !== undefined ? applyBaseline(collected, baseline, gate.baseline) : collected;
  printReport(report, config, io, rules, gate);
  for (const output of outputs) writeOutputFile(output.path, renderCheckReport(report, output.format, config, { rules, gate }));
  return checkExitCode(report, config, io, isStrict(gate));
}
