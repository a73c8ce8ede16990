/**
 * Platform payloads checked against each platform's documented limits (validators written here from the
 * docs, independent of the formatters' own constants), with a 500-finding audit that must be cut with
 * "and N more" — and every finding accounted for, shown or counted.
 */
import { describe, expect, it } from 'vitest';
import type { Finding, Severity } from '../../src/engine/types.js';
import { buildAuditDigest, clip, fitSections, renderDiscord, renderSlack, renderTeams, renderWebhook, type AuditDigest } from '../../src/notify/index.js';

const SEVERITY_OF = (i: number): Severity => (i % 10 === 0 ? 'critical' : i % 3 === 0 ? 'warning' : 'info');

function finding(i: number, severity: Severity = SEVERITY_OF(i)): Finding {
  return {
    rule: i % 2 ? 'missing-index' : 'table-bloat',
    severity,
    title: 'A finding',
    summary: `Table_${i} *wastes* space <!channel> @everyone [x](http://evil) — ${'long text '.repeat(40)}`,
    object: { type: 'table', schema: 'public', name: `orders_${i}|x`, columns: ['customer_id'] },
    evidence: { wasteBytes: i * 1024 },
    recommendation: { text: 'Repack it.' },
    impact: { wasteBytes: i * 1024 },
    fingerprint: `fp-${i}`,
  };
}

/** 500 findings now; 250 of them seen before (a third of those at a lower severity), plus 100 resolved. */
function hugeDigest(): AuditDigest {
  const current = Array.from({ length: 500 }, (_, i) => finding(i));
  const previous = [
    ...Array.from({ length: 250 }, (_, i) => (i % 3 === 0 && SEVERITY_OF(i) !== 'info' ? finding(i, 'info') : finding(i))),
    ...Array.from({ length: 100 }, (_, i) => finding(1000 + i)),
  ];
  return buildAuditDigest({
    target: 'shop <prod> *main*',
    previous,
    current,
    minSeverity: 'info',
    publicBaseUrl: 'https://advisor.example.com',
    findingIds: Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`fp-${i}`, i + 1])),
    auditedAt: '2026-11-23T06:00:00.000Z',
  });
}

function totalItems(d: AuditDigest): number {
  return d.new.length + d.escalated.length + d.resolved.length + d.stillOpen.reduce((n, g) => n + g.items.length, 0);
}

/** Items shown (lines starting with a severity mark) plus the counts in "…and N more" lines. */
function accountedFor(texts: readonly string[]): { shown: number; more: number } {
  const all = texts.join('\n');
  const shown = all.split('\n').filter((l) => /^(🔴|🟠|🔵) /.test(l)).length;
  const more = [...all.matchAll(/…and (\d+) more/g)].reduce((n, m) => n + Number(m[1]), 0);
  return { shown, more };
}

type Json = Record<string, unknown>;

// Slack: https://docs.slack.dev/reference/block-kit/blocks — 50 blocks; section text 3000; header 150.
function slackViolations(p: Json): string[] {
  const out: string[] = [];
  if (typeof p.text !== 'string' || p.text.length === 0) out.push('text fallback missing');
  const blocks = (p.blocks ?? []) as Json[];
  if (blocks.length > 50) out.push(`${blocks.length} blocks`);
  let total = 0;
  for (const b of blocks) {
    const text = (b.text as Json | undefined)?.text as string | undefined;
    if (b.type === 'header' && (text ?? '').length > 150) out.push('header > 150');
    if (b.type === 'section' && (text ?? '').length > 3000) out.push('section > 3000');
    for (const e of (b.elements ?? []) as Json[]) if (String(e.text).length > 3000) out.push('context > 3000');
    total += JSON.stringify(b).length;
  }
  if (total > 12_000) out.push(`block JSON ${total} chars (msg_blocks_too_long beyond ~13,000)`);
  return out;
}

// Discord: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
function discordViolations(p: Json): string[] {
  const out: string[] = [];
  if (String(p.content ?? '').length > 2000) out.push('content > 2000');
  const embeds = (p.embeds ?? []) as Json[];
  if (embeds.length > 10) out.push('> 10 embeds');
  let total = 0;
  for (const e of embeds) {
    const title = String(e.title ?? '');
    const description = String(e.description ?? '');
    const footer = String((e.footer as Json | undefined)?.text ?? '');
    const fields = (e.fields ?? []) as Json[];
    if (title.length > 256) out.push('title > 256');
    if (description.length > 4096) out.push('description > 4096');
    if (footer.length > 2048) out.push('footer > 2048');
    if (fields.length > 25) out.push('> 25 fields');
    total += title.length + description.length + footer.length + fields.reduce((n, f) => n + String(f.name).length + String(f.value).length, 0);
  }
  if (total > 6000) out.push(`embeds total ${total} > 6000`);
  if (JSON.stringify(p.allowed_mentions) !== JSON.stringify({ parse: [] })) out.push('mentions not disabled');
  return out;
}

// Teams: https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook — ~28 KB.
function teamsViolations(p: Json): string[] {
  const out: string[] = [];
  if (p.type !== 'message') out.push('type is not message');
  const attachments = p.attachments as Json[];
  if (attachments?.length !== 1 || attachments[0]!.contentType !== 'application/vnd.microsoft.card.adaptive') out.push('attachment shape');
  const card = attachments?.[0]?.content as Json | undefined;
  if (card?.type !== 'AdaptiveCard' || card.version !== '1.4' || !Array.isArray(card.body)) out.push('card shape');
  for (const b of (card?.body ?? []) as Json[]) if (b.type !== 'TextBlock' || typeof b.text !== 'string') out.push('unexpected element');
  const bytes = Buffer.byteLength(JSON.stringify(p));
  if (bytes > 28 * 1024) out.push(`${bytes} bytes > 28 KB`);
  return out;
}

describe('a 500-finding audit on each platform', () => {
  const digest = hugeDigest();
  const total = totalItems(digest);

  it('the digest itself is complete', () => {
    expect(total).toBe(600);
    expect(digest.counts.new).toBe(250);
    expect(digest.counts.resolved).toBe(100);
    expect(digest.counts.escalated).toBeGreaterThan(10);
  });

  it('Slack: within limits, cut with "and N more", every finding shown or counted', () => {
    const p = renderSlack(digest);
    expect(slackViolations(p)).toEqual([]);
    const texts = (p.blocks ?? []).map((b) => String((b.text as Json | undefined)?.text ?? (b.elements as Json[] | undefined)?.[0]?.text ?? ''));
    const { shown, more } = accountedFor(texts);
    expect(shown).toBeGreaterThan(10);
    expect(shown + more).toBe(total);
    expect(p.text).toContain('250 new');
    // Database text cannot mention the channel or inject a link.
    expect(JSON.stringify(p)).not.toContain('<!channel>');
  });

  it('Discord: within limits, cut with "and N more", every finding shown or counted', () => {
    const p = renderDiscord(digest);
    expect(discordViolations(p)).toEqual([]);
    const embeds = p.embeds as Json[];
    const texts = embeds.flatMap((e) => [String(e.description), String((e.footer as Json | undefined)?.text ?? '')]);
    const { shown, more } = accountedFor(texts);
    expect(shown).toBeGreaterThan(5);
    expect(shown + more).toBe(total);
    expect(String(p.content)).toContain('250 new');
  });

  it('Teams: within 28 KB, cut with "and N more", every finding shown or counted', () => {
    const p = renderTeams(digest);
    expect(teamsViolations(p)).toEqual([]);
    const body = ((p.attachments as Json[])[0]!.content as Json).body as Json[];
    // Section titles are their own bold blocks (and start with a severity mark too): count items only.
    const texts = body.filter((b) => b.weight !== 'Bolder').map((b) => String(b.text).replace(/\n\n/g, '\n'));
    const { shown, more } = accountedFor(texts);
    expect(shown).toBeGreaterThan(10);
    expect(shown + more).toBe(total);
  });

  it('generic webhook: the whole digest fits (under its 256 KiB budget) with complete counts', () => {
    const p = renderWebhook(digest);
    expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThanOrEqual(256 * 1024);
    expect(p.digest.counts).toEqual(digest.counts);
    expect(totalItems(p.digest) + p.omitted).toBe(total);
  });

  it('generic webhook: a digest over budget keeps the most important items and counts the rest', () => {
    const big = {
      ...digest,
      stillOpen: digest.stillOpen.map((g) => ({ ...g, items: [...g.items, ...g.items, ...g.items, ...g.items, ...g.items, ...g.items] })),
    };
    const p = renderWebhook(big);
    expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThanOrEqual(256 * 1024);
    expect(p.omitted).toBeGreaterThan(0);
    expect(p.digest.new).toHaveLength(250);
    expect(totalItems(p.digest) + p.omitted).toBe(totalItems(big));
  });
});

describe('small audits on each platform', () => {
  const digest = buildAuditDigest({
    target: 'shop',
    previous: [finding(3, 'warning'), finding(5, 'info')],
    current: [finding(3, 'critical'), finding(7, 'warning')],
    minSeverity: 'info',
    publicBaseUrl: 'https://advisor.example.com',
    findingIds: { 'fp-3': 3, 'fp-7': 7 },
  });

  it('Slack shows new, escalated and resolved with links, identifiers escaped', () => {
    const p = renderSlack(digest);
    expect(slackViolations(p)).toEqual([]);
    const all = (p.blocks ?? []).map((b) => String((b.text as Json | undefined)?.text ?? '')).join('\n');
    expect(all).toContain('*🆕 New (1)*');
    expect(all).toContain('*⬆️ Escalated (1)*');
    expect(all).toContain('*✅ Resolved (1)*');
    expect(all).toContain('critical (was warning)');
    expect(all).toContain('<https://advisor.example.com/api/v1/findings/7|details>');
    expect(all).toContain('`table public."orders_7|x" (customer_id)`');
    expect(all).toContain('&lt;!channel&gt;');
  });

  it('Discord escapes Markdown and disables mentions', () => {
    const p = renderDiscord(digest);
    expect(discordViolations(p)).toEqual([]);
    const all = (p.embeds as Json[]).map((e) => String(e.description)).join('\n');
    expect(all).toContain('Table\\_7 \\*wastes\\* space');
    expect(all).toContain('[details](<https://advisor.example.com/api/v1/findings/7>)');
  });

  it('Teams escapes Markdown emphasis and uses blank lines as line breaks', () => {
    const p = renderTeams(digest);
    expect(teamsViolations(p)).toEqual([]);
    const body = ((p.attachments as Json[])[0]!.content as Json).body as Json[];
    const all = body.map((b) => String(b.text)).join('\n');
    expect(all).toContain('Table\\_7 \\*wastes\\* space');
    expect(all).toContain('[details](https://advisor.example.com/api/v1/findings/7)');
    for (const b of body) expect(String(b.text)).not.toMatch(/[^\n]\n[^\n]/);
  });
});

describe('fitSections', () => {
  const section = (key: string, n: number, len = 50) => ({ key, title: key, lines: Array.from({ length: n }, (_, i) => `${i}`.padEnd(len, '.')) });

  it('caps items per section with "and N more"', () => {
    const r = fitSections([section('a', 12)], { chunkSize: 3000, maxChunks: 5, totalSize: 10_000, itemsPerSection: 5, titleInChunk: true });
    expect(r.chunks).toHaveLength(1);
    expect(r.chunks[0]!.lines.slice(-1)).toEqual(['…and 7 more']);
    expect(r.omitted).toBe(7);
  });

  it('continues a section in the next chunk, and drops whole sections once out of room', () => {
    const r = fitSections([section('a', 10), section('b', 10), section('c', 4)], {
      chunkSize: 200,
      maxChunks: 4,
      totalSize: 10_000,
      itemsPerSection: 10,
      titleInChunk: true,
    });
    expect(r.chunks.length).toBeLessThanOrEqual(4);
    for (const c of r.chunks) expect([c.title, ...c.lines].filter((x) => x !== null).join('\n').length).toBeLessThanOrEqual(200);
    expect(r.droppedSections.map((s) => s.title)).toContain('c');
    const shown = r.chunks.flatMap((c) => c.lines).filter((l) => !l.startsWith('…')).length;
    expect(shown + r.omitted).toBe(24);
  });

  it('clips a line longer than a chunk instead of failing', () => {
    const r = fitSections([{ key: 'a', title: 'a', lines: ['x'.repeat(10_000)] }], {
      chunkSize: 300,
      maxChunks: 2,
      totalSize: 1000,
      itemsPerSection: 5,
      titleInChunk: true,
    });
    expect(r.chunks[0]!.lines[0]!.length).toBeLessThan(300);
    expect(r.chunks[0]!.lines[0]!.endsWith('…')).toBe(true);
  });

  it('clip never splits a surrogate pair', () => {
    expect(clip('🔴🔴🔴', 4)).toBe('🔴…');
    expect(clip('short', 10)).toBe('short');
  });
});
