import rule from '../../rules/replication-slot.js';
import type { ReplicationSlot } from '../../src/snapshot/types.js';
import { GiB, MiB, makeReplicationState, makeSlot, makeSnapshot } from '../support/builders.js';
import { ruleTester } from '../support/rule-tester.js';

const snap = (slots: ReplicationSlot[], maxSlotWalKeepSizeBytes: number | null = null) =>
  makeSnapshot({ replication: makeReplicationState({ slots, maxSlotWalKeepSizeBytes }) });
const inactive = (o: Partial<ReplicationSlot> = {}) =>
  makeSlot({ name: 'old_standby', active: false, activePid: null, retainedBytes: 64 * MiB, inactiveSeconds: 300, ...o });
const logical = (o: Partial<ReplicationSlot> = {}) =>
  makeSlot({ name: 'cdc', type: 'logical', plugin: 'pgoutput', database: 'app', catalogXminAge: 1_000, ...o });

ruleTester(rule, {
  valid: [
    { name: 'an active standby slot keeping a little WAL', snapshot: snap([makeSlot()]) },
    { name: 'no slots', snapshot: snap([]) },
    { name: 'a snapshot from before the replication source', snapshot: makeSnapshot({ replication: null }) },
    { name: 'an active slot just under 1 GiB retained', snapshot: snap([makeSlot({ retainedBytes: GiB - 1 })]) },
    { name: 'an inactive slot keeping just under 64 MiB and no xmin', snapshot: snap([inactive({ retainedBytes: 64 * MiB - 1 })]) },
    { name: 'an inactive slot that reserves no WAL yet', snapshot: snap([inactive({ retainedBytes: null, walStatus: null, inactiveSeconds: 99_999 })]) },
    { name: 'a consumer reconnecting (inactive just under 5 minutes, PG17+)', snapshot: snap([inactive({ inactiveSeconds: 299, retainedBytes: 500 * MiB })]) },
    { name: 'an active logical slot with a young catalog_xmin', snapshot: snap([logical({ catalogXminAge: 9_999_999 })]) },
    {
      name: 'a raised retention threshold silences 2 GiB',
      snapshot: snap([makeSlot({ retainedBytes: 2 * GiB })]),
      thresholds: { warningRetainedBytes: 3 * GiB },
    },
  ],
  invalid: [
    {
      name: 'an inactive slot at exactly 64 MiB after exactly 5 minutes',
      snapshot: snap([inactive()]),
      findings: [
        {
          severity: 'warning',
          object: { type: 'replication-slot', name: 'old_standby' },
          evidence: {
            reasons: ['inactive'],
            slotType: 'physical',
            active: false,
            inactiveSeconds: 300,
            retainedBytes: 64 * MiB,
            maxSlotWalKeepSizeBytes: null,
          },
        },
      ],
      renumbered: { snapshot: snap([inactive({ retainedBytes: 3 * GiB, inactiveSeconds: 86_400 })]) },
    },
    {
      name: 'an inactive slot before PostgreSQL 17 (inactive time unknown)',
      snapshot: snap([inactive({ inactiveSeconds: null })]),
      findings: [{ severity: 'warning', object: { name: 'old_standby' }, evidence: { inactiveSeconds: null } }],
    },
    {
      name: 'an inactive logical slot holding a catalog_xmin keeps vacuum back even with little WAL',
      snapshot: snap([logical({ active: false, activePid: null, retainedBytes: MiB, inactiveSeconds: 600 })]),
      findings: [
        { severity: 'warning', object: { name: 'cdc' }, evidence: { reasons: ['inactive'], catalogXminAge: 1_000, database: 'app', plugin: 'pgoutput' } },
      ],
    },
    {
      name: 'an active slot keeping exactly 1 GiB',
      snapshot: snap([makeSlot({ retainedBytes: GiB })]),
      findings: [{ severity: 'warning', object: { name: 'standby_1' }, evidence: { reasons: ['wal-retained'], active: true } }],
    },
    {
      name: 'just under 5 GiB stays a warning',
      snapshot: snap([makeSlot({ retainedBytes: 5 * GiB - 1 })]),
      findings: [{ severity: 'warning', object: { name: 'standby_1' } }],
    },
    {
      name: 'critical at exactly 5 GiB',
      snapshot: snap([makeSlot({ retainedBytes: 5 * GiB })]),
      findings: [{ severity: 'critical', object: { name: 'standby_1' }, evidence: { retainedBytes: 5 * GiB } }],
    },
    {
      name: 'wal_status unreserved is critical',
      snapshot: snap([makeSlot({ walStatus: 'unreserved', safeWalSizeBytes: 0, retainedBytes: 200 * MiB })], GiB),
      findings: [
        { severity: 'critical', object: { name: 'standby_1' }, evidence: { reasons: ['wal-unreserved'], safeWalSizeBytes: 0, maxSlotWalKeepSizeBytes: GiB } },
      ],
    },
    {
      name: 'a lost slot is a warning, not also reported as inactive',
      snapshot: snap([inactive({ walStatus: 'lost', retainedBytes: null, invalidationReason: 'wal_removed', inactiveSeconds: 99_999 })]),
      findings: [{ severity: 'warning', object: { name: 'old_standby' }, evidence: { reasons: ['lost'], invalidationReason: 'wal_removed' } }],
    },
    {
      name: 'a logical slot with catalog_xmin at exactly 10M',
      snapshot: snap([logical({ catalogXminAge: 10_000_000 })]),
      findings: [{ severity: 'warning', object: { name: 'cdc' }, evidence: { reasons: ['xmin-held'] } }],
    },
    {
      name: 'a physical slot with hot_standby_feedback xmin at exactly 100M is critical',
      snapshot: snap([makeSlot({ xminAge: 100_000_000 })]),
      findings: [{ severity: 'critical', object: { name: 'standby_1' }, evidence: { reasons: ['xmin-held'], xminAge: 100_000_000 } }],
    },
    {
      name: 'one finding per slot',
      snapshot: snap([makeSlot(), inactive(), makeSlot({ name: 'standby_2', retainedBytes: 6 * GiB })]),
      findings: [
        { severity: 'warning', object: { name: 'old_standby' } },
        { severity: 'critical', object: { name: 'standby_2' }, evidence: { reasons: ['wal-retained'] } },
      ],
    },
  ],
});
