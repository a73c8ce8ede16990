export { buildReport } from './build.js';
export type { BuildReportInput } from './build.js';
export { renderJson } from './json.js';
export { renderText } from './text.js';
export type { TextRenderOptions } from './text.js';
export { describeRule, renderRuleDocs, renderRulesJson, renderRulesText } from './rules.js';
export type { RuleDescription } from './rules.js';
export {
  countAtOrAbove,
  crashedRules,
  ruleErrors,
  skippedRuleLines,
  skippedRules,
  sourceFailureLines,
  sourceFailures,
  verdictLine,
  type SourceFailure,
} from './verdict.js';
export { REPORT_VERSION } from './types.js';
export type { Report, ReportDiagnostic } from './types.js';
export { renderMarkdown, GITHUB_COMMENT_LIMIT, escapeInline, escapeParagraph, escapeHtml, keyNumberOf } from './markdown.js';
export type { MarkdownRenderOptions } from './markdown.js';
export { buildSarif, renderSarif, SARIF_SCHEMA_URI } from './sarif.js';
export type { SarifLog, SarifRenderOptions } from './sarif.js';
export { renderJunit, escapeXml } from './junit.js';
export {
  applyBaseline,
  baselineStateOf,
  baselineSummaryOf,
  BASELINE_VERSION,
  buildBaseline,
  gateCounts,
  isBaselined,
  loadBaselineFile,
  parseBaseline,
  renderBaseline,
  withoutBaselined,
  writeBaselineFile,
} from './baseline.js';
export type { Baseline, BaselineEntry, BaselinedFinding, BaselinedReport, BaselineState, BaselineSummary } from './baseline.js';
export { renderReport, type RenderReportOptions, type ReportFormatName } from './render.js';
