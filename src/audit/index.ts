export { runAudit, type AuditCollectors, type AuditOptions, type AuditResult } from './run-audit.js';
export { ENRICHMENT_STEPS, type EnrichmentContext, type EnrichmentStep } from './enrichments.js';
