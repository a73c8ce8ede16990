export { buildAuditDigest, shouldSendDigest, totalOpen } from './audit.js';
export type { AuditDigestInput, SendDecisionOptions } from './audit.js';
export { renderSlack, SLACK_LIMITS } from './slack.js';
export type { SlackMessage } from './slack.js';
export { renderTeams, TEAMS_LIMITS } from './teams.js';
export { renderDiscord, DISCORD_LIMITS } from './discord.js';
export {
  renderWebhook,
  signWebhook,
  verifyWebhookSignature,
  webhookSignatureHeaders,
  WEBHOOK_LIMITS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  IDEMPOTENCY_HEADER,
  DEFAULT_TOLERANCE_SECONDS,
} from './webhook.js';
export type { WebhookBody, VerifyWebhookInput } from './webhook.js';
export { renderDigest, renderTestMessage } from './render.js';
export { headlineOf } from './sections.js';
export { fitSections, moreLine, clip } from './truncate.js';
export { deliver, DELIVERY_DEFAULTS } from './deliver.js';
export type { DeliverOptions, DeliveryResult } from './deliver.js';
export { backoffDelay, classifyStatus, parseRetryAfter } from './retry-policy.js';
export { createDispatcher } from './dispatcher.js';
export type { Dispatcher, DispatcherOptions, DispatchMessage } from './dispatcher.js';
export { buildOutboxDrafts, idempotencyKeyFor, runOutboxOnce } from './outbox.js';
export type { BuildDraftsInput, Outbox, OutboxDraft, OutboxMessage, OutboxRunSummary, RunOutboxOptions } from './outbox.js';
export { createMemoryOutbox } from './memory-outbox.js';
export type { MemoryOutbox, MemoryOutboxOptions, OutboxEntry, OutboxStatus } from './memory-outbox.js';
export { DESTINATION_KINDS } from './types.js';
export type { AuditDigest, ChatPayload, Destination, DestinationKind, DigestGroup, DigestItem } from './types.js';
