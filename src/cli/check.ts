import type { Config, ReportFormat } from '../config/resolve.js';
import { evaluateRules } from '../engine/evaluate.js';
import type { AnyRule } from '../engine/types.js';
import { UsageError } from '../errors/errors.js';
import {
  applyBaseline,
  buildBaseline,
  buildReport,
  countAtOrAbove,
  crashedRules,
  gateCounts,
  loadBaselineFile,
  renderJson,
  renderJunit,
  renderMarkdown,
  renderSarif,
  renderText,
  sourceFailureLines,
  withoutBaselined,
  writeBaselineFile,
  type Report,
  type ReportDiagnostic,
} from '../report/index.js';
import type { Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';
import { EXIT } from './failure.js';
import {
  allRules,
  collectSnapshot,
  collectWindow,
  connectTarget,
  enrichSnapshot,
  initSqlParser,
  maskUrl,
  redact,
} from './integrations.js';
import { colorEnabled, type CliIo } from './io.js';
import { parseOutputs, writeOutputFile } from './outputs.js';
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
}

/** The report in `format`; `rules` are described in SARIF and JUnit. Text is coloured only when `color`. */
export function renderReport(
  report: Report,
  format: ReportFormat,
  config: Config,
  options: { rules?: readonly AnyRule[]; gate?: ReleaseGateOptions; color?: boolean } = {},
): string {
  const selected = (options.rules ?? allRules).filter((r) => config.ruleIds.includes(r.id));
  const { failOn } = config;
  const gate = options.gate ?? {};
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'markdown':
      return renderMarkdown(report, { failOn });
    case 'sarif':
      return renderSarif(report, selected, { artifactUri: gate.sarifArtifact });
    case 'junit':
      return renderJunit(report, selected, failOn);
    default: {
      // The terminal report shows what gates; baselined findings are counted in one line (JSON has them).
      const gated = withoutBaselined(report);
      const known = report.findings.length - gated.findings.length;
      const text = renderText(gated, { color: options.color ?? false, failOn });
      return gate.baseline && known > 0 ? `${text}${known} baselined finding${known === 1 ? '' : 's'} (in ${gate.baseline}) not shown; --format json lists them\n` : text;
    }
  }
}

/** Renders the report on stdout in the configured format. */
export function printReport(report: Report, config: Config, io: CliIo, rules: readonly AnyRule[] = allRules, gate: ReleaseGateOptions = {}): void {
  io.stdout.write(renderReport(report, config.format, config, { rules, gate, color: colorEnabled(io.stdout, io.env) }));
}

/** 2 when a rule crashed or a source a rule needs failed, 1 when findings reach --fail-on (baselined ones excluded), else 0. */
export function checkExitCode(report: Report, config: Config, io: CliIo): number {
  const failedSources = sourceFailureLines(report);
  for (const line of failedSources) io.stderr.write(`${line}\n`);
  const crashed = crashedRules(report);
  if (crashed > 0) {
    io.stderr.write(`pg-advisor: ${crashed} rule(s) crashed; the report above is incomplete (see its diagnostics)\n`);
    io.stderr.write('  hint: this is a bug in pg-advisor; please report it with the JSON report (--format json)\n');
  }
  if (crashed > 0 || failedSources.length > 0) return EXIT.ERROR;
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
  for (const output of outputs) writeOutputFile(output.path, renderReport(report, output.format, config, { rules, gate }));
  return checkExitCode(report, config, io);
}
