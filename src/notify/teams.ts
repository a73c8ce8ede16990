/**
 * Microsoft Teams workflow webhook ("Post to a channel when a webhook request is received"): a message
 * with one Adaptive Card 1.4 — title, counts, then a bold title and a text block per chunk of findings.
 * Pure. Limit (docs/notifications.md): the whole message ≤ ~28 KB; we keep the JSON under 24,000 bytes
 * because senders report 413s from Teams well below the documented size.
 */
import { contextParts, headlineOf, sectionSeverity, sectionsOf, titleOf, type Markup } from './sections.js';
import { clip, droppedLine, fitSections } from './truncate.js';
import type { AuditDigest, ChatPayload } from './types.js';

export const TEAMS_LIMITS = {
  /** Documented message size limit (bytes). */
  messageBytes: 28 * 1024,
  /** What we allow ourselves: the JSON body in UTF-8 bytes. */
  budgetBytes: 24_000,
  /** Text blocks per chunk of findings: a title and the lines. */
  maxChunks: 30,
} as const;

/**
 * Adaptive Card Markdown (bold, italic, lists, links): backslash-escape the characters that would start
 * emphasis, a link or code, so identifiers like `order_items` render literally.
 */
export const TEAMS_MARKUP: Markup = {
  escape: escapeTeams,
  bold: (t) => `**${t}**`,
  link: (label, url) => `[${label}](${url.replace(/[()\s]/g, encodeURIComponent)})`,
  code: escapeTeams,
};

const COLOR: Readonly<Record<string, string>> = { critical: 'Attention', warning: 'Warning', info: 'Accent', resolved: 'Good' };

export function renderTeams(digest: AuditDigest): ChatPayload {
  if (digest.unchanged) return envelope([{ type: 'TextBlock', text: escapeTeams(headlineOf(digest)), wrap: true }], []);
  // Shrink the text budget until the serialised card fits; bounded, and a minimal card as the last resort.
  let textBudget = TEAMS_LIMITS.budgetBytes - 4000;
  for (let attempt = 0; attempt < 6 && textBudget > 1000; attempt++) {
    const card = renderCard(digest, textBudget);
    const size = Buffer.byteLength(JSON.stringify(card));
    if (size <= TEAMS_LIMITS.budgetBytes) return card;
    textBudget -= size - TEAMS_LIMITS.budgetBytes + 500;
  }
  return envelope([{ type: 'TextBlock', text: escapeTeams(headlineOf(digest)), wrap: true }], actions(digest));
}

function renderCard(digest: AuditDigest, textBudget: number): ChatPayload {
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: escapeTeams(titleOf(digest)), size: 'Large', weight: 'Bolder', wrap: true },
    { type: 'TextBlock', text: contextParts(digest).map(escapeTeams).join(' · '), isSubtle: true, spacing: 'None', wrap: true },
  ];
  const fit = fitSections(sectionsOf(digest, TEAMS_MARKUP), {
    chunkSize: 6000,
    maxChunks: TEAMS_LIMITS.maxChunks,
    totalSize: textBudget,
    itemsPerSection: 10,
    titleInChunk: false,
    measure: jsonBytes,
  });
  for (const chunk of fit.chunks) {
    if (chunk.title !== null) {
      const color = COLOR[sectionSeverity(chunk.sectionKey, digest)] ?? 'Default';
      body.push({ type: 'TextBlock', text: chunk.title, weight: 'Bolder', color, separator: true, wrap: true });
    }
    // A single newline is not a line break in Adaptive Card Markdown; a blank line is.
    body.push({ type: 'TextBlock', text: chunk.lines.map((l) => l.replace(/\n/g, '\n\n')).join('\n\n'), wrap: true, spacing: 'Small' });
  }
  const trailer = droppedLine(fit, "Teams'");
  if (trailer) body.push({ type: 'TextBlock', text: clip(trailer, 2000), isSubtle: true, wrap: true });
  return envelope(body, actions(digest));
}

function actions(digest: AuditDigest): Record<string, unknown>[] {
  return digest.auditsUrl ? [{ type: 'Action.OpenUrl', title: 'Audits in pg-advisor', url: digest.auditsUrl }] : [];
}

function envelope(body: readonly Record<string, unknown>[], cardActions: readonly Record<string, unknown>[]): ChatPayload {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          ...(cardActions.length > 0 ? { actions: cardActions } : {}),
        },
      },
    ],
  };
}

/** UTF-8 bytes a text takes inside a JSON string (escapes included). */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

function escapeTeams(text: string): string {
  return text.replace(/[\\*_[\]`~]/g, (c) => `\\${c}`).replace(/\r\n?/g, '\n');
}
