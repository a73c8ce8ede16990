import type { TargetMetrics } from './deps.js';
import type { Store } from '../store/index.js';
import { presentedState } from './target-state.js';
import { packageVersion } from '../version.js';

/** Escapes a Prometheus label value. */
const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * Prometheus text exposition (format 0.0.4): per-target sample counts, errors and durations (this
 * replica), open findings by rule and severity, store size, target state, outbox messages, build info.
 * Every family has exactly one HELP and one TYPE line, and a `_total` name is a monotonic counter.
 */
export async function renderMetrics(store: Store, targetMetrics: readonly TargetMetrics[], thisReplica?: string): Promise<string> {
  const lines: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'summary', help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  family('pg_advisor_samples_total', 'counter', 'Samples completed by this replica, per target.');
  for (const m of targetMetrics) lines.push(`pg_advisor_samples_total{target="${label(m.target)}"} ${m.samples}`);
  family('pg_advisor_sample_errors_total', 'counter', 'Samples that failed on this replica, per target.');
  for (const m of targetMetrics) lines.push(`pg_advisor_sample_errors_total{target="${label(m.target)}"} ${m.errors}`);
  // One summary family (no quantiles): rate(_sum) / rate(_count) is the mean duration of successful samples.
  family('pg_advisor_sample_duration_seconds', 'summary', 'Duration of successful samples on this replica, per target (seconds).');
  for (const m of targetMetrics) {
    lines.push(`pg_advisor_sample_duration_seconds_sum{target="${label(m.target)}"} ${m.durationSecondsSum}`);
    lines.push(`pg_advisor_sample_duration_seconds_count{target="${label(m.target)}"} ${m.samples}`);
  }
  family('pg_advisor_last_sample_duration_seconds', 'gauge', 'Duration of the last successful sample, per target (seconds).');
  for (const m of targetMetrics)
    if (m.lastDurationSeconds !== null) lines.push(`pg_advisor_last_sample_duration_seconds{target="${label(m.target)}"} ${m.lastDurationSeconds}`);

  family('pg_advisor_findings', 'gauge', 'Findings not resolved, by rule, severity and status (all targets).');
  for (const c of await store.findings.countActive()) {
    lines.push(`pg_advisor_findings{rule="${label(c.rule)}",severity="${c.severity}",status="${c.status}"} ${c.count}`);
  }
  family('pg_advisor_target_up', 'gauge', '1 when the last sample of the target succeeded and its owner still samples it (not stale).');
  const leases = await store.leases.listLeaseStates();
  for (const t of await store.targets.listTargets()) {
    const up =
      presentedState(
        t,
        leases.find((l) => l.target === t.name),
        thisReplica,
      ) === 'ok';
    lines.push(`pg_advisor_target_up{target="${label(t.name)}"} ${up ? 1 : 0}`);
  }
  // A gauge, not a counter: messages move between statuses and retention deletes them (formerly
  // pg_advisor_deliveries_total, a name that promised a counter).
  family(
    'pg_advisor_outbox_messages',
    'gauge',
    'Audit messages to chat kept in the outbox, per destination and status (pending, retrying, delivered, failed).',
  );
  for (const c of await store.outbox.countByDestination()) {
    lines.push(`pg_advisor_outbox_messages{destination="${label(c.destination)}",status="${c.status}"} ${c.count}`);
  }
  family('pg_advisor_store_bytes', 'gauge', 'Size of the store tables and indexes (bytes).');
  lines.push(`pg_advisor_store_bytes ${await store.sizeBytes()}`);
  family('pg_advisor_build_info', 'gauge', 'Always 1; the version label is the pg-advisor version serving this API.');
  lines.push(`pg_advisor_build_info{version="${label(packageVersion())}"} 1`);
  return `${lines.join('\n')}\n`;
}
