/**
 * Planted schemas and workloads for the query-rule integration tests (n-plus-one, missing-index): the
 * demo scenarios' implementation (src/demo/scenarios/query-workloads.ts), so demo and tests plant alike.
 * Every statement runs through `pg` with bound parameters, like an application driver.
 */
export {
  apiRequest,
  batchedFeed,
  belongsToLoop,
  hasManyLoop,
  hotLookups,
  INDEX_SCHEMA_SQL,
  LOOP_SCHEMA_SQL,
  TEXTS,
} from '../../src/demo/scenarios/query-workloads.js';
