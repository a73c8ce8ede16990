import type { Report } from './types.js';

/** The JSON report (contract version 1), pretty-printed, newline-terminated. */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
