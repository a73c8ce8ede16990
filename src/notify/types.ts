/**
 * Shared types of the chat notifiers: where a message goes (Destination), what it says (AuditDigest,
 * built by audit.ts from findings, never judging them), and what a platform payload is (a JSON value).
 */
import type { Severity } from '../engine/types.js';

export const DESTINATION_KINDS = ['slack', 'teams', 'discord', 'webhook'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/**
 * A configured chat destination. `url` is a secret for Slack, Teams and Discord (the token is in the
 * path): it is never logged and never appears in a delivery error.
 */
export type Destination =
  | { readonly name: string; readonly kind: 'slack' | 'teams' | 'discord'; readonly url: string }
  | {
      readonly name: string;
      readonly kind: 'webhook';
      readonly url: string;
      /** HMAC-SHA256 key for `X-PG-Advisor-Signature`. */
      readonly secret: string;
    };

/** One finding as an audit message shows it: identity, the number that matters, a link. No evidence, no query text. */
export interface DigestItem {
  readonly fingerprint: string;
  readonly rule: string;
  readonly severity: Severity;
  /** Severity in the previous audit when it differs (escalated, eased), else null. */
  readonly previousSeverity: Severity | null;
  readonly title: string;
  /** The finding's object as a human reads it, identifiers quoted as SQL needs them. */
  readonly object: string;
  /** The number that matters ("waste 72.0 MiB"), or null when the finding has none. */
  readonly keyNumber: string | null;
  readonly summary: string;
  /** `${publicBaseUrl}/api/v1/findings/{id}` when a public base URL and the finding's id are known. */
  readonly url: string | null;
}

export interface DigestGroup {
  readonly severity: Severity;
  readonly items: readonly DigestItem[];
}

/** What changed since the previous audit of one target, then what is still open. Plain JSON. */
export interface AuditDigest {
  readonly version: 1;
  readonly target: string;
  /** ISO-8601 time of the audit, when the caller gave it. */
  readonly auditedAt: string | null;
  readonly minSeverity: Severity;
  /** True when there was no previous audit to compare with: everything is listed as open. */
  readonly firstAudit: boolean;
  /** Nothing new, escalated or resolved since the previous audit (send one line, or stay quiet). */
  readonly unchanged: boolean;
  readonly counts: {
    /** Open findings at/above minSeverity, per severity (including new and escalated ones). */
    readonly open: Readonly<Record<Severity, number>>;
    readonly new: number;
    readonly escalated: number;
    readonly resolved: number;
  };
  /** Not seen in the previous audit. Most impactful first. */
  readonly new: readonly DigestItem[];
  /** Severity went up since the previous audit (`previousSeverity` says from what). */
  readonly escalated: readonly DigestItem[];
  /**
   * In the previous audit at/above minSeverity, now gone (or eased below minSeverity: then `severity`
   * is the current one and `previousSeverity` the old one).
   */
  readonly resolved: readonly DigestItem[];
  /** Open before and still open, not escalated; critical first. Eased ones carry `previousSeverity`. */
  readonly stillOpen: readonly DigestGroup[];
  /** Link to the target's audits in the API, when a public base URL is configured. */
  readonly auditsUrl: string | null;
}

/** A platform payload (Slack blocks, Teams card, Discord embeds, webhook body): JSON, sent as is. */
export type ChatPayload = Readonly<Record<string, unknown>>;
