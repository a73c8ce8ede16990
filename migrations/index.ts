/**
 * The store's migrations, in order. Static on purpose: works the same under tsc output, tsx, vitest and
 * bundlers (no folder scanning). A merged migration is never edited; add a new one.
 */
import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_create_targets.js';
import * as m0002 from './0002_create_samples.js';
import * as m0003 from './0003_create_findings.js';
import * as m0004 from './0004_create_audits.js';
import * as m0005 from './0005_create_target_leases.js';
import * as m0006 from './0006_create_rollups.js';
import * as m0007 from './0007_create_outbox.js';
import * as m0008 from './0008_create_sample_checkpoints.js';
import * as m0009 from './0009_index_series_hourly_by_time.js';

export const migrations: Readonly<Record<string, Migration>> = {
  '0001_create_targets': m0001,
  '0002_create_samples': m0002,
  '0003_create_findings': m0003,
  '0004_create_audits': m0004,
  '0005_create_target_leases': m0005,
  '0006_create_rollups': m0006,
  '0007_create_outbox': m0007,
  '0008_create_sample_checkpoints': m0008,
  '0009_index_series_hourly_by_time': m0009,
};
