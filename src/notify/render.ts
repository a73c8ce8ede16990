/** Picks the formatter for a destination's platform. Pure. */
import { DISCORD_MARKUP, renderDiscord } from './discord.js';
import { renderSlack, SLACK_MARKUP } from './slack.js';
import { renderTeams, TEAMS_MARKUP } from './teams.js';
import type { AuditDigest, ChatPayload, DestinationKind } from './types.js';
import { renderWebhook } from './webhook.js';

export function renderDigest(kind: DestinationKind, digest: AuditDigest): ChatPayload {
  switch (kind) {
    case 'slack':
      return renderSlack(digest);
    case 'teams':
      return renderTeams(digest);
    case 'discord':
      return renderDiscord(digest);
    case 'webhook':
      return renderWebhook(digest);
  }
}

/** The message behind the API's "send a test message" action: one line, no findings. */
export function renderTestMessage(kind: DestinationKind, destinationName: string, sentAt: string): ChatPayload {
  const text = `pg-advisor test message for destination "${destinationName}" (${sentAt}): if you can read this, audits will arrive here.`;
  switch (kind) {
    case 'slack':
      return { text: SLACK_MARKUP.escape(text) };
    case 'teams':
      return {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: TEAMS_MARKUP.escape(text), wrap: true }] },
          },
        ],
      };
    case 'discord':
      return { username: 'pg-advisor', content: DISCORD_MARKUP.escape(text), allowed_mentions: { parse: [] } };
    case 'webhook':
      return { type: 'pg-advisor.test', version: 1, destination: destinationName, sentAt, headline: text };
  }
}
