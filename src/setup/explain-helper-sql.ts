/**
 * The SECURITY DEFINER helper that lets a pg_monitor-only advisor role get generic plans (with or without one
 * hypothetical index) of statements other roles ran, without SELECT on their tables (issue 15). Printed by
 * `pg-advisor setup --with-helpers`; the DBA runs it. Design and risk assessment: docs/decisions/explain-helper.md.
 *
 * What keeps it narrow, in the order the function checks:
 * - the caller supplies a queryid, never SQL text: the text is looked up in pg_stat_statements of the current
 *   database, and entries recorded under a role the caller is a member of are ignored (the caller cannot plant
 *   its own statement);
 * - refused when the caller (or a role it belongs to) owns any object in the database, or its session holds
 *   temporary objects: planning folds IMMUTABLE calls, evaluates STABLE ones for estimates and plans view bodies
 *   with the owner's rights (a temporary view once leaked a table through a cast error this way);
 * - refused unless the caller's statement_timeout is on and at most 10 s (a function cannot arm a timer for the
 *   statement that calls it; the caller's is the one that applies);
 * - the text must be one SELECT, UPDATE or DELETE (no semicolon, no data-modifying WITH, no SELECT INTO);
 * - only EXPLAIN without ANALYZE (PG16+: GENERIC_PLAN; PG15: PREPARE, EXPLAIN EXECUTE with NULLs, DEALLOCATE),
 *   inside a transaction the function makes read-only;
 * - the hypothetical index must be `create index on schema.table (col [opclass], …)`; it is rebuilt from the
 *   catalog (quoted names of an existing table, columns and btree operator classes) before hypopg sees it.
 */
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { EXPLAIN_HELPER } from '../collector/explain-helper-names.js';
import { doBlock } from './do-block.js';

export interface ExplainHelperSqlOptions {
  /** The advisor's login role: the only grantee of EXECUTE. */
  readonly role: string;
  /** Schemas whose tables the helper's owner may SELECT (so EXPLAIN may plan statements on them). */
  readonly schemas: readonly string[];
  /** Schema of pg_stat_statements and hypopg when it is not public (Supabase: extensions). */
  readonly extensionSchema: string | null;
  /**
   * The admin running the script is not a superuser (managed services): for the ALTER ... OWNER TO statements only,
   * it becomes a member of the owner and the owner gets CREATE on the helper schema (both required without
   * superuser); both are revoked at the end.
   */
  readonly adminNotSuperuser: boolean;
  /** The NOLOGIN role owning the functions (default advisor_helper_owner). */
  readonly owner?: string;
}

const S = quoteIdent(EXPLAIN_HELPER.schema);

/** Pure text checks of a statement: null when it may be planned, else why not. */
const REFUSAL_FUNCTION = `
create or replace function ${S}.refusal(query text) returns text
  language plpgsql immutable
  set search_path = pg_catalog, pg_temp
as $fn$
declare
  body text := query;
  keyword text;
begin
  if body is null then return 'no statement text'; end if;
  if length(body) > 100000 then return 'statement text longer than 100000 characters'; end if;
  -- leading white space and comments (a nested comment is not stripped, so it is refused below)
  loop
    body := ltrim(body, E' \\t\\r\\n\\f');
    if left(body, 2) = '/*' and position('*/' in body) > 0 then
      body := substr(body, position('*/' in body) + 2);
    elsif left(body, 2) = '--' then
      body := coalesce(substring(body from E'\\n(.*)$'), '');
    else
      exit;
    end if;
  end loop;
  body := regexp_replace(body, ';\\s*$', '');
  -- one statement only: dynamic SQL would run every statement of a string
  if position(';' in body) > 0 then return 'more than one statement (a semicolon in the text)'; end if;
  keyword := lower(substring(body from '^[A-Za-z]+'));
  if keyword is null or keyword not in ('select', 'with', 'update', 'delete') then
    return 'not a SELECT, UPDATE or DELETE statement';
  end if;
  if keyword = 'with'
     and regexp_replace(body, '\\mfor\\s+(no\\s+key\\s+)?update\\M', '', 'gi') ~* '\\m(insert|update|delete|merge)\\M' then
    return 'a WITH statement that may modify data';
  end if;
  if keyword in ('select', 'with') and body ~* '\\minto\\M' then return 'SELECT INTO (creates a table)'; end if;
  return null;
end
$fn$;`;

/** `create index on schema.table (col [opclass], …)` → the same DDL rebuilt from catalog names; raises otherwise. */
const INDEX_DDL_FUNCTION = `
create or replace function ${S}.hypothetical_index_ddl(definition text) returns text
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $fn$
declare
  ident constant text := '(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")';
  item constant text := ident || '(?:\\s+[a-z_][a-z0-9_]*)?';
  m text[];
  rel regclass;
  keys text[] := '{}';
  part text[];
  col text;
  opc text;
begin
  m := regexp_match(definition, '^\\s*create\\s+index\\s+on\\s+(' || ident || ')\\.(' || ident || ')\\s*\\((.*)\\)\\s*$', 'i');
  if m is null or m[3] !~* ('^\\s*' || item || '(\\s*,\\s*' || item || ')*\\s*$') then
    raise exception 'hypothetical index refused: not "create index on schema.table (column [opclass], ...)"'
      using errcode = '22023';
  end if;
  for i in 1..2 loop
    m[i] := case when left(m[i], 1) = '"' then replace(substr(m[i], 2, length(m[i]) - 2), '""', '"') else lower(m[i]) end;
  end loop;
  select c.oid into rel from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = m[1] and c.relname = m[2] and c.relkind in ('r', 'm', 'p');
  if rel is null then
    raise exception 'hypothetical index refused: no table %.%', quote_ident(m[1]), quote_ident(m[2]) using errcode = '42P01';
  end if;
  for part in select regexp_matches(m[3], '(' || ident || ')(?:\\s+([a-z_][a-z0-9_]*))?', 'gi') loop
    col := case when left(part[1], 1) = '"' then replace(substr(part[1], 2, length(part[1]) - 2), '""', '"') else lower(part[1]) end;
    if not exists (select from pg_attribute a where a.attrelid = rel and a.attname = col and a.attnum > 0 and not a.attisdropped) then
      raise exception 'hypothetical index refused: no column % in %', quote_ident(col), rel using errcode = '42703';
    end if;
    opc := null;
    if part[2] is not null then
      select quote_ident(n.nspname) || '.' || quote_ident(oc.opcname) into opc
        from pg_opclass oc join pg_am am on am.oid = oc.opcmethod join pg_namespace n on n.oid = oc.opcnamespace
        where am.amname = 'btree' and oc.opcname = lower(part[2]) order by n.nspname = 'pg_catalog' desc limit 1;
      if opc is null then
        raise exception 'hypothetical index refused: no btree operator class %', part[2] using errcode = '42704';
      end if;
    end if;
    keys := keys || (quote_ident(col) || coalesce(' ' || opc, ''));
  end loop;
  if cardinality(keys) > 8 then raise exception 'hypothetical index refused: more than 8 columns' using errcode = '22023'; end if;
  return format('create index on %I.%I (%s)', m[1], m[2], array_to_string(keys, ', '));
end
$fn$;`;

const EXPLAIN_FUNCTION = `
create or replace function ${S}.${EXPLAIN_HELPER.function}(queryid bigint, hypothetical_index text default null,
    search_path text[] default array['public']) returns json
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  set plan_cache_mode = force_generic_plan
  set lock_timeout = '1s'
as $fn$
declare
  mine oid[];
  timeout_ms bigint;
  pgss name;
  hypopg name;
  txt text;
  reason text;
  ddl text;
  path text;
  hypo text;
  plan json;
  plan_without json;
  stmt text;
  nparams int;
begin
  select array_agg(r.oid) into mine from pg_roles r where pg_has_role(session_user, r.oid, 'MEMBER');
  -- Planning runs code it reaches (IMMUTABLE folding, STABLE calls for estimates, view bodies) with the owner's
  -- rights, so nothing it can reach may be the caller's: it must own no object in this database (pg_shdepend is
  -- what DROP OWNED uses; it covers functions, operators, views, types, schemas ...), and its session must hold
  -- no temporary relation or function, whoever owns them.
  if exists (select from pg_shdepend d where d.refclassid = 'pg_authid'::regclass and d.refobjid = any(mine) and d.deptype = 'o'
               and d.dbid = (select db.oid from pg_database db where db.datname = current_database()))
     or (pg_my_temp_schema() <> 0
         and (exists (select from pg_class c where c.relnamespace = pg_my_temp_schema())
              or exists (select from pg_proc p where p.pronamespace = pg_my_temp_schema()))) then
    raise exception 'explain_generic refused: % (or a role it belongs to) owns objects in this database, or the session has temporary objects', session_user
      using errcode = '42501', hint = 'the advisor role must own nothing: planning could run its code with the helper owner''s rights';
  end if;
  select s.setting::bigint into timeout_ms from pg_settings s where s.name = 'statement_timeout';
  if timeout_ms = 0 or timeout_ms > 10000 then
    raise exception 'explain_generic refused: statement_timeout is %, not between 1ms and 10s', current_setting('statement_timeout')
      using errcode = '22023', hint = 'SET statement_timeout = ''5s'' first (pg-advisor does)';
  end if;
  -- nothing below may write; EXPLAIN without ANALYZE executes nothing, this makes sure of it
  perform set_config('transaction_read_only', 'on', true);

  select n.nspname into pgss from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_stat_statements';
  if pgss is null then raise exception 'explain_generic: pg_stat_statements is not installed in this database' using errcode = '55000'; end if;
  execute format($q$select /* pg-advisor */ min(s.query) from %I.pg_stat_statements(true) s
      where s.queryid = $1 and s.dbid = (select d.oid from pg_database d where d.datname = current_database())
        and s.userid in (select r.oid from pg_roles r where not pg_has_role(session_user, r.oid, 'MEMBER'))$q$, pgss)
    into txt using queryid;
  if txt is null then
    raise exception 'explain_generic refused: no statement % of another role in this database''s pg_stat_statements', queryid
      using errcode = '22023';
  end if;
  reason := ${S}.refusal(txt);
  if reason is not null then raise exception 'explain_generic refused statement %: %', queryid, reason using errcode = '22023'; end if;
  if hypothetical_index is not null then
    ddl := ${S}.hypothetical_index_ddl(hypothetical_index);
    select n.nspname into hypopg from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'hypopg';
    if hypopg is null then raise exception 'explain_generic: hypopg is not installed in this database' using errcode = '55000'; end if;
  end if;
  select string_agg(quote_ident(p), ', ') into path from unnest(search_path) p
    where exists (select from pg_namespace n where n.nspname = p) and p not like 'pg\\_temp%' and p not like 'pg\\_toast%';
  perform set_config('search_path', concat_ws(', ', 'pg_catalog', path, 'pg_temp'), true);

  -- Nested statements carry the marker too (pg_stat_statements.track = all records them under the owner).
  -- Step 1 plans without, step 2 (only with a hypothetical index) with it: one call, one read of the texts.
  begin
    if hypopg is not null then execute format('select /* pg-advisor */ %I.hypopg_reset()', hypopg); end if;
    for step in 1..case when hypopg is null then 1 else 2 end loop
      if step = 2 then
        execute format('select /* pg-advisor */ indexname from %I.hypopg_create_index($1)', hypopg) into hypo using ddl;
      end if;
      if current_setting('server_version_num')::int >= 160000 then
        execute 'explain /* pg-advisor */ (generic_plan, format json) ' || txt into plan;
      else
        -- a fresh statement each step: a prepared statement keeps its cached generic plan
        stmt := format('pg_advisor_helper_%s', md5(random()::text));
        execute format('prepare /* pg-advisor */ %I as ', stmt) || txt;
        select cardinality(p.parameter_types) into nparams from pg_prepared_statements p where p.name = stmt;
        execute format('explain /* pg-advisor */ (format json) execute %I', stmt)
          || case when nparams > 0 then '(' || array_to_string(array_fill('null'::text, array[nparams]), ', ') || ')' else '' end
          into plan;
        execute format('deallocate /* pg-advisor */ %I', stmt);
      end if;
      if step = 1 and hypopg is not null then plan_without := plan; end if;
    end loop;
    if hypopg is not null then execute format('select /* pg-advisor */ %I.hypopg_reset()', hypopg); end if;
  exception when others then
    -- prepared statements and hypothetical indexes outlive a rolled-back subtransaction
    if stmt is not null and exists (select from pg_prepared_statements p where p.name = stmt) then
      execute format('deallocate /* pg-advisor */ %I', stmt);
    end if;
    if hypopg is not null then execute format('select /* pg-advisor */ %I.hypopg_reset()', hypopg); end if;
    raise;
  end;
  return json_build_object('plan', plan, 'hypotheticalIndex', hypo, 'planWithoutIndex', plan_without);
end
$fn$;`;

/** The helper's SQL: owner role, schema, functions, grants. Run in one transaction so no window leaves it executable by PUBLIC. */
export function renderExplainHelperSql(options: ExplainHelperSqlOptions): string {
  const role = quoteIdent(options.role);
  const ownerName = options.owner ?? EXPLAIN_HELPER.owner;
  const OWNER = quoteIdent(ownerName);
  const fnSignature = `${S}.${EXPLAIN_HELPER.function}(bigint, text, text[])`;
  const grantsOnSchemas = options.schemas.flatMap((schema) => [
    `grant usage on schema ${quoteIdent(schema)} to ${OWNER};`,
    `grant select on all tables in schema ${quoteIdent(schema)} to ${OWNER};`,
  ]);
  const ext = options.extensionSchema ? [`grant usage on schema ${quoteIdent(options.extensionSchema)} to ${OWNER};`] : [];
  return [
    'begin;',
    '-- The owner: NOLOGIN, nobody is a member; it may read statement texts (pg_read_all_stats) and SELECT the tables',
    '-- whose statements the advisor should verify (EXPLAIN needs SELECT; it never reads rows). Do not give it UPDATE or',
    '-- DELETE: UPDATE/DELETE statements are then refused by the permission check, which is the intended narrow scope.',
    ...doBlock([
      `  if not exists (select from pg_catalog.pg_roles where rolname = ${quoteLiteral(ownerName)}) then`,
      `    create role ${OWNER} nologin;`,
      '  end if;',
    ]),
    ...(options.adminNotSuperuser ? ['-- If the next GRANT is refused on a managed service, grant pg_monitor instead (it includes pg_read_all_stats).'] : []),
    `grant pg_read_all_stats to ${OWNER};`,
    ...grantsOnSchemas,
    ...ext,
    `-- Tables created later: ALTER DEFAULT PRIVILEGES FOR ROLE <table owner> IN SCHEMA <schema> GRANT SELECT ON TABLES TO ${OWNER};`,
    `create schema if not exists ${S};`,
    `revoke all on schema ${S} from public;`,
    `grant usage on schema ${S} to ${OWNER}, ${role};`,
    // ALTER ... OWNER TO needs, without superuser, membership in the new owner and its CREATE on the schema.
    ...(options.adminNotSuperuser
      ? [`grant ${OWNER} to current_user;  -- only for ALTER ... OWNER TO (revoked below)`, `grant create on schema ${S} to ${OWNER};`]
      : []),
    REFUSAL_FUNCTION.trim(),
    INDEX_DDL_FUNCTION.trim(),
    EXPLAIN_FUNCTION.trim(),
    `alter function ${S}.refusal(text) owner to ${OWNER};`,
    `alter function ${S}.hypothetical_index_ddl(text) owner to ${OWNER};`,
    `alter function ${fnSignature} owner to ${OWNER};`,
    `revoke all on function ${S}.refusal(text), ${S}.hypothetical_index_ddl(text), ${fnSignature} from public;`,
    `grant execute on function ${fnSignature} to ${role};`,
    ...(options.adminNotSuperuser ? [`revoke create on schema ${S} from ${OWNER};`, `revoke ${OWNER} from current_user;`] : []),
    'commit;',
    `-- To remove the helper: DROP SCHEMA ${S} CASCADE; and DROP OWNED BY ${OWNER}; in every database that has it,`,
    `-- then DROP ROLE ${OWNER};  (docs/decisions/explain-helper.md)`,
  ].join('\n');
}
