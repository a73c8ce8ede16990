/**
 * The audit message's words, independent of the platform: headline, counts line, section titles and
 * one line per finding. A `Markup` (Slack mrkdwn, Markdown for Discord and Teams, plain text) turns them
 * into the platform's syntax and escapes every text that came from the database. Pure.
 */
import { SEVERITIES, type Severity } from '../engine/types.js';
import { totalOpen } from './audit.js';
import { clip, type FitSection } from './truncate.js';
import type { AuditDigest, DigestItem } from './types.js';

export interface Markup {
  /** Escapes text from the database (identifiers, summaries) so it renders literally. */
  readonly escape: (text: string) => string;
  readonly bold: (escaped: string) => string;
  readonly link: (escapedLabel: string, url: string) => string;
  /** Renders a database identifier literally (inline code where the platform has it); escapes itself. */
  readonly code: (raw: string) => string;
}

export const PLAIN: Markup = { escape: (t) => t, bold: (t) => t, link: (label, url) => `${label} (${url})`, code: (t) => t };

/** Longest summary shown per finding (characters); the finding's page has the rest. */
const SUMMARY_MAX = 280;
const OBJECT_MAX = 160;

export const SEVERITY_MARK: Readonly<Record<Severity, string>> = { critical: '🔴', warning: '🟠', info: '🔵' };

/** "pg-advisor audit · orders-db" */
export function titleOf(digest: AuditDigest): string {
  return `pg-advisor audit · ${digest.target}`;
}

/** The one line a notification shows: what changed, or "nothing new". Plain text. */
export function headlineOf(digest: AuditDigest): string {
  const open = totalOpen(digest);
  const openText = open === 0 ? 'no open findings' : `${open} open (${openBreakdown(digest)})`;
  const threshold = digest.minSeverity === 'info' ? '' : ` at/above ${digest.minSeverity}`;
  if (digest.firstAudit) return `${titleOf(digest)}: first audit, ${openText}${threshold}.`;
  if (digest.unchanged) return `${titleOf(digest)}: nothing new since the last audit; ${openText}${threshold}.`;
  const changes = [
    digest.counts.new > 0 ? `${digest.counts.new} new` : null,
    digest.counts.escalated > 0 ? `${digest.counts.escalated} escalated` : null,
    digest.counts.resolved > 0 ? `${digest.counts.resolved} resolved` : null,
  ].filter((c): c is string => c !== null);
  return `${titleOf(digest)}: ${changes.join(', ')}; ${openText}${threshold}.`;
}

/** "2 critical, 5 warning, 7 info" (only non-zero severities). */
export function openBreakdown(digest: AuditDigest): string {
  return [...SEVERITIES]
    .reverse()
    .filter((s) => digest.counts.open[s] > 0)
    .map((s) => `${digest.counts.open[s]} ${s}`)
    .join(', ');
}

/** The counts under the title, as plain parts joined by " · " on each platform. */
export function contextParts(digest: AuditDigest): string[] {
  const parts = [
    digest.firstAudit ? 'first audit' : `${digest.counts.new} new · ${digest.counts.escalated} escalated · ${digest.counts.resolved} resolved`,
    `open: ${openBreakdown(digest) || 'none'}`,
    digest.minSeverity === 'info' ? null : `at/above ${digest.minSeverity}`,
    digest.auditedAt ? `audited ${digest.auditedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}` : null,
  ];
  return parts.filter((p): p is string => p !== null);
}

/** Sections in reading order: new, escalated, resolved, then still open by severity (critical first). */
export function sectionsOf(digest: AuditDigest, markup: Markup): FitSection[] {
  const lines = (items: readonly DigestItem[], kind: 'change' | 'resolved' | 'open'): string[] => items.map((i) => itemLine(i, markup, kind));
  return [
    { key: 'new', title: `🆕 New (${digest.new.length})`, lines: lines(digest.new, 'change') },
    { key: 'escalated', title: `⬆️ Escalated (${digest.escalated.length})`, lines: lines(digest.escalated, 'change') },
    { key: 'resolved', title: `✅ Resolved (${digest.resolved.length})`, lines: lines(digest.resolved, 'resolved') },
    ...digest.stillOpen.map((g) => ({
      key: `open-${g.severity}`,
      title: `${SEVERITY_MARK[g.severity]} ${digest.firstAudit ? 'Open' : 'Still open'} — ${g.severity} (${g.items.length})`,
      lines: lines(g.items, 'open'),
    })),
  ].filter((s) => s.lines.length > 0);
}

/**
 * One finding: "🔴 *missing-index* · table public.orders (customer_id) · db time share 42 % · critical (was warning) · details"
 * then its summary on the next line. Resolved findings skip the summary (it described the old state).
 */
export function itemLine(item: DigestItem, markup: Markup, kind: 'change' | 'resolved' | 'open'): string {
  const parts = [`${SEVERITY_MARK[item.severity]} ${markup.bold(markup.escape(item.rule))}`, markup.code(clip(item.object, OBJECT_MAX))];
  if (item.keyNumber && kind !== 'resolved') parts.push(markup.escape(item.keyNumber));
  if (item.previousSeverity) {
    parts.push(kind === 'resolved' ? `eased to ${item.severity}` : `${item.severity} (was ${item.previousSeverity})`);
  }
  if (item.url) parts.push(markup.link('details', item.url));
  const head = parts.join(' · ');
  return kind === 'resolved' ? head : `${head}\n${markup.escape(clip(item.summary, SUMMARY_MAX))}`;
}

/** Severity of a section for platform colours: the change sections take their worst item's severity. */
export function sectionSeverity(key: string, digest: AuditDigest): Severity | 'resolved' {
  if (key.startsWith('open-')) return key.slice(5) as Severity;
  if (key === 'resolved') return 'resolved';
  const items = key === 'new' ? digest.new : digest.escalated;
  return items.some((i) => i.severity === 'critical') ? 'critical' : items.some((i) => i.severity === 'warning') ? 'warning' : 'info';
}
