import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { UsageError } from '../errors/errors.js';
import type { AnyRule } from '../engine/types.js';
import { buildConfigFileSchema, formatConfigIssues, type ConfigFileOptions } from './schema.js';

const CONFIG_HINT = 'see docs/config.md for the config file format (YAML or JSON)';
/** Alias expansions allowed in a YAML config (yaml's maxAliasCount): a few for shared settings, never a bomb. */
export const MAX_YAML_ALIASES = 100;

/**
 * Reads and validates a config file (YAML or JSON: `.json` is parsed as JSON, anything else as YAML,
 * which also accepts JSON). Throws UsageError naming the file, the bad key's path and what is valid.
 */
export function loadConfigFile(path: string, rules: readonly AnyRule[]): ConfigFileOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read config file ${path}${code ? ` (${code})` : ''}`, {
      hint: code === 'ENOENT' ? 'check the path given to --config' : CONFIG_HINT,
      cause,
    });
  }
  return parseConfigText(text, path, rules);
}

/** Parses and validates config text; `origin` names the file in messages. Exported for tests. */
export function parseConfigText(text: string, origin: string, rules: readonly AnyRule[]): ConfigFileOptions {
  const raw = extname(origin).toLowerCase() === '.json' ? parseJson(text, origin) : parseYaml(text, origin);
  const result = buildConfigFileSchema(rules).safeParse(raw ?? {});
  if (!result.success) {
    const lines = formatConfigIssues(result.error.issues);
    throw new UsageError(`invalid config file ${origin}:\n  ${lines.join('\n  ')}`, { hint: CONFIG_HINT });
  }
  return result.data;
}

function parseJson(text: string, origin: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new UsageError(`config file ${origin} is not valid JSON: ${(cause as Error).message}`, { hint: CONFIG_HINT, cause });
  }
}

function parseYaml(text: string, origin: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const where = first.linePos?.[0] ? ` (line ${first.linePos[0].line}, column ${first.linePos[0].col})` : '';
    const detail = (first.message.split('\n')[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, '');
    throw new UsageError(`config file ${origin} is not valid YAML${where}: ${detail}`, { hint: CONFIG_HINT });
  }
  return yamlToJs(doc, origin);
}

/**
 * A parsed YAML document as plain data, with alias expansion bounded. Throws UsageError (exit 2) for an
 * alias bomb ("billion laughs") or an alias that resolves to nothing. Shared by both config loaders.
 */
export function yamlToJs(doc: Document, origin: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
  } catch (cause) {
    // yaml throws a ReferenceError when aliases expand past the limit ("billion laughs"), or on an unresolvable alias.
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new UsageError(`config file ${origin} is not usable YAML: ${detail}`, {
      hint: `a config file needs few anchors and aliases (&name / *name): at most ${MAX_YAML_ALIASES} alias expansions; write the values out`,
      cause,
    });
  }
}
