/**
 * The rule registry: every rule, in report order for equal severity and impact. Adding a rule is one
 * import and one line in `allRules` (the parity test checks both, plus tests and docs).
 */
import type { AnyRule } from '../src/engine/types.js';
import duplicateIndex from './duplicate-index.js';
import fkWithoutIndex from './fk-without-index.js';
import idleInTransaction from './idle-in-transaction.js';
import indexBloat from './index-bloat.js';
import invalidIndex from './invalid-index.js';
import lockContention from './lock-contention/index.js';
import longRunningTransaction from './long-running-transaction.js';
import missingIndex from './missing-index/index.js';
import nPlusOne from './n-plus-one/index.js';
import poolExhaustion from './pool-exhaustion/index.js';
import replicationSlot from './replication-slot.js';
import sequenceExhaustion from './sequence-exhaustion/index.js';
import staleStatistics from './stale-statistics.js';
import tableBloat from './table-bloat.js';
import unusedIndex from './unused-index.js';
import vacuumLag from './vacuum-lag.js';
import xidWraparound from './xid-wraparound.js';

export const allRules: readonly AnyRule[] = [
  tableBloat,
  indexBloat,
  invalidIndex,
  duplicateIndex,
  unusedIndex,
  vacuumLag,
  staleStatistics,
  xidWraparound,
  replicationSlot,
  poolExhaustion,
  idleInTransaction,
  longRunningTransaction,
  lockContention,
  nPlusOne,
  missingIndex,
  fkWithoutIndex,
  sequenceExhaustion,
];
