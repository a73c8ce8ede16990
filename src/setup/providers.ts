/**
 * What differs between PostgreSQL hosts when preparing a database for pg-advisor: who may run the setup, where
 * extensions live, how shared_preload_libraries is changed, and known quirks. Sources:
 * /work/shared/research/anchors-turn2.md ("Managed Postgres"); facts marked unverified there stay hedged here.
 */
export const PROVIDER_IDS = ['vanilla', 'rds', 'aurora', 'cloudsql', 'alloydb', 'azure', 'supabase', 'neon'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export interface Provider {
  readonly id: ProviderId;
  readonly title: string;
  /** Who runs the script (comment lines). */
  readonly runAs: string;
  /** How pg_stat_statements gets preloaded (comment lines). */
  readonly preload: readonly string[];
  /** Schema the extensions are created in and the roles need USAGE on; null = the default (public). */
  readonly extensionSchema: string | null;
  /** hypopg availability and quirks (comment lines). */
  readonly hypopg: readonly string[];
  /** Anything else the DBA should know (comment lines). */
  readonly quirks: readonly string[];
}

export const PROVIDERS: Readonly<Record<ProviderId, Provider>> = {
  vanilla: {
    id: 'vanilla',
    title: 'PostgreSQL (self-managed)',
    runAs: 'a superuser (e.g. postgres)',
    preload: [
      "postgresql.conf: shared_preload_libraries = 'pg_stat_statements' (append to the existing list), then restart.",
      'Recommended: track_io_timing = on; compute_query_id = auto (the default) or on.',
    ],
    extensionSchema: null,
    hypopg: ['hypopg is a separate package: apt install postgresql-<major>-hypopg (PGDG) or build it from source.'],
    quirks: [],
  },
  rds: {
    id: 'rds',
    title: 'Amazon RDS for PostgreSQL',
    runAs: 'the master user (a member of rds_superuser); there is no real superuser on RDS',
    preload: [
      'pg_stat_statements is usually preloaded already. If not: add it to shared_preload_libraries in the DB',
      'parameter group (a custom one; the default group cannot be changed), then reboot the instance.',
      'track_io_timing is a parameter-group setting too.',
    ],
    extensionSchema: null,
    hypopg: [
      'hypopg is available on RDS. If hypopg_create_index fails, set hypopg.use_real_oids = on (parameter group,',
      'or ALTER ROLE <advisor role> SET hypopg.use_real_oids = on).',
    ],
    quirks: ['pg_monitor can be granted by rds_superuser; GRANT ... TO a role needs the master user.'],
  },
  aurora: {
    id: 'aurora',
    title: 'Amazon Aurora PostgreSQL',
    runAs: 'the master user (a member of rds_superuser); there is no real superuser on Aurora',
    preload: [
      'pg_stat_statements is usually preloaded already. If not: add it to shared_preload_libraries in the DB cluster',
      'parameter group (a custom one), then reboot the writer.',
    ],
    extensionSchema: null,
    hypopg: [
      'hypopg needs Aurora PostgreSQL 15.5 or later. If hypopg_create_index fails, set hypopg.use_real_oids = on',
      '(cluster parameter group, or ALTER ROLE <advisor role> SET hypopg.use_real_oids = on).',
    ],
    quirks: ['Statistics are per instance: check the writer; a reader shows only the statements it ran.'],
  },
  cloudsql: {
    id: 'cloudsql',
    title: 'Google Cloud SQL for PostgreSQL',
    runAs: 'a member of cloudsqlsuperuser (e.g. the postgres user); the advisor role must be created by it',
    preload: [
      'pg_stat_statements is available without a flag; settings such as track_io_timing are database flags',
      '(gcloud sql instances patch --database-flags=...; some flags restart the instance).',
      'After a maintenance upgrade run ALTER EXTENSION pg_stat_statements UPDATE; (pg-advisor gates on its version).',
    ],
    extensionSchema: null,
    hypopg: ['hypopg: not verified on Cloud SQL; check the supported-extensions list of your PostgreSQL version.'],
    quirks: [],
  },
  alloydb: {
    id: 'alloydb',
    title: 'Google AlloyDB for PostgreSQL',
    runAs: 'a member of alloydbsuperuser (e.g. the postgres user)',
    preload: ['pg_stat_statements is available; settings such as track_io_timing are database flags on the instance.'],
    extensionSchema: null,
    hypopg: ['hypopg: not verified on AlloyDB (it has its own index advisor); check its supported extensions.'],
    quirks: [],
  },
  azure: {
    id: 'azure',
    title: 'Azure Database for PostgreSQL - Flexible Server',
    runAs: 'the server admin (a member of azure_pg_admin)',
    preload: [
      'Server parameter shared_preload_libraries: add pg_stat_statements (changing it restarts the server).',
      'Server parameter azure.extensions: allow-list every extension below (pg_stat_statements, pgstattuple,',
      'hypopg) first, or CREATE EXTENSION fails with "extension is not allow-listed".',
    ],
    extensionSchema: null,
    hypopg: ['hypopg is supported; allow-list it in azure.extensions first.'],
    quirks: ['pg_monitor can be granted by the server admin.'],
  },
  supabase: {
    id: 'supabase',
    title: 'Supabase',
    runAs: 'the postgres user (not a superuser on Supabase); use a direct connection (port 5432), not the pooler',
    preload: ['pg_stat_statements is preloaded and enabled by default, in schema extensions.'],
    extensionSchema: 'extensions',
    hypopg: [
      'hypopg is available (Dashboard > Database > Extensions, or CREATE EXTENSION ... WITH SCHEMA extensions).',
      'Hypothetical indexes live in one session: behind the pooler (transaction mode) they vanish between',
      'statements; the explain helper creates, plans and resets in one call, so it works either way.',
    ],
    quirks: [
      'Extensions live in schema extensions: the roles need USAGE on it (granted below).',
      'If statistics of other roles stay hidden, also GRANT pg_read_all_stats TO the advisor role.',
    ],
  },
  neon: {
    id: 'neon',
    title: 'Neon',
    runAs: 'a member of neon_superuser (the role the console created)',
    preload: ['pg_stat_statements is preloaded; CREATE EXTENSION makes it visible in this database.'],
    extensionSchema: null,
    hypopg: ['hypopg is available (CREATE EXTENSION hypopg).'],
    quirks: [
      'pg_stat_statements counters are lost whenever the compute suspends (scale to zero): a check right after a',
      'resume sees almost nothing. For production, disable auto-suspend or let the daemon sample often.',
      'neon_superuser may reset pg_stat_statements; pg-advisor never does.',
    ],
  },
};
