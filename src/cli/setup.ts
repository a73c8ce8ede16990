import { renderSetupSql } from '../setup/render-setup-sql.js';
import type { CliIo } from '../terminal/io.js';
import { packageVersion } from '../version.js';
import { EXIT } from './failure.js';

export interface SetupFlags {
  readonly role?: string;
  readonly database?: string;
  readonly provider?: string;
  readonly withHelpers?: boolean;
  readonly helperOwner?: string;
  /** Comma-separated schema names. */
  readonly schemas?: string;
}

/**
 * `pg-advisor setup`: prints the SQL; never connects, never applies it (there is deliberately no --apply).
 * Invalid names or an unknown provider throw UsageError (exit 2 with a hint).
 */
export function runSetupCommand(flags: SetupFlags, io: CliIo): number {
  const schemas = flags.schemas
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  io.stdout.write(
    renderSetupSql({
      role: flags.role,
      database: flags.database,
      provider: flags.provider,
      withHelpers: flags.withHelpers === true,
      helperOwner: flags.helperOwner,
      schemas: schemas && schemas.length > 0 ? schemas : undefined,
      version: packageVersion(),
    }),
  );
  return EXIT.OK;
}
