/**
 * `pg-advisor setup`: the least-privilege SQL for one target database, as text for the DBA to review and run.
 * Pure: never connects, never applies anything. Safe to run twice (roles and extensions are created only when
 * missing). Identifiers are quoted with src/sql/quote.ts.
 */
import { UsageError } from '../errors/errors.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { doBlock } from './do-block.js';
import { renderExplainHelperSql } from './explain-helper-sql.js';
import { PROVIDER_IDS, PROVIDERS, type ProviderId } from './providers.js';

/** Connections the advisor may open per target is capped at 5 (ARCHITECTURE.md); the role gets the same limit. */
export const ADVISOR_CONNECTION_LIMIT = 5;
export const DEFAULT_SETUP_ROLE = 'advisor';
/** NAMEDATALEN - 1: longer identifiers are truncated by the server. */
const MAX_IDENTIFIER_BYTES = 63;
const RESERVED_ROLE_NAMES = new Set(['public', 'none', 'current_role', 'current_user', 'session_user']);

export interface SetupOptions {
  readonly role?: string;
  /** Database to GRANT CONNECT on; absent = the database the script is run in. */
  readonly database?: string;
  readonly provider?: string;
  readonly withHelpers?: boolean;
  /** Schemas whose tables the explain helper's owner may SELECT (default public). */
  readonly schemas?: readonly string[];
  /** Owner of the explain helper (default advisor_helper_owner). */
  readonly helperOwner?: string;
  /** pg-advisor's version, for the header. */
  readonly version?: string;
}

function checkIdentifier(kind: string, flag: string, name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (name.length === 0 || bytes > MAX_IDENTIFIER_BYTES || name.includes('\0')) {
    throw new UsageError(`${flag} ${JSON.stringify(name)} is not a valid ${kind} name`, {
      hint: `use 1 to ${MAX_IDENTIFIER_BYTES} bytes without NUL characters`,
    });
  }
}

/** Throws UsageError for a role name PostgreSQL would refuse (reserved `pg_` prefix, reserved words, length). */
export function validateRoleName(role: string, flag = '--role'): void {
  checkIdentifier('role', flag, role);
  if (/^pg_/i.test(role) || RESERVED_ROLE_NAMES.has(role.toLowerCase())) {
    throw new UsageError(`${flag} ${JSON.stringify(role)} is reserved by PostgreSQL`, {
      hint: `role names starting with pg_ and ${[...RESERVED_ROLE_NAMES].join(', ')} are reserved; e.g. --role ${DEFAULT_SETUP_ROLE}`,
    });
  }
}

export function resolveProvider(provider: string | undefined): ProviderId {
  const id = (provider ?? 'vanilla').toLowerCase();
  if (!(PROVIDER_IDS as readonly string[]).includes(id)) {
    throw new UsageError(`unknown provider "${provider}"`, { hint: `use one of: ${PROVIDER_IDS.join(', ')}` });
  }
  return id as ProviderId;
}

const comment = (lines: readonly string[]): string[] => lines.map((l) => `-- ${l}`.trimEnd());

/** The whole script. Throws UsageError on invalid names or an unknown provider. */
export function renderSetupSql(options: SetupOptions = {}): string {
  const roleName = options.role ?? DEFAULT_SETUP_ROLE;
  validateRoleName(roleName);
  if (options.database !== undefined) checkIdentifier('database', '--database', options.database);
  const schemas = options.schemas ?? ['public'];
  for (const s of schemas) {
    checkIdentifier('schema', '--schemas', s);
    if (/^pg_/i.test(s)) throw new UsageError(`--schemas: ${s} is a system schema`, { hint: 'name the schemas of your tables' });
  }
  if (options.helperOwner !== undefined) {
    validateRoleName(options.helperOwner, '--helper-owner');
    if (options.helperOwner === roleName) {
      throw new UsageError('--helper-owner must differ from --role', { hint: 'the advisor role must own nothing the helper runs as' });
    }
  }
  const provider = PROVIDERS[resolveProvider(options.provider)];
  const role = quoteIdent(roleName);
  const ext = provider.extensionSchema;
  const withSchema = ext ? ` with schema ${quoteIdent(ext)}` : '';
  const grantConnect = options.database
    ? [`grant connect on database ${quoteIdent(options.database)} to ${role};`]
    : [
        '-- CONNECT on the database this script runs in (pass --database NAME to name it instead):',
        ...doBlock([`  execute pg_catalog.format('grant connect on database %I to %I', pg_catalog.current_database(), ${quoteLiteral(roleName)});`]),
      ];

  const lines = [
    `-- pg-advisor${options.version ? ` ${options.version}` : ''} setup for ${provider.title}: a least-privilege role for \`pg-advisor check\``,
    '-- and the daemon. pg-advisor never runs this itself: review it, then run it connected to the database to check,',
    `-- as ${provider.runAs},`,
    '-- e.g.  psql -v ON_ERROR_STOP=1 -d <database> -f pg-advisor-setup.sql',
    '-- Safe to run again: roles and extensions are created only when missing.',
    '',
    '-- 1. pg_stat_statements (required)',
    ...comment(provider.preload),
    `create extension if not exists pg_stat_statements${withSchema};`,
    '',
    '-- 2. The advisor role: reads statistics views (pg_monitor), never table rows',
    ...doBlock([
      `  if not exists (select from pg_catalog.pg_roles where rolname = ${quoteLiteral(roleName)}) then`,
      `    create role ${role} login connection limit ${ADVISOR_CONNECTION_LIMIT};`,
      '  end if;',
    ]),
    `-- Set its password yourself (kept out of this script):  \\password ${role}`,
    `grant pg_monitor to ${role};`,
    ...grantConnect,
    ...(ext ? [`grant usage on schema ${quoteIdent(ext)} to ${role};`] : []),
    ...(provider.quirks.length > 0 ? ['', `-- ${provider.title} notes:`, ...comment(provider.quirks)] : []),
    '',
    '-- 3. Optional, each enabling more (uncomment what you want):',
    '-- Exact bloat figures (pg_monitor may execute pgstattuple_approx and pgstatindex; no further grant):',
    `-- create extension if not exists pgstattuple${withSchema};`,
    '-- Verifying suggested indexes with hypothetical indexes (missing-index rule):',
    ...comment(provider.hypopg),
    `-- create extension if not exists hypopg${withSchema};`,
    '-- Column statistics in pg_stats (shown only for columns the role may SELECT; pg-advisor never reads rows):',
    ...schemas.map((s) => `-- grant select on all tables in schema ${quoteIdent(s)} to ${role};`),
  ];
  if (options.withHelpers) {
    lines.push(
      '',
      '-- 4. Helper: advisor_helper.explain_generic(queryid, hypothetical_index, search_path) lets the advisor role',
      '-- verify index suggestions (hypopg) without SELECT on the tables. It only plans statements found in',
      '-- pg_stat_statements (EXPLAIN, never ANALYZE), takes no SQL text from the caller, and runs with the rights of',
      '-- a NOLOGIN owner that may SELECT the tables below. Risks and removal: docs/decisions/explain-helper.md.',
      renderExplainHelperSql({ role: roleName, schemas, extensionSchema: ext, adminNotSuperuser: provider.id !== 'vanilla', owner: options.helperOwner }),
    );
  } else {
    lines.push(
      '',
      '-- 4. Helpers: run `pg-advisor setup --with-helpers` to include the explain helper (index verification',
      '-- for a role without SELECT on the tables).',
    );
  }
  return `${lines.join('\n')}\n`;
}
