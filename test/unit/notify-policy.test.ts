/** Retry policy (status classes, full-jitter backoff, Retry-After) and the webhook signature helpers. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyStatus, deliver, parseRetryAfter, renderTestMessage, signWebhook, verifyWebhookSignature } from '../../src/notify/index.js';
import { scrubDestination as scrub } from '../../src/secrets/index.js';

describe('classifyStatus', () => {
  it.each([
    [200, 'delivered'],
    [202, 'delivered'],
    [204, 'delivered'],
    [301, 'permanent'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
    [410, 'permanent'],
    [413, 'permanent'],
    [408, 'transient'],
    [425, 'transient'],
    [429, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [503, 'transient'],
  ] as const)('%i → %s', (status, verdict) => {
    expect(classifyStatus(status)).toBe(verdict);
  });
});

describe('backoffDelay (full jitter)', () => {
  const options = { baseDelayMs: 1000, maxDelayMs: 30_000 };
  it('doubles the ceiling per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, options, () => 0.999999))).toEqual([999, 1999, 3999, 7999, 15_999, 29_999, 29_999]);
  });
  it('spreads over [0, ceiling]', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.5)).toBe(2000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-23T06:00:00Z');
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500); // Discord-style fractional seconds
  });
  it('reads an HTTP date, and a date in the past as 0', () => {
    expect(parseRetryAfter('Mon, 23 Nov 2026 06:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 05:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});

describe('scrub', () => {
  it('removes the URL and its token-bearing path from error texts', () => {
    const url = 'https://hooks.slack.com/services/T0/B0/XYZSECRET';
    expect(scrub(`failed to POST ${url}: boom`, url)).toBe('failed to POST <destination url>: boom');
    expect(scrub('GET /services/T0/B0/XYZSECRET 404', url)).toBe('GET /<redacted> 404');
  });
});

describe('webhook signature', () => {
  const body = '{"type":"pg-advisor.audit","version":1}';
  it('is sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">', () => {
    const expected = createHmac('sha256', 'k').update(`1700000000.${body}`).digest('hex');
    expect(signWebhook(body, 'k', 1_700_000_000)).toBe(`sha256=${expected}`);
  });
  it('verifies a good signature and rejects a wrong key, a changed body, an old or malformed timestamp', () => {
    const signature = signWebhook(body, 'k', 1_700_000_000);
    const ok = { secret: 'k', body, timestamp: '1700000000', signature, nowSeconds: 1_700_000_100 };
    expect(verifyWebhookSignature(ok)).toBe(true);
    expect(verifyWebhookSignature({ ...ok, body: Buffer.from(body) })).toBe(true);
    expect(verifyWebhookSignature({ ...ok, secret: 'other' })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, body: `${body} ` })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, nowSeconds: 1_700_000_301 })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, timestamp: '1700000000.0' })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, signature: undefined })).toBe(false);
  });
});

describe('test messages and bad destinations', () => {
  it('renders a one-line test message per platform', () => {
    const at = '2026-11-23T06:00:00.000Z';
    expect(renderTestMessage('slack', 'ops <main>', at)).toEqual({ text: expect.stringContaining('"ops &lt;main&gt;"') });
    expect(renderTestMessage('discord', 'ops', at)).toMatchObject({
      allowed_mentions: { parse: [] },
      content: expect.stringContaining('pg-advisor test message'),
    });
    expect(renderTestMessage('teams', 'ops', at)).toMatchObject({ type: 'message', attachments: [{ content: { type: 'AdaptiveCard', version: '1.4' } }] });
    expect(renderTestMessage('webhook', 'ops', at)).toMatchObject({ type: 'pg-advisor.test', version: 1, destination: 'ops', sentAt: at });
  });

  it('refuses a non-http(s) destination without sending anything', async () => {
    const result = await deliver({ name: 'x', kind: 'slack', url: 'file:///etc/passwd' }, { text: 'x' }, { idempotencyKey: 'k' });
    expect(result).toMatchObject({ status: 'failed', attempts: 0, permanent: true });
  });
});
