import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { maskUrl } from '../../collector/mask-url.js';
import type { AnyRule } from '../../engine/types.js';
import { UsageError } from '../../errors/errors.js';
import { formatConfigIssues } from '../schema.js';
import { intervalToCron } from '../../scheduler/cron-interval.js';
import { parseLongDuration } from './duration.js';
import { buildDaemonConfigSchema, type DaemonConfigFile } from './schema.js';

export type TokenScope = 'read' | 'admin';

export interface DaemonTargetConfig {
  readonly name: string;
  /** Secret: never log; use maskedUrl. */
  readonly url: string;
  readonly maskedUrl: string;
  readonly intervalMs: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  /** Rule ids to evaluate, in registry order. */
  readonly ruleIds: readonly string[];
  readonly ruleSettings: Readonly<Record<string, { readonly thresholds: Readonly<Record<string, number>> }>>;
}

export interface ApiToken {
  readonly name: string;
  readonly scope: TokenScope;
  /** Secret: never log. */
  readonly token: string;
}

/** The resolved, validated, frozen daemon configuration. */
export interface DaemonConfig {
  readonly targets: readonly DaemonTargetConfig[];
  /** Secret when set (ADVISOR_STORE_URL): never log; use storeLocation. */
  readonly store: { readonly url: string | null; readonly dir: string; readonly maxConnections: number };
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly tokens: readonly ApiToken[];
    readonly rateLimit: { readonly max: number; readonly windowMs: number };
  };
  readonly retention: {
    readonly samplesMs: number;
    readonly resolvedFindingsMs: number;
    readonly auditsMs: number;
    readonly queryTextsMs: number;
    readonly rollupsMs: number;
  };
  readonly lifecycle: { readonly resolveAfterMisses: number };
  readonly audits: { readonly windowMs: number; readonly schedule: string | null };
  readonly replica: { readonly id: string; readonly leaseTtlMs: number };
  readonly configFile: string | null;
}

export interface LoadDaemonConfigInput {
  readonly file?: string;
  /** The config file's text (tests); `file` then only names it in messages. */
  readonly text?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly rules: readonly AnyRule[];
  /** Resolve only store settings (for `migrate`): targets and their secrets are not needed then. */
  readonly storeOnly?: boolean;
}

const HINT = 'see docs/deployment.md for the daemon config file';
const ms = (text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const parsed = parseLongDuration(text);
  return parsed.ok ? parsed.ms : fallback;
};

/**
 * Reads the daemon config file (YAML or JSON) and applies env overrides: ADVISOR_STORE_URL,
 * ADVISOR_STORE_DIR, ADVISOR_API_HOST, ADVISOR_API_PORT, ADVISOR_API_TOKEN (admin) and
 * ADVISOR_API_READ_TOKEN (read). Without targets in the file, DATABASE_URL becomes the target `default`.
 * Throws UsageError naming each bad key's path and what is allowed. Secrets come only from env or files.
 */
export function loadDaemonConfig(input: LoadDaemonConfigInput): DaemonConfig {
  const origin = input.file ?? '(no config file)';
  const raw = input.text !== undefined ? parseText(input.text, origin) : input.file ? parseText(read(input.file), origin) : {};
  const result = buildDaemonConfigSchema(input.rules).safeParse(raw ?? {});
  if (!result.success) {
    throw new UsageError(`invalid config file ${origin}:\n  ${formatConfigIssues(result.error.issues).join('\n  ')}`, { hint: HINT });
  }
  return Object.freeze(resolve(result.data, input, origin));
}

function resolve(file: DaemonConfigFile, input: LoadDaemonConfigInput, origin: string): DaemonConfig {
  const env = input.env;
  const problems: string[] = [];
  const defaultInterval = ms(file.defaults?.interval, 60_000);
  const fileTargets = file.targets ?? [];
  const targetsIn = input.storeOnly ? [] : fileTargets.length > 0 ? fileTargets : env.DATABASE_URL ? [{ name: 'default', urlEnv: 'DATABASE_URL' }] : [];
  const names = new Set<string>();
  const targets: DaemonTargetConfig[] = [];
  targetsIn.forEach((t, i) => {
    const at = `targets.${i}`;
    if (names.has(t.name)) problems.push(`${at}.name: duplicate target name ${t.name}`);
    names.add(t.name);
    const url = targetUrl(t, env, at, problems);
    if (url === null) return;
    const rulesOf = { ...(file.defaults?.rules ?? {}), ...('rules' in t ? (t.rules ?? {}) : {}) };
    const ruleIds = input.rules.filter((r) => rulesOf[r.id]?.enabled !== false).map((r) => r.id);
    const ruleSettings: Record<string, { thresholds: Record<string, number> }> = {};
    for (const [id, options] of Object.entries(rulesOf)) {
      const thresholds = Object.fromEntries(Object.entries(options?.thresholds ?? {}).filter((e): e is [string, number] => e[1] !== undefined));
      if (Object.keys(thresholds).length > 0) ruleSettings[id] = { thresholds };
    }
    const full = t as NonNullable<DaemonConfigFile['targets']>[number];
    const intervalMs = ms(full.interval, defaultInterval);
    try {
      intervalToCron(intervalMs);
    } catch (error) {
      problems.push(`${at}.interval: ${(error as UsageError).message}; ${(error as UsageError).hint ?? ''}`);
    }
    targets.push({
      name: t.name,
      url,
      maskedUrl: maskUrl(url),
      intervalMs,
      statementTimeoutMs: ms(full.statementTimeout, 5000),
      connectTimeoutMs: ms(full.connectTimeout, 5000),
      maxConnections: full.maxConnections ?? 2,
      ruleIds,
      ruleSettings,
    });
  });

  const tokens: ApiToken[] = [];
  for (const [i, t] of (input.storeOnly ? [] : (file.api?.tokens ?? [])).entries()) {
    const secret = secretFrom({ env: t.env, file: t.file }, env, `api.tokens.${i}`, problems);
    if (secret !== null) tokens.push({ name: t.name, scope: t.scope, token: secret });
  }
  if (env.ADVISOR_API_TOKEN) tokens.push({ name: 'ADVISOR_API_TOKEN', scope: 'admin', token: env.ADVISOR_API_TOKEN });
  if (env.ADVISOR_API_READ_TOKEN) tokens.push({ name: 'ADVISOR_API_READ_TOKEN', scope: 'read', token: env.ADVISOR_API_READ_TOKEN });
  for (const t of tokens) if (t.token.length < 16) problems.push(`api.tokens (${t.name}): a token needs at least 16 characters`);

  const port = env.ADVISOR_API_PORT !== undefined ? Number(env.ADVISOR_API_PORT) : (file.api?.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`ADVISOR_API_PORT: expected a port number 0–65535, got ${env.ADVISOR_API_PORT}`);
  const storeUrlEnv = file.store?.urlEnv ?? 'ADVISOR_STORE_URL';
  if (problems.length > 0) throw new UsageError(`invalid daemon configuration (${origin}):\n  ${problems.join('\n  ')}`, { hint: HINT });

  return {
    targets,
    store: { url: env[storeUrlEnv] || null, dir: env.ADVISOR_STORE_DIR ?? file.store?.dir ?? './.pg-advisor/store', maxConnections: file.store?.maxConnections ?? 5 },
    api: {
      host: env.ADVISOR_API_HOST ?? file.api?.host ?? '127.0.0.1',
      port,
      tokens,
      rateLimit: { max: file.api?.rateLimit?.max ?? 600, windowMs: ms(file.api?.rateLimit?.window, 60_000) },
    },
    retention: {
      samplesMs: ms(file.retention?.samples, 7 * 86_400_000),
      resolvedFindingsMs: ms(file.retention?.resolvedFindings, 30 * 86_400_000),
      auditsMs: ms(file.retention?.audits, 30 * 86_400_000),
      queryTextsMs: ms(file.retention?.queryTexts, 30 * 86_400_000),
      rollupsMs: ms(file.retention?.rollups, 56 * 86_400_000),
    },
    lifecycle: { resolveAfterMisses: file.lifecycle?.resolveAfterMisses ?? 3 },
    audits: { windowMs: ms(file.audits?.window, 10_000), schedule: file.audits?.schedule ?? null },
    replica: { id: env.ADVISOR_REPLICA_ID ?? file.replica?.id ?? `${hostname()}-${process.pid}`, leaseTtlMs: ms(file.replica?.leaseTtl, 0) },
    configFile: input.file ?? null,
  };
}

function targetUrl(
  t: { url?: string; urlEnv?: string; urlFile?: string },
  env: LoadDaemonConfigInput['env'],
  at: string,
  problems: string[],
): string | null {
  const given = [t.url, t.urlEnv, t.urlFile].filter((v) => v !== undefined).length;
  if (given !== 1) {
    problems.push(`${at}: give exactly one of url, urlEnv, urlFile`);
    return null;
  }
  if (t.url !== undefined) {
    if (maskUrl(t.url) !== t.url) {
      problems.push(`${at}.url: contains a password; put the URL in an environment variable (urlEnv) or a file (urlFile) instead`);
      return null;
    }
    return t.url;
  }
  return secretFrom({ env: t.urlEnv, file: t.urlFile }, env, at, problems);
}

function secretFrom(
  from: { env?: string; file?: string },
  env: LoadDaemonConfigInput['env'],
  at: string,
  problems: string[],
): string | null {
  if (from.env !== undefined) {
    const value = env[from.env];
    if (!value) problems.push(`${at}: environment variable ${from.env} is not set`);
    return value || null;
  }
  if (from.file !== undefined) {
    try {
      return readFileSync(from.file, 'utf8').trim();
    } catch (error) {
      problems.push(`${at}: cannot read ${from.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return null;
    }
  }
  problems.push(`${at}: give env or file`);
  return null;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new UsageError(`cannot read config file ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { hint: 'check the path given to --config', cause });
  }
}

function parseText(text: string, origin: string): unknown {
  if (extname(origin).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new UsageError(`config file ${origin} is not valid JSON: ${(cause as Error).message}`, { hint: HINT, cause });
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const where = first.linePos?.[0] ? ` (line ${first.linePos[0].line}, column ${first.linePos[0].col})` : '';
    throw new UsageError(`config file ${origin} is not valid YAML${where}: ${first.message.split('\n')[0]}`, { hint: HINT });
  }
  return doc.toJS() as unknown;
}

/** The configuration with every secret removed (for logs and `/api/v1/targets`). */
export function describeDaemonConfig(config: DaemonConfig): Record<string, unknown> {
  return {
    targets: config.targets.map((t) => ({ name: t.name, url: t.maskedUrl, intervalMs: t.intervalMs, rules: t.ruleIds })),
    store: config.store.url ? maskUrl(config.store.url) : config.store.dir,
    api: { host: config.api.host, port: config.api.port, tokens: config.api.tokens.map((t) => ({ name: t.name, scope: t.scope })) },
    retention: config.retention,
  };
}
