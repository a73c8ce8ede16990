/**
 * `check --output FORMAT=FILE` (repeatable): the same report written to files in other formats, so one
 * run (one snapshot or --window) feeds SARIF upload, a PR comment and JUnit at once. Specs are checked
 * before anything connects; files are written whole (temporary file, then rename) or not at all.
 */
import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { REPORT_FORMATS, type ReportFormat } from '../config/resolve.js';
import { UsageError } from '../errors/errors.js';

export interface OutputSpec {
  readonly format: ReportFormat;
  /** As given (for messages). */
  readonly path: string;
}

const HINT = `write --output FORMAT=FILE, e.g. --output sarif=pg-advisor.sarif --output markdown=comment.md (formats: ${REPORT_FORMATS.join(', ')})`;

/** Parses and checks the specs (known format, a file in an existing writable directory, no file twice). */
export function parseOutputs(values: readonly string[]): OutputSpec[] {
  const specs: OutputSpec[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    const eq = value.indexOf('=');
    const format = eq > 0 ? value.slice(0, eq).trim() : '';
    const path = eq > 0 ? value.slice(eq + 1).trim() : '';
    if (!format || !path) throw new UsageError(`--output ${value}: expected FORMAT=FILE`, { hint: HINT });
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--output ${value}: unknown format ${format}; valid: ${REPORT_FORMATS.join(', ')}`, { hint: HINT });
    }
    const absolute = resolve(path);
    if (seen.has(absolute)) throw new UsageError(`--output ${value}: ${path} is named twice`, { hint: 'give each format its own file' });
    seen.add(absolute);
    checkWritable(value, absolute);
    specs.push({ format: format as ReportFormat, path });
  }
  return specs;
}

function checkWritable(value: string, absolute: string): void {
  const dir = dirname(absolute);
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--output ${value}: cannot write in ${dir}`, { hint: 'create the directory first, or choose a writable path' });
  }
  try {
    if (statSync(absolute).isDirectory()) throw new UsageError(`--output ${value}: ${absolute} is a directory`, { hint: 'name a file' });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // does not exist yet: fine
  }
}

/** Writes `text` to `path` whole: a temporary file next to it, then a rename. */
export function writeOutputFile(path: string, text: string): void {
  const absolute = resolve(path);
  const temporary = `${absolute}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, absolute);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new UsageError(`could not write the report to ${path}: ${(error as Error).message}`, {
      hint: 'check the path and free space; the report on stdout is complete',
      cause: error,
    });
  }
}
