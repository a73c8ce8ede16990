/**
 * One report in any of the output formats (`check`, `check --output`, `demo`). Pure.
 */
import type { FailOn } from '../config/schema.js';
import type { AnyRule } from '../engine/types.js';
import { withoutBaselined } from './baseline.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';
import { renderText } from './text.js';
import type { Report } from './types.js';

export type ReportFormatName = 'text' | 'json' | 'markdown' | 'sarif' | 'junit';

export interface RenderReportOptions {
  /** The rules that were selected (described in SARIF and JUnit). */
  readonly rules: readonly AnyRule[];
  /** The gate's threshold (`--fail-on`). */
  readonly failOn: FailOn;
  /** The baseline file the report was gated against (the text report counts baselined findings). */
  readonly baselineFile?: string;
  /** The file SARIF results point at (default `postgresql/<database>`). */
  readonly sarifArtifact?: string;
  /** Colour the text report (a terminal that wants it). */
  readonly color?: boolean;
}

export function renderReport(report: Report, format: ReportFormatName, options: RenderReportOptions): string {
  const { rules, failOn } = options;
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'markdown':
      return renderMarkdown(report, { failOn });
    case 'sarif':
      return renderSarif(report, rules, { artifactUri: options.sarifArtifact });
    case 'junit':
      return renderJunit(report, rules, failOn);
    default: {
      // The terminal report shows what gates; baselined findings are counted in one line (JSON has them).
      const gated = withoutBaselined(report);
      const known = report.findings.length - gated.findings.length;
      const text = renderText(gated, { color: options.color ?? false, failOn });
      return options.baselineFile && known > 0
        ? `${text}${known} baselined finding${known === 1 ? '' : 's'} (in ${options.baselineFile}) not shown; --format json lists them\n`
        : text;
    }
  }
}
