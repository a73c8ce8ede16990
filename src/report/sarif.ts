/**
 * SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer): rule metadata with help from the rule
 * docs, one result per finding with the finding's stable fingerprint.
 *
 * Locations: a database object is not a line in a file, but code scanning shows only results that have
 * a physical location. Each result therefore carries a logical location (the object: `public.orders`,
 * kind `table`) and a physical one whose artifact is `options.artifactUri` — by default
 * `postgresql/<database>`, a stable pseudo-path per target database (alerts then stay matched across
 * runs; GitHub shows them without a code snippet). Point it at a real file with `--sarif-artifact`
 * (e.g. `db/schema.sql` or `migrations/`) to have alerts open the code that defines the schema.
 */
import type { AnyRule, Finding, FindingObject, Severity } from '../engine/types.js';
import { baselineStateOf } from './baseline.js';
import { formatObject } from './format-values.js';
import type { Report, ReportDiagnostic } from './types.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const INFORMATION_URI = 'https://www.npmjs.com/package/pg-advisor';

type SarifLevel = 'error' | 'warning' | 'note';

const LEVELS: Record<Severity, SarifLevel> = { critical: 'error', warning: 'warning', info: 'note' };

export interface SarifRenderOptions {
  /** Relative URI of the artifact results point at (`--sarif-artifact`); default `postgresql/<database>`. */
  readonly artifactUri?: string;
}

/** The parts of a SARIF log we produce (a subset of the 2.1.0 schema). */
export interface SarifLog {
  readonly $schema: string;
  readonly version: '2.1.0';
  readonly runs: readonly [SarifRun];
}

interface SarifMessage {
  readonly text: string;
  readonly markdown?: string;
}

interface SarifRule {
  readonly id: string;
  readonly name: string;
  readonly shortDescription: SarifMessage;
  readonly fullDescription: SarifMessage;
  readonly help: { readonly text: string; readonly markdown: string };
  readonly helpUri?: string;
  readonly defaultConfiguration: { readonly level: SarifLevel };
  readonly properties: { readonly tags: readonly string[]; readonly category: string };
}

interface SarifResult {
  readonly ruleId: string;
  readonly ruleIndex: number;
  readonly level: SarifLevel;
  readonly message: SarifMessage;
  readonly locations: readonly unknown[];
  readonly partialFingerprints: Readonly<Record<string, string>>;
  readonly baselineState?: 'new' | 'unchanged' | 'updated';
  readonly properties: Readonly<Record<string, unknown>>;
}

interface SarifRun {
  readonly tool: {
    readonly driver: {
      readonly name: string;
      readonly version: string;
      readonly semanticVersion: string;
      readonly informationUri: string;
      readonly rules: readonly SarifRule[];
    };
  };
  readonly invocations: readonly unknown[];
  readonly results: readonly SarifResult[];
  readonly properties: Readonly<Record<string, unknown>>;
}

/**
 * The SARIF log of a report. `rules` are the rules that were selected for the run (evaluated, skipped
 * or crashed): each becomes a `reportingDescriptor`; skipped and crashed ones also appear as tool
 * notifications, so an empty result list never hides a rule that could not run. Pure.
 */
export function buildSarif(report: Report, rules: readonly AnyRule[], options: SarifRenderOptions = {}): SarifLog {
  const descriptors = rules.map(describe);
  const index = new Map(descriptors.map((d, i) => [d.id, i]));
  // A finding of a rule the caller did not pass still needs a descriptor for ruleIndex.
  for (const f of report.findings) {
    if (!index.has(f.rule)) {
      index.set(f.rule, descriptors.length);
      descriptors.push(describeUnknown(f));
    }
  }
  const artifactUri =
    options.artifactUri !== undefined ? artifactUriOf(options.artifactUri) : `postgresql/${encodeURIComponent(report.target.database || 'database')}`;
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'pg-advisor',
            version: report.generator.version,
            semanticVersion: report.generator.version,
            informationUri: INFORMATION_URI,
            rules: descriptors,
          },
        },
        invocations: [
          {
            executionSuccessful: report.diagnostics.every((d) => d.status !== 'error'),
            toolExecutionNotifications: report.diagnostics.map(notification),
          },
        ],
        results: report.findings.map((f) => result(f, index.get(f.rule) ?? 0, artifactUri, report.target.database)),
        properties: {
          database: report.target.database,
          serverVersion: report.target.serverVersion,
          collectedAt: report.collectedAt,
        },
      },
    ],
  };
}

/** `buildSarif` as pretty-printed JSON, newline-terminated. */
export function renderSarif(report: Report, rules: readonly AnyRule[], options: SarifRenderOptions = {}): string {
  return `${JSON.stringify(buildSarif(report, rules, options), null, 2)}\n`;
}

function describe(rule: AnyRule): SarifRule {
  const { summary, why, fix, falsePositives } = rule.docs;
  const thresholds = Object.entries(rule.thresholds).map(([key, spec]) => `${key} (default ${spec.default}): ${spec.description}`);
  const text = [
    summary,
    `Why it matters: ${why}`,
    `How to fix it: ${fix}`,
    `False positives: ${falsePositives}`,
    ...(thresholds.length > 0 ? [`Thresholds: ${thresholds.join(' ')}`] : []),
  ].join('\n\n');
  const markdown = [
    `**${rule.title}** (\`${rule.id}\`, ${rule.category})`,
    summary,
    `### Why it matters\n\n${why}`,
    `### How to fix it\n\n${fix}`,
    `### False positives\n\n${falsePositives}`,
    ...(thresholds.length > 0
      ? [
          `### Thresholds\n\n${Object.entries(rule.thresholds)
            .map(([k, s]) => `- \`${k}\` (default ${s.default}): ${s.description}`)
            .join('\n')}`,
        ]
      : []),
    `Thresholds are set per rule in the config file; \`pg-advisor rules ${rule.id}\` prints this page.`,
  ].join('\n\n');
  return {
    id: rule.id,
    name: pascalCase(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: summary },
    help: { text, markdown },
    defaultConfiguration: { level: LEVELS[rule.defaultSeverity] },
    properties: { tags: ['postgresql', 'pg-advisor', rule.category], category: rule.category },
  };
}

function describeUnknown(finding: Finding): SarifRule {
  return {
    id: finding.rule,
    name: pascalCase(finding.rule),
    shortDescription: { text: finding.title },
    fullDescription: { text: finding.title },
    help: { text: finding.title, markdown: finding.title },
    defaultConfiguration: { level: LEVELS[finding.severity] },
    properties: { tags: ['postgresql', 'pg-advisor'], category: 'unknown' },
  };
}

function result(f: Finding, ruleIndex: number, artifactUri: string, database: string): SarifResult {
  const object = formatObject(f.object);
  const state = baselineStateOf(f);
  const fix = f.recommendation.sql ? `${f.recommendation.text}\n${f.recommendation.sql}` : f.recommendation.text;
  return {
    ruleId: f.rule,
    ruleIndex,
    level: LEVELS[f.severity],
    message: { text: `${object}: ${f.summary}\nFix: ${fix}` },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: artifactUri }, region: { startLine: 1 } },
        logicalLocations: [logicalLocation(f.object, database)],
      },
    ],
    partialFingerprints: { 'pgAdvisorFingerprint/v1': f.fingerprint },
    ...(state === null ? {} : { baselineState: state === 'new' ? 'new' : state === 'escalated' ? 'updated' : 'unchanged' }),
    properties: {
      severity: f.severity,
      object: f.object,
      evidence: f.evidence,
      ...(f.recommendation.sql ? { sql: f.recommendation.sql } : {}),
      ...(state === null ? {} : { baselined: state === 'baselined' }),
    },
  };
}

/** `public.orders` (kind table), `public.orders_pkey` (kind index), the query id, the database … */
function logicalLocation(object: FindingObject, database: string): { name: string; fullyQualifiedName: string; kind: string } {
  const name = object.type === 'query' ? (object.queryId ?? object.name ?? '?') : (object.name ?? '?');
  const qualified = object.schema ? `${object.schema}.${name}` : name;
  return { name, fullyQualifiedName: `${database}/${qualified}`, kind: object.type };
}

function notification(d: ReportDiagnostic): Record<string, unknown> {
  const subject = d.rule ? { associatedRule: { id: d.rule } } : {};
  return {
    level: d.status === 'error' ? 'error' : d.status === 'info' ? 'note' : 'warning',
    message: { text: d.hint ? `${d.message} (hint: ${d.hint})` : d.message },
    ...subject,
    properties: { status: d.status, ...(d.source ? { source: d.source } : {}) },
  };
}

/** A repository path as a relative URI reference: `/` separators, no leading `./`, spaces and non-ASCII percent-encoded. */
export function artifactUriOf(path: string): string {
  return encodeURI(path.replace(/\\/g, '/').replace(/^(\.\/)+/, ''));
}

function pascalCase(id: string): string {
  return id
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
