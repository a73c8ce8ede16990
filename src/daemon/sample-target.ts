import type { Target } from '../collector/api.js';
import { collectSnapshot as defaultCollect, connectTarget as defaultConnect } from '../collector/index.js';
import { maskUrl } from '../collector/mask-url.js';
import type { DaemonTargetConfig } from '../config/daemon/index.js';
import { evaluateRules } from '../engine/evaluate.js';
import type { AnyRule, Diagnostic } from '../engine/types.js';
import type { Snapshot } from '../snapshot/types.js';
import type { Sample } from '../snapshot/window-types.js';
import { buildWindow } from '../snapshot/window.js';
import { redact } from '../sql/redact.js';
import type { LifecycleChanges, Store } from '../store/index.js';
import { buildSeries, selectStatements } from './series.js';

export interface SamplerDeps {
  readonly connectTarget: typeof defaultConnect;
  readonly collectSnapshot: typeof defaultCollect;
}

export interface SampleOutcome {
  readonly collectedAt: string;
  readonly durationMs: number;
  readonly findings: number;
  readonly changes: LifecycleChanges;
  readonly diagnostics: readonly Diagnostic[];
  readonly serverVersion: string;
}

export interface TargetSampler {
  readonly name: string;
  /** Connects if needed, collects, diffs against the previous sample, evaluates and stores. Throws on failure. */
  sample(): Promise<SampleOutcome>;
  /**
   * Runs `body` on this target's open pool (connecting if needed), so audits share the sampler's
   * connections and never exceed the per-target connection cap.
   */
  withTarget<T>(body: (target: Target) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface TargetSamplerOptions {
  readonly store: Store;
  readonly targetId: number;
  readonly config: DaemonTargetConfig;
  readonly rules: readonly AnyRule[];
  readonly resolveAfterMisses: number;
  readonly deps?: Partial<SamplerDeps>;
}

/**
 * One target's sampling job. Keeps the target's bounded pool open between samples (so the collector's
 * per-target text cache survives) and drops it after a failure. The previous sample lives in memory:
 * after a restart the first sample has gauges only and counter-based rules wait for the second.
 */
export function createTargetSampler(options: TargetSamplerOptions): TargetSampler {
  const { store, targetId, config } = options;
  const connect = options.deps?.connectTarget ?? defaultConnect;
  const collect = options.deps?.collectSnapshot ?? defaultCollect;
  const rules = options.rules.filter((r) => config.ruleIds.includes(r.id));
  const storedTexts = new Set<string>();
  let target: Target | null = null;
  let previous: Snapshot | null = null;

  async function ensure(): Promise<Target> {
    try {
      target ??= await connect({
        url: config.url,
        statementTimeoutMs: config.statementTimeoutMs,
        connectTimeoutMs: config.connectTimeoutMs,
        maxConnections: config.maxConnections,
      });
      return target;
    } catch (error) {
      throw scrubbed(error, config.url);
    }
  }

  async function drop(): Promise<void> {
    const t = target;
    target = null;
    await t?.close().catch(() => {});
  }

  return {
    name: config.name,
    async sample() {
      const started = Date.now();
      let snapshot: Snapshot;
      try {
        snapshot = await collect(await ensure());
      } catch (error) {
        await drop();
        throw scrubbed(error, config.url);
      }
      const prev = previous;
      const intervalSeconds = prev ? (Date.parse(snapshot.meta.collectedAt) - Date.parse(prev.meta.collectedAt)) / 1000 : null;
      const window = prev && intervalSeconds !== null && intervalSeconds > 0 ? buildWindow([toSample(prev, 0), toSample(snapshot, intervalSeconds)]) : null;
      const evaluation = evaluateRules({ rules, snapshot, window, settings: config.ruleSettings });
      const statements = selectStatements(window);
      const texts = new Map(snapshot.statements.map((s) => [s.queryId, s.query]));
      const queryTexts = statements
        .filter((s) => !storedTexts.has(s.queryId) && texts.get(s.queryId))
        .map((s) => ({ queryId: s.queryId, text: redact(texts.get(s.queryId) ?? '', { maxLength: 8000 }) }));
      const collectedAt = new Date(snapshot.meta.collectedAt);
      const diagnostics = [...sourceDiagnostics(snapshot), ...evaluation.diagnostics];
      await store.samples.recordSample({
        targetId,
        collectedAt,
        durationMs: Date.now() - started,
        intervalSeconds,
        findings: evaluation.findings.length,
        diagnostics,
        series: buildSeries(snapshot, window),
        statements,
        queryTexts,
      });
      for (const t of queryTexts) storedTexts.add(t.queryId);
      const changes = await store.findings.applySample(targetId, collectedAt, evaluation.findings, evaluation.evaluated, {
        resolveAfterMisses: options.resolveAfterMisses,
      });
      previous = snapshot;
      return {
        collectedAt: snapshot.meta.collectedAt,
        durationMs: Date.now() - started,
        findings: evaluation.findings.length,
        changes,
        diagnostics,
        serverVersion: snapshot.meta.serverVersion,
      };
    },
    async withTarget(body) {
      return body(await ensure());
    },
    close: drop,
  };
}

function toSample(snapshot: Snapshot, elapsedSeconds: number): Sample {
  return {
    collectedAt: snapshot.meta.collectedAt,
    elapsedSeconds,
    statements: snapshot.statements,
    activity: snapshot.activity,
    tables: snapshot.tables,
    databases: snapshot.databases,
    nextXid: snapshot.vacuum?.nextXid ?? null,
    pgssDealloc: snapshot.meta.pgssDealloc,
  };
}

function sourceDiagnostics(snapshot: Snapshot): Diagnostic[] {
  return Object.entries(snapshot.meta.sources).flatMap(([source, status]) =>
    status && status.status === 'unavailable' ? [{ source, status: 'unavailable' as const, message: status.reason, hint: status.hint }] : [],
  );
}

/** The error with the target's URL (and so its password) masked in the message. */
function scrubbed(error: unknown, url: string): Error {
  const err = error instanceof Error ? error : new Error(String(error));
  if (err.message.includes(url)) err.message = err.message.split(url).join(maskUrl(url));
  return err;
}
