import { AdvisorError, ConnectionError, SQLSTATE, sqlState } from '../errors/errors.js';
import { scrubSecrets } from '../secrets/index.js';
import type { CliIo } from '../terminal/io.js';

/** Exit codes: the CLI's contract with scripts and CI. */
export const EXIT = {
  OK: 0,
  FINDINGS: 1,
  ERROR: 2,
  INTERRUPTED: 130,
} as const;

export interface FailureOptions {
  /** Print the stack and causes (`--debug`). */
  readonly debug: boolean;
  /** Strings that must never be printed (passwords of the connection URL). */
  readonly secrets?: readonly string[];
}

/**
 * Prints an error as `pg-advisor: <message>` plus `hint: …` on stderr and returns the exit code (2).
 * Never prints a stack trace unless --debug, never a password.
 */
export function reportFailure(error: unknown, io: CliIo, options: FailureOptions): number {
  const typed = classify(error);
  const scrub = (text: string): string => scrubSecrets(text, options.secrets ?? []);
  io.stderr.write(`pg-advisor: ${scrub(typed.message)}\n`);
  if (typed.hint) io.stderr.write(`  hint: ${scrub(typed.hint)}\n`);
  if (options.debug) {
    let current: unknown = error;
    for (let depth = 0; current && depth < 5; depth++) {
      const stack = current instanceof Error ? (current.stack ?? current.message) : String(current);
      io.stderr.write(`${depth === 0 ? '' : 'caused by: '}${scrub(stack)}\n`);
      current = current instanceof Error ? current.cause : undefined;
    }
  } else if (!(error instanceof AdvisorError)) {
    io.stderr.write('  (run with --debug for the stack trace)\n');
  }
  return typed.exitCode;
}

/** Typed errors keep their message and hint; anything else is an internal error, or a connection error pg raised. */
function classify(error: unknown): { message: string; hint?: string; exitCode: number } {
  if (error instanceof AdvisorError) return { message: error.message, hint: error.hint, exitCode: error.exitCode };
  const code = sqlState(error);
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === SQLSTATE.ADMIN_SHUTDOWN) {
    const e = new ConnectionError(`lost the connection to the database: ${text}`, { hint: 'check that the server is up and reachable, then run again' });
    return { message: e.message, hint: e.hint, exitCode: e.exitCode };
  }
  return {
    message: `internal error: ${text}`,
    hint: 'this is a bug in pg-advisor; please report it with the output of --debug',
    exitCode: EXIT.ERROR,
  };
}
