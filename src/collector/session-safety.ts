import { UsageError } from '../errors/errors.js';
import { APPLICATION_NAME } from './sql-marker.js';

/**
 * The session settings of the safety contract (ARCHITECTURE § target). They are sent as startup options,
 * set again on every new session (SAFETY_SETTINGS_SQL) and verified on the first one (SAFETY_CHECK_SQL).
 */
export interface SafetySettings {
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly idleInTransactionMs: number;
}

/** GUCs a connection URL must not touch: each one could switch a safety setting off. */
export const PROTECTED_SETTINGS = [
  'default_transaction_read_only',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'application_name',
  'transaction_read_only',
] as const;

/**
 * Refuses (before connecting) a connection URL that would override a safety setting: a query parameter
 * named after one (`?statement_timeout=0`; node-pg lets the URL win over our options) or an `options`
 * parameter that sets one (`?options=-c statement_timeout=0`). Other options (search_path …) pass.
 * A string that is not a URL (key=value form) is checked for the same names. Never prints the password.
 */
export function refuseUnsafeUrl(url: string, masked: string): void {
  const offending = unsafeUrlSettings(url);
  if (offending.length === 0) return;
  throw new UsageError(`The connection URL ${masked} sets ${offending.join(', ')}, which would override the advisor's safety settings`, {
    hint:
      `remove ${offending.join(', ')} from the URL; pg-advisor always sets application_name=${APPLICATION_NAME}, ` +
      'default_transaction_read_only=on, lock_timeout and idle_in_transaction_session_timeout itself, and the ' +
      'statement timeout through --statement-timeout (statementTimeout in the daemon config)',
  });
}

/** The protected settings a connection string names, as `name` or `options: -c name`. Exported for tests. */
export function unsafeUrlSettings(url: string): string[] {
  const pairs: [string, string][] = [];
  try {
    const parsed = new URL(url);
    for (const [key, value] of parsed.searchParams) pairs.push([key.toLowerCase(), value]);
  } catch {
    // libpq key=value form: key = value pairs separated by blanks (values may be quoted).
    for (const [, key, value] of url.matchAll(/([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)) {
      if (key !== undefined && value !== undefined) pairs.push([key.toLowerCase(), value.replace(/^'|'$/g, '')]);
    }
  }
  const out = new Set<string>();
  for (const [key, value] of pairs) {
    if ((PROTECTED_SETTINGS as readonly string[]).includes(key)) out.add(key);
    if (key === 'options') {
      for (const name of PROTECTED_SETTINGS) {
        // -c name=value, --name=value; PostgreSQL treats '-' in GUC names as '_'.
        if (new RegExp(`(^|[\\s-])${name.replaceAll('_', '[_-]')}\\s*=`, 'i').test(value)) out.add(`options: ${name}`);
      }
    }
  }
  return [...out];
}

/** Startup options (`-c …`): the settings are in force from the session's first statement. */
export function startupOptions(s: SafetySettings): string {
  return [`-c default_transaction_read_only=on`, `-c statement_timeout=${s.statementTimeoutMs}`, `-c lock_timeout=${s.lockTimeoutMs}`].join(' ');
}

/**
 * Runs first on every new session: remembers the server's idle_in_transaction_session_timeout (what the
 * application's sessions get) in a custom setting, then sets every safety setting again, so neither a
 * startup option nor a role or database setting can have changed them. idle_in_transaction_session_timeout
 * is set here only: sent as a startup option, the server's value would be invisible to the settings source.
 * Values are integers we format ourselves (no user text).
 */
export function safetySettingsSql(s: SafetySettings): string {
  const set = (name: string, value: string | number): string => `select /* pg-advisor */ pg_catalog.set_config('${name}', '${value}', false)`;
  return [
    `select /* pg-advisor */ pg_catalog.set_config('pg_advisor.server_idle_in_transaction_session_timeout', ` +
      `pg_catalog.current_setting('idle_in_transaction_session_timeout'), false)`,
    set('idle_in_transaction_session_timeout', Math.round(s.idleInTransactionMs)),
    set('statement_timeout', Math.round(s.statementTimeoutMs)),
    set('lock_timeout', Math.round(s.lockTimeoutMs)),
    set('default_transaction_read_only', 'on'),
    set('application_name', APPLICATION_NAME),
  ].join('; ');
}

/** A duration GUC of this session in milliseconds (current_setting shows it with a unit: 5s, 500ms, 0). */
const settingMs = (name: string): string => `(extract(epoch from pg_catalog.current_setting('${name}')::interval) * 1000)::float8`;

/** Advisor sessions of this role in this database other than this one, and the safety settings in force. */
export const SAFETY_CHECK_SQL = `select /* pg-advisor */
  (select count(*)::int from pg_catalog.pg_stat_activity a
    where a.application_name = $1 and a.usename = current_user and a.pid <> pg_catalog.pg_backend_pid()
      and a.datname = pg_catalog.current_database()
      and a.backend_type = 'client backend') as others,
  pg_catalog.current_setting('default_transaction_read_only') as read_only,
  pg_catalog.current_setting('application_name') as application_name,
  ${settingMs('statement_timeout')} as statement_timeout_ms,
  ${settingMs('lock_timeout')} as lock_timeout_ms,
  ${settingMs('idle_in_transaction_session_timeout')} as idle_in_transaction_ms`;

export interface SafetyCheckRow extends Record<string, unknown> {
  others: number;
  read_only: string;
  application_name: string;
  statement_timeout_ms: number;
  lock_timeout_ms: number;
  idle_in_transaction_ms: number;
}

/** The safety settings that are not in force as configured ([] when all are). */
export function safetyMismatches(row: SafetyCheckRow, s: SafetySettings): string[] {
  const out: string[] = [];
  if (row.read_only !== 'on') out.push(`default_transaction_read_only=${row.read_only}`);
  if (row.application_name !== APPLICATION_NAME) out.push(`application_name=${row.application_name}`);
  if (Number(row.statement_timeout_ms) !== Math.round(s.statementTimeoutMs)) {
    out.push(`statement_timeout=${row.statement_timeout_ms}ms`);
  }
  if (Number(row.lock_timeout_ms) !== Math.round(s.lockTimeoutMs)) out.push(`lock_timeout=${row.lock_timeout_ms}ms`);
  if (Number(row.idle_in_transaction_ms) !== Math.round(s.idleInTransactionMs)) {
    out.push(`idle_in_transaction_session_timeout=${row.idle_in_transaction_ms}ms`);
  }
  return out;
}
