/**
 * Discord webhook: the headline as `content`, then one embed per chunk of findings (title = section,
 * colour = its worst severity). Mentions are disabled so no database text can ping anyone. Pure.
 * Limits (docs/notifications.md): content ≤ 2000, ≤ 10 embeds, title ≤ 256, description ≤ 4096,
 * footer ≤ 2048, ≤ 25 fields, and ≤ 6000 characters across all embeds of the message.
 */
import { contextParts, headlineOf, sectionSeverity, sectionsOf, type Markup } from './sections.js';
import { clip, droppedLine, fitSections } from './truncate.js';
import type { AuditDigest, ChatPayload } from './types.js';

export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  footer: 2048,
  fields: 25,
  totalEmbedChars: 6000,
} as const;

/** Discord Markdown: backslash escapes for the formatting characters; identifiers in inline code. */
export const DISCORD_MARKUP: Markup = {
  escape: escapeDiscord,
  bold: (t) => `**${t}**`,
  link: (label, url) => `[${label}](<${url.replace(/[<>()\s]/g, encodeURIComponent)}>)`,
  code: (t) => `\`${t.replace(/`/g, "'")}\``,
};

const COLOR: Readonly<Record<string, number>> = { critical: 0xd1242f, warning: 0xd4a72c, info: 0x0969da, resolved: 0x1a7f37 };

export function renderDiscord(digest: AuditDigest): ChatPayload {
  const content = clip(escapeDiscord(headlineOf(digest)), DISCORD_LIMITS.content);
  const base = { username: 'pg-advisor', content, allowed_mentions: { parse: [] as string[] } };
  if (digest.unchanged) return base;

  const footerText = contextParts(digest).join(' · ');
  // The trailer (if any) goes into the last embed's footer, after the counts; reserve room for both.
  const reserve = footerText.length + 200;
  const fit = fitSections(sectionsOf(digest, DISCORD_MARKUP), {
    chunkSize: DISCORD_LIMITS.description,
    maxChunks: DISCORD_LIMITS.embeds,
    totalSize: DISCORD_LIMITS.totalEmbedChars - reserve,
    itemsPerSection: 10,
    titleInChunk: false,
  });
  const embeds: Record<string, unknown>[] = fit.chunks.map((chunk) => ({
    ...(chunk.title !== null ? { title: clip(chunk.title, DISCORD_LIMITS.title) } : {}),
    description: chunk.lines.join('\n'),
    color: COLOR[sectionSeverity(chunk.sectionKey, digest)],
    ...(chunk.title !== null && chunk.sectionKey === 'new' && digest.auditsUrl ? { url: digest.auditsUrl } : {}),
  }));
  const trailer = droppedLine(fit, "Discord's");
  const footer = { text: clip([footerText, trailer].filter((t): t is string => t !== null).join('\n'), Math.min(DISCORD_LIMITS.footer, reserve)) };
  if (embeds.length === 0) return base;
  embeds[embeds.length - 1] = { ...embeds[embeds.length - 1], footer, ...(digest.auditedAt ? { timestamp: digest.auditedAt } : {}) };
  return { ...base, embeds };
}

function escapeDiscord(text: string): string {
  return text.replace(/[\\*_~`|>[\]#@]/g, (c) => `\\${c}`);
}
