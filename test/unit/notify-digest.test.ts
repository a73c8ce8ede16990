/**
 * The audit digest: new / escalated / resolved / still open by fingerprint, ordering, thresholds, links,
 * the "nothing new" flag, and what the message says about it.
 */
import { describe, expect, it } from 'vitest';
import type { Finding, Severity } from '../../src/engine/types.js';
import { buildAuditDigest, buildOutboxDrafts, headlineOf, idempotencyKeyFor, renderSlack, shouldSendDigest } from '../../src/notify/index.js';

function finding(fingerprint: string, severity: Severity, overrides: Partial<Finding> = {}): Finding {
  return {
    rule: 'table-bloat',
    severity,
    title: 'Table bloat',
    summary: `public.${fingerprint} wastes space.`,
    object: { type: 'table', schema: 'public', name: fingerprint },
    evidence: { wasteBytes: 1024 * 1024 },
    recommendation: { text: 'Repack it.' },
    impact: { wasteBytes: 1024 * 1024 },
    fingerprint,
    ...overrides,
  };
}

const fps = (items: readonly { fingerprint: string }[]): string[] => items.map((i) => i.fingerprint);

describe('buildAuditDigest', () => {
  const previous = [finding('a', 'warning'), finding('b', 'warning'), finding('c', 'info'), finding('d', 'critical'), finding('e', 'warning')];
  const current = [
    finding('a', 'critical'), // escalated
    // b gone: resolved
    finding('c', 'info'), // unchanged
    finding('d', 'warning'), // eased, still open
    finding('e', 'warning'), // unchanged
    finding('f', 'warning', { impact: { wasteBytes: 10 } }), // new, small
    finding('g', 'warning', { impact: { wasteBytes: 10_000_000 } }), // new, big
  ];

  it('compares by fingerprint: new (most impactful first), escalated, resolved, still open by severity', () => {
    const d = buildAuditDigest({ target: 'shop', previous, current, minSeverity: 'info' });
    expect(d.firstAudit).toBe(false);
    expect(d.unchanged).toBe(false);
    expect(fps(d.new)).toEqual(['g', 'f']);
    expect(fps(d.escalated)).toEqual(['a']);
    expect(d.escalated[0]!.previousSeverity).toBe('warning');
    expect(fps(d.resolved)).toEqual(['b']);
    expect(d.stillOpen.map((g) => [g.severity, fps(g.items)])).toEqual([
      ['warning', ['d', 'e']],
      ['info', ['c']],
    ]);
    expect(d.stillOpen[0]!.items[0]!.previousSeverity).toBe('critical');
    expect(d.counts).toEqual({ open: { critical: 1, warning: 4, info: 1 }, new: 2, escalated: 1, resolved: 1 });
  });

  it('applies the minimum severity: below it is left out, crossing it up is escalated, crossing it down is resolved', () => {
    const d = buildAuditDigest({
      target: 'shop',
      previous: [finding('x', 'info'), finding('y', 'warning'), finding('z', 'info')],
      current: [finding('x', 'warning'), finding('y', 'info'), finding('z', 'info')],
      minSeverity: 'warning',
    });
    expect(fps(d.escalated)).toEqual(['x']);
    expect(fps(d.resolved)).toEqual(['y']);
    expect(d.resolved[0]).toMatchObject({ severity: 'info', previousSeverity: 'warning' });
    expect(d.stillOpen).toEqual([]);
    expect(d.counts.open).toEqual({ critical: 0, warning: 1, info: 0 });
  });

  it('flags an unchanged audit and can stay quiet about it', () => {
    const same = [finding('a', 'warning'), finding('b', 'info')];
    const d = buildAuditDigest({ target: 'shop', previous: same, current: [...same].reverse(), minSeverity: 'info' });
    expect(d.unchanged).toBe(true);
    expect(headlineOf(d)).toBe('pg-advisor audit · shop: nothing new since the last audit; 2 open (1 warning, 1 info).');
    expect(shouldSendDigest(d)).toBe(true);
    expect(shouldSendDigest(d, { quietWhenUnchanged: true })).toBe(false);
    expect(
      buildOutboxDrafts({ auditId: 7, digest: d, destinations: [{ name: 's', kind: 'slack', url: 'http://127.0.0.1/x' }], quietWhenUnchanged: true }),
    ).toEqual([]);
    // Sent as one line.
    expect(renderSlack(d)).toEqual({ text: headlineOf(d), unfurl_links: false, unfurl_media: false });
  });

  it('lists everything as open on the first audit and never calls it unchanged', () => {
    const d = buildAuditDigest({ target: 'shop', previous: null, current: [finding('a', 'info')], minSeverity: 'info' });
    expect(d.firstAudit).toBe(true);
    expect(d.unchanged).toBe(false);
    expect(d.new).toEqual([]);
    expect(fps(d.stillOpen[0]!.items)).toEqual(['a']);
    expect(headlineOf(d)).toContain('first audit, 1 open (1 info)');
  });

  it('links findings to the API only when a public base URL and the id are known', () => {
    const input = { target: 'my shop', previous: null, current: [finding('a', 'warning'), finding('b', 'warning')], minSeverity: 'info' as const };
    const linked = buildAuditDigest({ ...input, publicBaseUrl: 'https://advisor.example.com/', findingIds: { a: 42 } });
    const byFp = new Map(linked.stillOpen[0]!.items.map((i) => [i.fingerprint, i.url]));
    expect(byFp.get('a')).toBe('https://advisor.example.com/api/v1/findings/42');
    expect(byFp.get('b')).toBeNull();
    expect(linked.auditsUrl).toBe('https://advisor.example.com/api/v1/targets/my%20shop/audits');
    const unlinked = buildAuditDigest({ ...input, findingIds: { a: 42 } });
    expect(unlinked.stillOpen[0]!.items.every((i) => i.url === null)).toBe(true);
    expect(buildAuditDigest({ ...input, publicBaseUrl: 'javascript:alert(1)', findingIds: { a: 1 } }).auditsUrl).toBeNull();
  });

  it('shows each finding with its quoted object and key number', () => {
    const d = buildAuditDigest({
      target: 'shop',
      previous: [],
      current: [finding('m', 'critical', { object: { type: 'table', schema: 'Sales', name: 'order items', columns: ['customerId'] } })],
      minSeverity: 'info',
    });
    expect(d.new[0]).toMatchObject({ object: 'table "Sales"."order items" ("customerId")', keyNumber: 'waste 1.0 MiB' });
  });

  it('does not mutate its inputs', () => {
    const prev = Object.freeze([Object.freeze(finding('a', 'warning'))]);
    const cur = Object.freeze([Object.freeze(finding('a', 'critical')), Object.freeze(finding('b', 'info'))]);
    expect(() => buildAuditDigest({ target: 't', previous: prev, current: cur, minSeverity: 'info' })).not.toThrow();
  });
});

describe('outbox drafts', () => {
  it('gives every (audit, destination) a stable idempotency key, different per destination and per audit', () => {
    expect(idempotencyKeyFor(1, 'ops')).toBe(idempotencyKeyFor(1, 'ops'));
    expect(idempotencyKeyFor(1, 'ops')).not.toBe(idempotencyKeyFor(1, 'dev'));
    expect(idempotencyKeyFor(1, 'ops')).not.toBe(idempotencyKeyFor(2, 'ops'));
    expect(idempotencyKeyFor(1, 'ops')).toMatch(/^pga-[0-9a-f]{32}$/);
  });

  it('renders one draft per destination in its platform format', () => {
    const digest = buildAuditDigest({ target: 'shop', previous: [], current: [finding('a', 'warning')], minSeverity: 'info' });
    const drafts = buildOutboxDrafts({
      auditId: 9,
      digest,
      destinations: [
        { name: 's', kind: 'slack', url: 'http://127.0.0.1/s' },
        { name: 't', kind: 'teams', url: 'http://127.0.0.1/t' },
        { name: 'd', kind: 'discord', url: 'http://127.0.0.1/d' },
        { name: 'w', kind: 'webhook', url: 'http://127.0.0.1/w', secret: 'k' },
      ],
    });
    expect(drafts.map((d) => d.destination)).toEqual(['s', 't', 'd', 'w']);
    expect(drafts[0]!.body).toHaveProperty('blocks');
    expect(drafts[1]!.body).toMatchObject({ type: 'message' });
    expect(drafts[2]!.body).toHaveProperty('embeds');
    expect(drafts[3]!.body).toMatchObject({ type: 'pg-advisor.audit', version: 1 });
  });
});
