import { UsageError } from '../errors/errors.js';
import type { AnyRule } from '../engine/types.js';
import { CONNECT_TIMEOUT_BOUNDS, parseDuration, STATEMENT_TIMEOUT_BOUNDS, WINDOW_BOUNDS, type DurationBounds } from './duration.js';
import { loadConfigFile } from './load.js';
import { FAIL_ON_LEVELS, type ConfigFileOptions, type FailOn } from './schema.js';

export const REPORT_FORMATS = ['text', 'json', 'markdown', 'sarif', 'junit'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** `check` flags as given on the command line (undefined = not given). */
export interface CheckFlags {
  readonly databaseUrl?: string;
  readonly format?: string;
  readonly window?: string;
  readonly failOn?: string;
  readonly rules?: string;
  readonly config?: string;
  readonly statementTimeout?: string;
  readonly connectTimeout?: string;
}

export type DatabaseUrlSource = '--database-url' | 'DATABASE_URL' | 'config file' | 'PG* environment';

/** The resolved, validated, frozen configuration of one `check` run. */
export interface Config {
  /** Target connection URL; null when none was given anywhere. */
  readonly databaseUrl: string | null;
  readonly databaseUrlSource: DatabaseUrlSource | null;
  readonly format: ReportFormat;
  /** Sampling window (milliseconds; 0 = a single snapshot). */
  readonly windowMs: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly failOn: FailOn;
  /** Ids of the rules to evaluate, in registry order. */
  readonly ruleIds: readonly string[];
  /** Threshold overrides keyed by rule id (only keys the config file set). */
  readonly ruleSettings: Readonly<Record<string, { readonly thresholds: Readonly<Record<string, number>> }>>;
  readonly configFile: string | null;
}

export const DEFAULTS = {
  format: 'text' as ReportFormat,
  windowMs: 0,
  statementTimeoutMs: 5000,
  connectTimeoutMs: 5000,
  failOn: 'warning' as FailOn,
};

export interface ResolveConfigInput {
  readonly flags: CheckFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly rules: readonly AnyRule[];
  /** Overrides for callers that are not the command line (e.g. demo). */
  readonly defaults?: Partial<typeof DEFAULTS>;
}

/**
 * flags > environment > config file > defaults. Connection per libpq conventions: `--database-url`,
 * else DATABASE_URL, else the config file's databaseUrl, else PG* variables (which libpq treats as
 * defaults). Throws UsageError saying what is valid.
 */
export function resolveConfig(input: ResolveConfigInput): Config {
  const { flags, env, rules } = input;
  const defaults = { ...DEFAULTS, ...input.defaults };
  const file: ConfigFileOptions = flags.config ? loadConfigFile(flags.config, rules) : {};

  const format = flags.format ?? defaults.format;
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format ${format} is not supported; valid: ${REPORT_FORMATS.join(', ')}`);
  }
  const failOn = flags.failOn ?? file.failOn ?? defaults.failOn;
  if (!(FAIL_ON_LEVELS as readonly string[]).includes(failOn)) {
    throw new UsageError(`--fail-on ${failOn} is not a level; valid: ${FAIL_ON_LEVELS.join(', ')}`, {
      hint: 'critical fails only on critical findings, never always exits 0 when the check ran',
    });
  }

  const { url, source } = resolveDatabaseUrl(flags.databaseUrl, env, file.databaseUrl);
  const config: Config = {
    databaseUrl: url,
    databaseUrlSource: source,
    format: format as ReportFormat,
    windowMs: durationOption('--window', flags.window, file.window, defaults.windowMs, WINDOW_BOUNDS),
    statementTimeoutMs: durationOption(
      '--statement-timeout',
      flags.statementTimeout,
      file.statementTimeout,
      defaults.statementTimeoutMs,
      STATEMENT_TIMEOUT_BOUNDS,
    ),
    connectTimeoutMs: durationOption('--connect-timeout', flags.connectTimeout, file.connectTimeout, defaults.connectTimeoutMs, CONNECT_TIMEOUT_BOUNDS),
    failOn: failOn as FailOn,
    ruleIds: selectRules(flags.rules, file, rules),
    ruleSettings: Object.fromEntries(
      Object.entries(file.rules ?? {}).flatMap(([id, options]) => {
        const set = Object.entries(options?.thresholds ?? {}).filter((e): e is [string, number] => e[1] !== undefined);
        return set.length > 0 ? [[id, { thresholds: Object.fromEntries(set) }]] : [];
      }),
    ),
    configFile: flags.config ?? null,
  };
  return deepFreeze(config);
}

function durationOption(flag: string, fromFlag: string | undefined, fromFile: string | undefined, fallback: number, bounds: DurationBounds): number {
  const text = fromFlag ?? fromFile;
  if (text === undefined) return fallback;
  const parsed = parseDuration(text, bounds);
  if (!parsed.ok) {
    const where = fromFlag !== undefined ? flag : `${flag.replace(/^--/, '')} in the config file`;
    throw new UsageError(`${where}: ${parsed.problem}`, { hint: `for example ${flag} ${bounds.allowZero ? '10s' : '5s'}` });
  }
  return parsed.ms;
}

/** `--rules a,b`: every id must exist; else all rules the config file does not disable. */
function selectRules(flag: string | undefined, file: ConfigFileOptions, rules: readonly AnyRule[]): string[] {
  const known = rules.map((r) => r.id);
  if (flag !== undefined) {
    const wanted = flag
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (wanted.length === 0) {
      throw new UsageError('--rules needs at least one rule id', { hint: `valid: ${known.join(', ')} (pg-advisor rules lists them)` });
    }
    const unknown = wanted.filter((id) => !known.includes(id));
    if (unknown.length > 0) {
      throw new UsageError(`--rules: unknown rule ${unknown.map((id) => `"${id}"`).join(', ')}; valid: ${known.join(', ')}`, {
        hint: 'pg-advisor rules lists every rule with its thresholds',
      });
    }
    return known.filter((id) => wanted.includes(id));
  }
  return known.filter((id) => file.rules?.[id]?.enabled !== false);
}

export function resolveDatabaseUrl(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  fromFile: string | undefined,
): { url: string | null; source: DatabaseUrlSource | null } {
  const candidates: [string | undefined | null, DatabaseUrlSource][] = [
    [flag, '--database-url'],
    [env.DATABASE_URL, 'DATABASE_URL'],
    [fromFile, 'config file'],
    [urlFromPgEnv(env), 'PG* environment'],
  ];
  for (const [value, source] of candidates) {
    if (value === undefined || value === null || value.trim() === '') continue;
    if (!/^postgres(ql)?:\/\//i.test(value.trim())) {
      throw new UsageError(`the connection URL from ${source} must start with postgres:// or postgresql://`, {
        hint: 'write it as postgres://user:password@host:5432/database (key=value strings are not supported)',
      });
    }
    return { url: value.trim(), source };
  }
  return { url: null, source: null };
}

/** Builds a URL from PGHOST/PGHOSTADDR/PGPORT/PGUSER/PGPASSWORD/PGDATABASE/PGSSLMODE; null if none of host, port, user, database is set. */
export function urlFromPgEnv(env: Readonly<Record<string, string | undefined>>): string | null {
  const host = env.PGHOST || env.PGHOSTADDR;
  const { PGPORT: port, PGUSER: user, PGPASSWORD: password, PGDATABASE: database, PGSSLMODE: sslmode } = env;
  if (!host && !port && !user && !database) return null;
  const auth = user ? `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}@` : '';
  // A host starting with "/" is a unix socket directory; percent-encoding keeps it in the host part.
  const hostPart = host ? (host.startsWith('/') ? encodeURIComponent(host) : host.includes(':') ? `[${host}]` : host) : 'localhost';
  const query = sslmode ? `?sslmode=${encodeURIComponent(sslmode)}` : '';
  return `postgres://${auth}${hostPart}${port ? `:${port}` : ''}/${encodeURIComponent(database ?? user ?? '')}${query}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
