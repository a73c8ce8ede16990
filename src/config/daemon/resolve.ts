import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { extname } from 'node:path';
import cron from 'node-cron';
import { parseDocument } from 'yaml';
import { yamlToJs } from '../load.js';
import { maskUrl } from '../../secrets/index.js';
import { unsafeUrlSettings } from '../../collector/session-safety.js';
import type { AnyRule, Severity } from '../../engine/types.js';
import type { Destination } from '../../notify/types.js';
import { UsageError } from '../../errors/errors.js';
import { formatConfigIssues } from '../schema.js';
import { intervalToCron } from '../../scheduler/cron-interval.js';
import { parseLongDuration } from './duration.js';
import { buildDaemonConfigSchema, type DaemonConfigFile } from './schema.js';

/** Rules see the last 5 minutes of samples by default (up to 30 samples; src/daemon/history.ts). */
export const DEFAULT_HISTORY_MS = 5 * 60_000;

export type TokenScope = 'read' | 'admin';

export interface DaemonTargetConfig {
  readonly name: string;
  /** Secret: never log; use maskedUrl. */
  readonly url: string;
  readonly maskedUrl: string;
  readonly intervalMs: number;
  /** How far back rules see (milliseconds; 0 = only the previous sample). */
  readonly historyMs: number;
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

/** One scheduled audit: when, which targets, what to report and where to post it. */
export interface AuditScheduleConfig {
  readonly name: string;
  /** node-cron expression (5 fields, or 6 with seconds first). */
  readonly cron: string;
  /** IANA time zone the cron expression is read in (default UTC). */
  readonly timezone: string;
  /** Target names (default: every configured target). */
  readonly targets: readonly string[];
  /** Sampling window (0 = one snapshot; default audits.window). */
  readonly windowMs: number;
  readonly minSeverity: Severity;
  /** Destination names. */
  readonly destinations: readonly string[];
  readonly quietWhenUnchanged: boolean;
}

export interface DeliveryConfig {
  /** How often the outbox pump looks for due messages. */
  readonly pollIntervalMs: number;
  /** HTTP requests in flight across all destinations. */
  readonly concurrency: number;
  /** Per attempt. */
  readonly timeoutMs: number;
  /** Retrying within one pump run stops after this long; the outbox retries later. */
  readonly maxElapsedMs: number;
  /** Wait before the outbox retries a message that failed transiently. */
  readonly retryDelayMs: number;
  /** A message older than this is given up (recorded as failed). */
  readonly maxAgeMs: number;
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
  readonly audits: { readonly windowMs: number; readonly schedules: readonly AuditScheduleConfig[] };
  /** Chat destinations. Secret: URLs (Slack, Teams, Discord) and webhook secrets; never log, use describeDaemonConfig. */
  readonly destinations: readonly Destination[];
  /** Base of links in audit messages (e.g. https://advisor.example.com), or null. */
  readonly publicBaseUrl: string | null;
  readonly delivery: DeliveryConfig;
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
  const defaultHistory = ms(file.defaults?.history, DEFAULT_HISTORY_MS);
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
    const unsafe = unsafeUrlSettings(url);
    if (unsafe.length > 0) {
      problems.push(
        `${at}: the URL sets ${unsafe.join(', ')}, which would override the advisor's safety settings; ` +
          'remove them (the statement timeout is the statementTimeout key)',
      );
    }
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
      historyMs: ms(full.history, defaultHistory),
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

  const destinations = input.storeOnly ? [] : resolveDestinations(file.destinations ?? [], env, problems);
  const auditWindowMs = ms(file.audits?.window, 10_000);
  const schedules = input.storeOnly
    ? []
    : resolveSchedules(
        file.audits?.schedules ?? [],
        auditWindowMs,
        targets.map((t) => t.name),
        new Set(destinations.map((d) => d.name)),
        problems,
      );

  const port = env.ADVISOR_API_PORT !== undefined ? Number(env.ADVISOR_API_PORT) : (file.api?.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`ADVISOR_API_PORT: expected a port number 0–65535, got ${env.ADVISOR_API_PORT}`);
  const storeUrlEnv = file.store?.urlEnv ?? 'ADVISOR_STORE_URL';
  if (problems.length > 0) throw new UsageError(`invalid daemon configuration (${origin}):\n  ${problems.join('\n  ')}`, { hint: HINT });

  return {
    targets,
    store: {
      url: env[storeUrlEnv] || null,
      dir: env.ADVISOR_STORE_DIR ?? file.store?.dir ?? './.pg-advisor/store',
      maxConnections: file.store?.maxConnections ?? 5,
    },
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
    audits: { windowMs: auditWindowMs, schedules },
    destinations,
    publicBaseUrl: file.publicBaseUrl ?? null,
    delivery: {
      pollIntervalMs: ms(file.delivery?.pollInterval, 5000),
      concurrency: file.delivery?.concurrency ?? 4,
      timeoutMs: ms(file.delivery?.timeout, 10_000),
      maxElapsedMs: ms(file.delivery?.maxElapsed, 30_000),
      retryDelayMs: ms(file.delivery?.retryDelay, 5 * 60_000),
      maxAgeMs: ms(file.delivery?.maxAge, 86_400_000),
    },
    replica: { id: env.ADVISOR_REPLICA_ID ?? file.replica?.id ?? `${hostname()}-${process.pid}`, leaseTtlMs: ms(file.replica?.leaseTtl, 0) },
    configFile: input.file ?? null,
  };
}

function resolveDestinations(list: NonNullable<DaemonConfigFile['destinations']>, env: LoadDaemonConfigInput['env'], problems: string[]): Destination[] {
  const out: Destination[] = [];
  const names = new Set<string>();
  list.forEach((d, i) => {
    const at = `destinations.${i}`;
    if (names.has(d.name)) problems.push(`${at}.name: duplicate destination name ${d.name}`);
    names.add(d.name);
    const given = [d.url, d.urlEnv, d.urlFile].filter((v) => v !== undefined).length;
    if (given !== 1) {
      problems.push(`${at}: give exactly one of url, urlEnv, urlFile`);
      return;
    }
    if (d.url !== undefined && d.kind !== 'webhook') {
      problems.push(`${at}.url: a ${d.kind} webhook URL carries its token; put it in an environment variable (urlEnv) or a file (urlFile) instead`);
      return;
    }
    if (d.url !== undefined && maskUrl(d.url) !== d.url) {
      problems.push(`${at}.url: contains a password; put the URL in an environment variable (urlEnv) or a file (urlFile) instead`);
      return;
    }
    const url = d.url ?? secretFrom({ env: d.urlEnv, file: d.urlFile }, env, at, problems);
    if (url === null) return;
    if (!isHttpUrl(url)) {
      problems.push(`${at}: the URL${d.url === undefined ? ` from ${d.urlEnv ?? d.urlFile}` : ''} must be http(s)`);
      return;
    }
    if (d.kind === 'webhook') {
      if (!d.secret) {
        problems.push(`${at}.secret: a webhook needs a signing secret (secret: { env: NAME } or { file: PATH })`);
        return;
      }
      const secret = secretFrom(d.secret, env, `${at}.secret`, problems);
      if (secret === null) return;
      if (secret.length < 16) {
        problems.push(`${at}.secret: a signing secret needs at least 16 characters`);
        return;
      }
      out.push({ name: d.name, kind: 'webhook', url, secret });
    } else {
      if (d.secret) problems.push(`${at}.secret: only webhook destinations are signed; remove secret`);
      out.push({ name: d.name, kind: d.kind, url });
    }
  });
  return out;
}

function resolveSchedules(
  list: NonNullable<NonNullable<DaemonConfigFile['audits']>['schedules']>,
  defaultWindowMs: number,
  targetNames: readonly string[],
  destinationNames: ReadonlySet<string>,
  problems: string[],
): AuditScheduleConfig[] {
  const names = new Set<string>();
  return list.map((a, i) => {
    const at = `audits.schedules.${i}`;
    if (names.has(a.name)) problems.push(`${at}.name: duplicate audit name ${a.name}`);
    names.add(a.name);
    if (!cron.validate(a.cron)) {
      problems.push(
        `${at}.cron: "${a.cron}" is not a cron expression; write 5 fields (minute hour day month weekday, e.g. "0 7 * * 1-5") or 6 with seconds first`,
      );
    }
    const timezone = a.timezone ?? 'UTC';
    if (!isTimeZone(timezone)) problems.push(`${at}.timezone: "${timezone}" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
    for (const t of a.targets ?? [])
      if (!targetNames.includes(t)) problems.push(`${at}.targets: no target named ${t}; configured: ${targetNames.join(', ') || '(none)'}`);
    for (const d of a.destinations) {
      if (!destinationNames.has(d)) problems.push(`${at}.destinations: no destination named ${d}; configured: ${[...destinationNames].join(', ') || '(none)'}`);
    }
    return {
      name: a.name,
      cron: a.cron,
      timezone,
      targets: a.targets ?? [...targetNames],
      windowMs: ms(a.window, defaultWindowMs),
      minSeverity: a.minSeverity ?? 'warning',
      destinations: [...new Set(a.destinations)],
      quietWhenUnchanged: a.quietWhenUnchanged ?? false,
    };
  });
}

function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A destination URL safe to show: scheme and host only (Slack, Teams and Discord keep their token in the path). */
export function maskDestinationUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/***`;
  } catch {
    return '***';
  }
}

function targetUrl(t: { url?: string; urlEnv?: string; urlFile?: string }, env: LoadDaemonConfigInput['env'], at: string, problems: string[]): string | null {
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

function secretFrom(from: { env?: string; file?: string }, env: LoadDaemonConfigInput['env'], at: string, problems: string[]): string | null {
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
    throw new UsageError(`cannot read config file ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'check the path given to --config',
      cause,
    });
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
  return yamlToJs(doc, origin);
}

/** The configuration with every secret removed (for logs and `/api/v1/targets`). */
export function describeDaemonConfig(config: DaemonConfig): Record<string, unknown> {
  return {
    targets: config.targets.map((t) => ({ name: t.name, url: t.maskedUrl, intervalMs: t.intervalMs, historyMs: t.historyMs, rules: t.ruleIds })),
    store: config.store.url ? maskUrl(config.store.url) : config.store.dir,
    api: { host: config.api.host, port: config.api.port, tokens: config.api.tokens.map((t) => ({ name: t.name, scope: t.scope })) },
    retention: config.retention,
    destinations: config.destinations.map((d) => ({ name: d.name, kind: d.kind, url: maskDestinationUrl(d.url) })),
    audits: config.audits.schedules.map((a) => ({ name: a.name, cron: a.cron, timezone: a.timezone, targets: a.targets, destinations: a.destinations })),
    publicBaseUrl: config.publicBaseUrl,
  };
}
