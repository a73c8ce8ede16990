import type { Target } from '../collector/api.js';
import { collectSnapshot as defaultCollect, connectTarget as defaultConnect } from '../collector/index.js';
import { scrubTargetError } from '../secrets/index.js';
import type { DaemonTargetConfig } from '../config/daemon/index.js';
import { runAudit, type AuditResult } from '../audit/index.js';
import type { Logger } from '../logger.js';
import { packageVersion } from '../version.js';
import type { AnyRule, Diagnostic } from '../engine/types.js';
import type { Snapshot } from '../snapshot/types.js';
import { redact } from '../sql/redact.js';
import type { LifecycleChanges, Store } from '../store/index.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointIdentity } from './checkpoint.js';
import { lightSample, SampleHistory, type HistoryView } from './history.js';
import type { Sample as LightSample } from '../snapshot/window-types.js';
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
  /** Samples the rules saw (this one included; 1 = gauges only). */
  readonly historySamples: number;
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
  /** Closes the pool and forgets the in-memory history (the next sample reloads the store's checkpoint). */
  close(): Promise<void>;
}

export interface TargetSamplerOptions {
  readonly store: Store;
  readonly targetId: number;
  readonly config: DaemonTargetConfig;
  readonly rules: readonly AnyRule[];
  readonly resolveAfterMisses: number;
  /** pg-advisor's version for the reports (default: this package's). */
  readonly version?: string;
  readonly deps?: Partial<SamplerDeps>;
  readonly logger?: Pick<Logger, 'warn'>;
}

/**
 * One target's sampling job. Keeps the target's bounded pool open between samples (so the collector's
 * per-target text cache survives) and drops it after a failure. Rules see a Window over the target's
 * recent samples (SampleHistory: the change since the previous sample plus the history before it); the
 * store gets only the last interval's deltas and a checkpoint of the newest sample, written in the same
 * transaction, from which a restarted daemon or a replica taking the target over continues.
 */
export function createTargetSampler(options: TargetSamplerOptions): TargetSampler {
  const { store, targetId, config } = options;
  const connect = options.deps?.connectTarget ?? defaultConnect;
  const collect = options.deps?.collectSnapshot ?? defaultCollect;
  const rules = options.rules.filter((r) => config.ruleIds.includes(r.id));
  const storedTexts = new Set<string>();
  const history = new SampleHistory({ horizonMs: config.historyMs, intervalMs: config.intervalMs });
  let target: Target | null = null;
  let historyLoaded = false;

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
      throw scrubTargetError(error, config.url);
    }
  }

  async function drop(): Promise<void> {
    const t = target;
    target = null;
    await t?.close().catch(() => {
      // the pool is being discarded; the next sample connects afresh
    });
  }

  /** Seeds the history from the store's checkpoint once per ownership; a bad or foreign one is skipped. */
  async function loadHistory(identity: CheckpointIdentity): Promise<void> {
    if (historyLoaded) return;
    historyLoaded = true;
    const stored = await store.samples.findCheckpoint(targetId);
    if (!stored) return;
    try {
      const checkpoint = decodeCheckpoint(stored.payload);
      if (checkpoint.identity.database !== identity.database || checkpoint.identity.serverVersionNum !== identity.serverVersionNum) {
        options.logger?.warn({ target: config.name }, 'checkpoint is from another database or server version; first sample has gauges only');
        return;
      }
      history.seed(checkpoint.sample);
    } catch (error) {
      options.logger?.warn({ target: config.name, error: (error as Error).message }, 'checkpoint unreadable; first sample has gauges only');
    }
  }

  return {
    name: config.name,
    async sample() {
      const started = Date.now();
      let audit: AuditResult;
      let seen: { current: LightSample; view: HistoryView; identity: CheckpointIdentity } | undefined;
      try {
        audit = await runAudit(await ensure(), {
          rules,
          settings: config.ruleSettings,
          version: options.version ?? packageVersion(),
          collectors: { collectSnapshot: collect },
          history: async (snapshot) => {
            const identity: CheckpointIdentity = { database: snapshot.meta.database, serverVersionNum: snapshot.meta.serverVersionNum };
            await loadHistory(identity);
            const current = lightSample(snapshot);
            const view = history.view(current);
            seen = { current, view, identity };
            return view.window;
          },
        });
      } catch (error) {
        await drop();
        throw scrubTargetError(error, config.url);
      }
      if (!seen) throw new Error('the audit pipeline did not consult the sample history');
      const { snapshot, evaluation, window } = audit;
      const { current, identity } = seen;
      const { step, intervalSeconds } = seen.view;
      const statements = selectStatements(step);
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
        series: buildSeries(snapshot, step),
        statements,
        queryTexts,
        checkpoint: encodeCheckpoint(current, identity),
      });
      // Kept only once stored: after a failed write the next sample's delta covers both intervals.
      history.commit(current);
      for (const t of queryTexts) storedTexts.add(t.queryId);
      const changes = await store.findings.applySample(targetId, collectedAt, evaluation.findings, evaluation.evaluated, {
        resolveAfterMisses: options.resolveAfterMisses,
      });
      return {
        collectedAt: snapshot.meta.collectedAt,
        durationMs: Date.now() - started,
        findings: evaluation.findings.length,
        changes,
        diagnostics,
        serverVersion: snapshot.meta.serverVersion,
        historySamples: window ? window.samples.length : 1,
      };
    },
    async withTarget(body) {
      return body(await ensure());
    },
    async close() {
      await drop();
      // Another replica may sample the target meanwhile: start again from the store's checkpoint.
      history.clear();
      historyLoaded = false;
    },
  };
}

function sourceDiagnostics(snapshot: Snapshot): Diagnostic[] {
  return Object.entries(snapshot.meta.sources).flatMap(([source, status]) => {
    if (!status || status.status === 'ok') return [];
    // A failed source (timeout, lock, error) is an error; a missing extension or privilege is unavailable.
    const kind = status.status === 'failed' ? ('error' as const) : ('unavailable' as const);
    return [{ source, status: kind, message: status.reason, hint: status.hint }];
  });
}
