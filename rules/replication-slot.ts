import { defineRule } from '../src/engine/define-rule.js';
import type { FindingDraft, Severity } from '../src/engine/types.js';
import type { ReplicationSlot } from '../src/snapshot/types.js';
import { quoteLiteral } from '../src/sql/quote.js';
import { formatBytes, formatCount, formatDuration } from './_lib/format.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

type Reason = 'inactive' | 'wal-retained' | 'wal-unreserved' | 'lost' | 'xmin-held';

export default defineRule({
  id: 'replication-slot',
  title: 'Replication slot retaining WAL or holding back vacuum',
  category: 'storage',
  defaultSeverity: 'warning',
  requires: ['replication'],
  thresholds: {
    warningRetainedBytes: { default: 1 * GiB, description: 'Warning when a slot keeps at least this much WAL (bytes).' },
    criticalRetainedBytes: { default: 5 * GiB, description: 'Critical when a slot keeps at least this much WAL (bytes).' },
    inactiveRetainedBytes: {
      default: 64 * MiB,
      description: 'An inactive slot (no consumer connected) is reported once it keeps at least this much WAL (bytes) or holds an xmin.',
    },
    minInactiveSeconds: {
      default: 300,
      description:
        'On PostgreSQL 17+, an inactive slot is reported only after it has been inactive this long (seconds): a consumer reconnecting is not a finding.',
    },
    warningXminAge: { default: 10_000_000, description: "Warning when the slot's xmin or catalog_xmin is this old (transactions)." },
    criticalXminAge: { default: 100_000_000, description: "Critical when the slot's xmin or catalog_xmin is this old (transactions)." },
  },
  docs: {
    summary:
      'Finds replication slots whose consumer is gone or behind: inactive slots, slots keeping a lot of ' +
      'WAL, slots about to be or already invalidated (wal_status unreserved/lost), and slots whose xmin or ' +
      'catalog_xmin holds back vacuum.',
    why:
      'A slot keeps every WAL segment its consumer has not confirmed: a decommissioned standby or a ' +
      'deleted subscription leaves a slot that fills the WAL disk until PostgreSQL stops. A slot with an ' +
      "xmin (hot_standby_feedback) or a logical slot's catalog_xmin also holds back the xmin horizon, so " +
      'vacuum removes nothing newer and tables bloat towards transaction-ID wraparound.',
    fix:
      "If the consumer is gone, drop the slot (SELECT pg_drop_replication_slot('name')); otherwise bring " +
      'the consumer back or find why it lags (network, a long transaction on the subscriber, a stuck apply ' +
      'worker). Set max_slot_wal_keep_size so a stuck slot is invalidated before it fills the disk.',
    falsePositives:
      'Slots are cluster-wide: the same slot is reported for each database of the cluster that is checked. ' +
      'An inactive slot counts only once it keeps {inactiveRetainedBytes} of WAL or holds an xmin and, on PostgreSQL 17+ ' +
      '(inactive_since), after {minInactiveSeconds} of inactivity; before 17 a consumer reconnecting with {inactiveRetainedBytes} to ' +
      'catch up is reported once. WAL retention is graded at {warningRetainedBytes} (warning) and {criticalRetainedBytes} (critical), PG ' +
      "Pilot's levels; size the disk accordingly and raise them for busy logical replication. A lost or " +
      'invalidated slot is a warning: it keeps no WAL, but its consumer can no longer catch up.',
  },
  evaluate({ snapshot, thresholds: t }) {
    const state = snapshot.replication;
    if (!state) return [];
    const findings: FindingDraft[] = [];
    for (const slot of state.slots) {
      const retained = slot.retainedBytes ?? 0;
      const xminAge = Math.max(slot.xminAge ?? 0, slot.catalogXminAge ?? 0);
      const lost = slot.walStatus === 'lost' || slot.invalidationReason !== null;
      const inactiveLongEnough = !slot.active && (slot.inactiveSeconds === null || slot.inactiveSeconds >= t.minInactiveSeconds);
      const reasons: Reason[] = [];
      if (!lost && inactiveLongEnough && (retained >= t.inactiveRetainedBytes || xminAge > 0)) reasons.push('inactive');
      if (retained >= t.warningRetainedBytes) reasons.push('wal-retained');
      if (slot.walStatus === 'unreserved') reasons.push('wal-unreserved');
      if (lost) reasons.push('lost');
      if (xminAge >= t.warningXminAge) reasons.push('xmin-held');
      if (reasons.length === 0) continue;
      const critical = retained >= t.criticalRetainedBytes || slot.walStatus === 'unreserved' || xminAge >= t.criticalXminAge;
      const severity: Severity = critical ? 'critical' : 'warning';
      findings.push({
        severity,
        summary: summarize(slot, reasons, retained, xminAge),
        object: { type: 'replication-slot', name: slot.name },
        evidence: {
          reasons,
          slotType: slot.type,
          database: slot.database,
          plugin: slot.plugin,
          temporary: slot.temporary,
          active: slot.active,
          activePid: slot.activePid,
          inactiveSeconds: slot.inactiveSeconds,
          retainedBytes: slot.retainedBytes,
          walStatus: slot.walStatus,
          safeWalSizeBytes: slot.safeWalSizeBytes,
          maxSlotWalKeepSizeBytes: state.maxSlotWalKeepSizeBytes,
          xminAge: slot.xminAge,
          catalogXminAge: slot.catalogXminAge,
          invalidationReason: slot.invalidationReason,
        },
        recommendation: recommend(slot, lost, state.maxSlotWalKeepSizeBytes),
        impact: { retainedBytes: retained },
      });
    }
    return findings;
  },
});

function summarize(slot: ReplicationSlot, reasons: readonly Reason[], retained: number, xminAge: number): string {
  const parts: string[] = [];
  if (reasons.includes('lost')) parts.push(`is invalidated (${slot.invalidationReason ?? 'wal_status lost'}): its consumer can no longer catch up`);
  if (reasons.includes('inactive'))
    parts.push(`has no consumer connected${slot.inactiveSeconds === null ? '' : ` for ${formatDuration(slot.inactiveSeconds)}`}`);
  if (retained > 0 && !reasons.includes('lost')) parts.push(`keeps ${formatBytes(retained)} of WAL`);
  if (reasons.includes('wal-unreserved')) parts.push('is past max_slot_wal_keep_size and will be invalidated at the next checkpoint');
  if (xminAge > 0 && (reasons.includes('xmin-held') || reasons.includes('inactive'))) parts.push(`holds back vacuum (xmin age ${formatCount(xminAge)})`);
  return `Replication slot ${quoteLiteral(slot.name)} (${slot.type}${slot.database ? `, database ${slot.database}` : ''}) ${parts.join(', ')}.`;
}

function recommend(slot: ReplicationSlot, lost: boolean, keepBytes: number | null): { text: string; sql?: string } {
  const keep =
    keepBytes === null
      ? " Set max_slot_wal_keep_size (ALTER SYSTEM SET max_slot_wal_keep_size = '…'; SELECT pg_reload_conf();) so a stuck slot cannot fill the disk."
      : '';
  if (slot.active && !lost) {
    return {
      text:
        `Its consumer (pid ${slot.activePid ?? '?'}) is connected but behind: check its lag, network and ` +
        `apply errors, and long transactions on the subscriber.${keep}`,
    };
  }
  return {
    text:
      (lost
        ? 'Re-create the consumer from a fresh base backup or initial sync, then drop'
        : 'If its consumer is gone (a decommissioned standby, a dropped subscription), drop') + ` the slot; otherwise bring the consumer back.${keep}`,
    sql: `SELECT pg_drop_replication_slot(${quoteLiteral(slot.name)});`,
  };
}
