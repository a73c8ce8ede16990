import type { Snapshot } from '../snapshot/types.js';
import type { Window } from '../snapshot/window-types.js';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** critical > warning > info. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export type ObjectType = 'table' | 'index' | 'query' | 'database' | 'role' | 'application' | 'setting' | 'sequence' | 'replication-slot';

export interface FindingObject {
  readonly type: ObjectType;
  readonly schema?: string;
  readonly name?: string;
  /** pg_stat_statements queryid (string) for `query` objects. */
  readonly queryId?: string;
  readonly columns?: readonly string[];
  /** Owning table for index objects. */
  readonly table?: string;
  /**
   * How reports name the object when its identity does not read (a query id): e.g. an N+1 loop's
   * "users by id, once per row of posts". Display only: never part of the fingerprint.
   */
  readonly label?: string;
}

export type EvidenceValue = string | number | boolean | null | readonly (string | number)[] | { readonly [key: string]: EvidenceValue };

export interface FindingDraft {
  readonly severity?: Severity;
  readonly title?: string;
  readonly summary: string;
  readonly object: FindingObject;
  /** Numbers with their unit in the key (`deadTuples`, `wasteBytes`, `xactAgeSeconds`). */
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
  readonly recommendation: { readonly text: string; readonly sql?: string };
  readonly impact?: Readonly<Record<string, number>>;
  /** Extra identity for the fingerprint when the object alone is not unique (e.g. a sub-kind). */
  readonly identity?: string;
}

export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly title: string;
  readonly summary: string;
  readonly object: FindingObject;
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
  readonly recommendation: { readonly text: string; readonly sql?: string };
  readonly impact: Readonly<Record<string, number>>;
  readonly fingerprint: string;
}

export interface ThresholdSpec {
  readonly default: number;
  readonly description: string;
}

export type ThresholdSpecs = Readonly<Record<string, ThresholdSpec>>;
export type Thresholds<T extends ThresholdSpecs> = { readonly [K in keyof T]: number };

export interface RuleDocs {
  /** One sentence: what the rule detects. */
  readonly summary: string;
  /** Why it matters at scale. */
  readonly why: string;
  /** How to fix it. */
  readonly fix: string;
  /** When a finding is a false positive and what the rule does to avoid them. */
  readonly falsePositives: string;
}

export type Category = 'queries' | 'indexes' | 'storage' | 'vacuum' | 'connections';

/** A source a rule needs; when one is unavailable the rule is reported as skipped, not clean. */
export type Requirement =
  | 'settings'
  | 'statements'
  | 'activity'
  | 'databases'
  | 'roles'
  | 'tables'
  | 'indexes'
  | 'constraints'
  | 'columns'
  | 'vacuum'
  | 'bloat'
  | 'sequences'
  | 'locks'
  | 'replication';

/**
 * Live facts a rule needs beyond the collected statistics, gathered by the audit pipeline (src/audit)
 * after collection and attached to the snapshot; a rule never queries for them itself.
 * - `index-verification`: hypopg plans of the rule's index candidates (snapshot.enrichments.indexVerifications).
 */
export type Enrichment = 'index-verification';

export interface RuleInput<T extends ThresholdSpecs = ThresholdSpecs> {
  /** The latest full snapshot. Deep-frozen: rules must not mutate it. */
  readonly snapshot: Snapshot;
  /** Samples over `--window`, or null for a single snapshot. */
  readonly window: Window | null;
  readonly thresholds: Thresholds<T>;
}

export interface RuleDefinition<T extends ThresholdSpecs = ThresholdSpecs> {
  /** kebab-case, frozen once shipped; equals the file name under rules/. */
  readonly id: string;
  readonly title: string;
  readonly category: Category;
  readonly defaultSeverity: Severity;
  readonly requires: readonly Requirement[];
  /** Enrichments the pipeline runs for this rule, with this rule's thresholds; none when absent. */
  readonly enrichments?: readonly Enrichment[];
  readonly thresholds: T;
  /** Prose; `{thresholdKey}` placeholders are filled with the defaults by defineRule. */
  readonly docs: RuleDocs;
  /** The docs as written (placeholders unfilled); set by defineRule. */
  readonly docsTemplate?: RuleDocs;
  /** Pure and synchronous: no I/O, no clock, no randomness. */
  evaluate(input: RuleInput<T>): readonly FindingDraft[];
  /**
   * What the rule could not judge in this input although its sources are ok (objects the role may not read):
   * each becomes a `degraded` diagnostic with the grant that would fix it, so a blind spot never reads as clean.
   * Pure; none when absent.
   */
  blindSpots?(input: RuleInput<T>): readonly BlindSpot[];
}

export interface BlindSpot {
  readonly message: string;
  /** The exact grant, setting or helper that would let the rule see it. */
  readonly hint: string;
}

/** A rule with its threshold type erased, as held by the registry. */
export type AnyRule = RuleDefinition<ThresholdSpecs>;

export interface Diagnostic {
  /** The source (collector) or rule the diagnostic is about. */
  readonly source?: string;
  readonly rule?: string;
  readonly status: 'unavailable' | 'skipped' | 'error' | 'degraded' | 'info';
  readonly message: string;
  readonly hint?: string;
}
