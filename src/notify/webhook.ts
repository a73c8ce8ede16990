/**
 * Generic webhook: the digest as JSON, signed so a receiver can check it came from us and is recent.
 *   X-PG-Advisor-Timestamp: <unix seconds>
 *   X-PG-Advisor-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *   Idempotency-Key: <stable per message; the same on every retry>
 * The signature is computed per attempt (fresh timestamp) over the exact bytes sent. docs/notifications.md
 * shows a receiver's verification.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { headlineOf } from './sections.js';
import { takeWithin } from './truncate.js';
import type { AuditDigest, ChatPayload, DigestGroup, DigestItem } from './types.js';

export const WEBHOOK_LIMITS = {
  /** Body size we allow ourselves: many receivers (fastify, express) default to 1 MiB or less. */
  bodyBytes: 256 * 1024,
} as const;

export const SIGNATURE_HEADER = 'X-PG-Advisor-Signature';
export const TIMESTAMP_HEADER = 'X-PG-Advisor-Timestamp';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** How old a timestamp a receiver should accept (seconds); our retries re-sign, so this can stay short. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface WebhookBody extends ChatPayload {
  readonly type: 'pg-advisor.audit';
  readonly version: 1;
  readonly headline: string;
  readonly digest: AuditDigest;
  /** Items left out of the digest's lists to keep the body under the size limit (counts stay complete). */
  readonly omitted: number;
}

export function renderWebhook(digest: AuditDigest): WebhookBody {
  const full: WebhookBody = { type: 'pg-advisor.audit', version: 1, headline: headlineOf(digest), digest, omitted: 0 };
  const size = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));
  if (size(full) <= WEBHOOK_LIMITS.bodyBytes) return full;

  // Keep the most important items (new, escalated, resolved, then open by severity) within the budget.
  const skeleton = { ...full, digest: { ...digest, new: [], escalated: [], resolved: [], stillOpen: [] } };
  let budget = WEBHOOK_LIMITS.bodyBytes - size(skeleton) - 1024;
  let omitted = 0;
  const take = (items: readonly DigestItem[]): DigestItem[] => {
    const { kept, omitted: left } = takeWithin(items, budget, (i) => size(i) + 1);
    budget -= kept.reduce((n, i) => n + size(i) + 1, 0);
    omitted += left;
    return kept;
  };
  const added = take(digest.new);
  const escalated = take(digest.escalated);
  const resolved = take(digest.resolved);
  const stillOpen: DigestGroup[] = digest.stillOpen.map((g) => ({ severity: g.severity, items: take(g.items) })).filter((g) => g.items.length > 0);
  return { ...full, digest: { ...digest, new: added, escalated, resolved, stillOpen }, omitted };
}

/** `sha256=<hex>` over `${timestamp}.${body}`. */
export function signWebhook(body: string, secret: string, timestampSeconds: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** Headers of one signed attempt. */
export function webhookSignatureHeaders(body: string, secret: string, timestampSeconds: number): Record<string, string> {
  return { [TIMESTAMP_HEADER]: String(timestampSeconds), [SIGNATURE_HEADER]: signWebhook(body, secret, timestampSeconds) };
}

export interface VerifyWebhookInput {
  readonly secret: string;
  /** The raw request body, exactly as received (not re-serialised JSON). */
  readonly body: string | Buffer;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
}

/** A receiver's check (the same steps docs/notifications.md spells out). Never throws. */
export function verifyWebhookSignature(input: VerifyWebhookInput): boolean {
  const { timestamp, signature } = input;
  if (!timestamp || !/^\d+$/.test(timestamp) || !signature) return false;
  if (Math.abs(input.nowSeconds - Number(timestamp)) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signWebhook(Buffer.isBuffer(input.body) ? input.body.toString('utf8') : input.body, input.secret, Number(timestamp)));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
