/**
 * The audit digest: what changed for one target since its previous audit, compared by fingerprint.
 * Pure: no clock, no I/O. Notifiers only read findings — severities, impact and summaries are the
 * engine's; this module only sorts and compares them.
 */
import { sortFindings } from '../engine/evaluate.js';
import { SEVERITIES, severityRank, type Finding, type Severity } from '../engine/types.js';
import { formatObject } from '../report/format-values.js';
import { keyNumberOf } from '../report/markdown.js';
import type { AuditDigest, DigestGroup, DigestItem } from './types.js';

export interface AuditDigestInput {
  /** Target name as configured. */
  readonly target: string;
  /** Findings of the previous audit of this target, or null when this is its first audit. */
  readonly previous: readonly Finding[] | null;
  readonly current: readonly Finding[];
  /** Findings below this severity are left out (an escalation past it counts as escalated). */
  readonly minSeverity: Severity;
  /** e.g. `https://advisor.example.com`; links are added only when set (http or https). */
  readonly publicBaseUrl?: string;
  /** Store ids of findings by fingerprint, for the links. */
  readonly findingIds?: Readonly<Record<string, number | string>>;
  /** ISO-8601 time of the audit, shown in the message. */
  readonly auditedAt?: string;
}

export function buildAuditDigest(input: AuditDigestInput): AuditDigest {
  const min = severityRank(input.minSeverity);
  const base = normaliseBaseUrl(input.publicBaseUrl);
  const link = (fingerprint: string): string | null => {
    const id = input.findingIds?.[fingerprint];
    return base !== null && id !== undefined ? `${base}/api/v1/findings/${encodeURIComponent(String(id))}` : null;
  };
  const toItem = (f: Finding, previousSeverity: Severity | null): DigestItem => ({
    fingerprint: f.fingerprint,
    rule: f.rule,
    severity: f.severity,
    previousSeverity: previousSeverity !== null && previousSeverity !== f.severity ? previousSeverity : null,
    title: f.title,
    object: formatObject(f.object),
    keyNumber: keyNumberOf(f),
    summary: f.summary,
    url: link(f.fingerprint),
  });

  const current = uniqueByFingerprint(sortFindings(input.current));
  const previous = input.previous === null ? null : byFingerprint(input.previous);
  const currentByFp = byFingerprint(current);
  const shown = current.filter((f) => severityRank(f.severity) >= min);

  const added: DigestItem[] = [];
  const escalated: DigestItem[] = [];
  const still: DigestItem[] = [];
  for (const f of shown) {
    const before = previous?.get(f.fingerprint);
    if (previous === null) still.push(toItem(f, null));
    else if (!before) added.push(toItem(f, null));
    else if (severityRank(f.severity) > severityRank(before.severity)) escalated.push(toItem(f, before.severity));
    else still.push(toItem(f, before.severity));
  }

  const resolved: DigestItem[] = [];
  if (previous !== null) {
    for (const before of sortFindings([...previous.values()])) {
      if (severityRank(before.severity) < min) continue;
      const now = currentByFp.get(before.fingerprint);
      if (!now) resolved.push(toItem(before, null));
      else if (severityRank(now.severity) < min) resolved.push(toItem(now, before.severity));
    }
  }

  const open = Object.fromEntries(SEVERITIES.map((s) => [s, shown.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  const stillOpen: DigestGroup[] = [...SEVERITIES]
    .reverse()
    .map((severity) => ({ severity, items: still.filter((i) => i.severity === severity) }))
    .filter((g) => g.items.length > 0);

  return {
    version: 1,
    target: input.target,
    auditedAt: input.auditedAt ?? null,
    minSeverity: input.minSeverity,
    firstAudit: previous === null,
    unchanged: previous !== null && added.length === 0 && escalated.length === 0 && resolved.length === 0,
    counts: { open, new: added.length, escalated: escalated.length, resolved: resolved.length },
    new: added,
    escalated,
    resolved,
    stillOpen,
    auditsUrl: base === null ? null : `${base}/api/v1/targets/${encodeURIComponent(input.target)}/audits`,
  };
}

export interface SendDecisionOptions {
  /** Stay quiet when nothing changed (default false: send the one-line "nothing new" message). */
  readonly quietWhenUnchanged?: boolean;
}

/** Whether an audit message should be sent at all. */
export function shouldSendDigest(digest: AuditDigest, options: SendDecisionOptions = {}): boolean {
  return !(digest.unchanged && options.quietWhenUnchanged === true);
}

/** Total open findings at/above the digest's minimum severity. */
export function totalOpen(digest: AuditDigest): number {
  return SEVERITIES.reduce((sum, s) => sum + digest.counts.open[s], 0);
}

function normaliseBaseUrl(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
    return parsed.href.replace(/\/+$/, '');
  } catch {
    return null;
  }
}

function byFingerprint(findings: readonly Finding[]): Map<string, Finding> {
  const map = new Map<string, Finding>();
  for (const f of findings) {
    const seen = map.get(f.fingerprint);
    if (!seen || severityRank(f.severity) > severityRank(seen.severity)) map.set(f.fingerprint, f);
  }
  return map;
}

function uniqueByFingerprint(sorted: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return sorted.filter((f) => (seen.has(f.fingerprint) ? false : (seen.add(f.fingerprint), true)));
}
