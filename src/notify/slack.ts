/**
 * Slack incoming webhook: a short `text` (the notification and fallback) plus Block Kit blocks — a
 * header, a context line with the counts, one mrkdwn section per chunk of findings. Pure.
 * Limits (docs/notifications.md): ≤ 50 blocks, section text ≤ 3000, header ≤ 150, context text ≤ 3000,
 * and ~12,000 characters of block text in all (Slack answers `msg_blocks_too_long` past ~13,000).
 */
import { contextParts, headlineOf, sectionsOf, titleOf, type Markup } from './sections.js';
import { clip, droppedLine, fitSections, type FitBudget } from './truncate.js';
import type { AuditDigest, ChatPayload } from './types.js';

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  contextText: 3000,
  /** Notification text we send: Slack accepts far more, a notification shows a line. */
  text: 3000,
  /** Block text in all: below the ~13,200 characters where Slack starts answering msg_blocks_too_long. */
  totalBlockText: 11_000,
} as const;

/** Slack mrkdwn: only &, < and > are control characters; everything else renders (inline code for identifiers). */
export const SLACK_MARKUP: Markup = {
  escape: escapeSlack,
  bold: (t) => `*${t}*`,
  link: (label, url) => `<${url.replace(/[<>|]/g, encodeURIComponent)}|${label}>`,
  code: (t) => `\`${escapeSlack(t.replace(/`/g, "'"))}\``,
};

export interface SlackMessage extends ChatPayload {
  readonly text: string;
  readonly blocks?: readonly Record<string, unknown>[];
  readonly unfurl_links: false;
  readonly unfurl_media: false;
}

export function renderSlack(digest: AuditDigest): SlackMessage {
  const text = clip(escapeSlack(headlineOf(digest)), SLACK_LIMITS.text);
  if (digest.unchanged) return { text, unfurl_links: false, unfurl_media: false };

  const fixed: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(titleOf(digest), SLACK_LIMITS.headerText), emoji: true } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(contextLine(digest), SLACK_LIMITS.contextText) }] },
  ];
  const budget: FitBudget = {
    chunkSize: SLACK_LIMITS.sectionText,
    maxChunks: SLACK_LIMITS.blocks - fixed.length - 1, // one block kept for the trailer
    totalSize: SLACK_LIMITS.totalBlockText - fixed.reduce((n, b) => n + JSON.stringify(b).length, 0),
    itemsPerSection: 10,
    titleInChunk: true,
  };
  const fit = fitSections(sectionsOf(digest, SLACK_MARKUP), budget);
  const blocks = [
    ...fixed,
    ...fit.chunks.map((c) => ({
      type: 'section',
      text: { type: 'mrkdwn', text: [...(c.title ? [`*${c.title}*`] : []), ...c.lines].join('\n') },
    })),
  ];
  const trailer = droppedLine(fit, "Slack's");
  if (trailer) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(trailer, SLACK_LIMITS.contextText) }] });
  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

function contextLine(digest: AuditDigest): string {
  const parts = contextParts(digest).map(escapeSlack);
  if (digest.auditsUrl) parts.push(SLACK_MARKUP.link('audits', digest.auditsUrl));
  return parts.join(' · ');
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
