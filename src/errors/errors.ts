/**
 * Typed errors. Each carries the exit code the CLI uses, a hint that says what to do, and its cause.
 * Only src/cli turns them into exit codes; only src/api into HTTP status codes.
 */
export class AdvisorError extends Error {
  readonly exitCode: number = 2;
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad flags, config or arguments. */
export class UsageError extends AdvisorError {}
/** Target unreachable, authentication failed, timed out. */
export class ConnectionError extends AdvisorError {}
/** The role lacks a privilege that a required step needs. */
export class PermissionError extends AdvisorError {}
/** The target is missing something required (an extension, a setting). */
export class TargetError extends AdvisorError {}

/** SQLSTATE codes we branch on. */
export const SQLSTATE = {
  INSUFFICIENT_PRIVILEGE: '42501',
  UNDEFINED_TABLE: '42P01',
  UNDEFINED_FUNCTION: '42883',
  UNDEFINED_OBJECT: '42704',
  OBJECT_NOT_IN_PREREQUISITE_STATE: '55000',
  QUERY_CANCELED: '57014',
  LOCK_NOT_AVAILABLE: '55P03',
  INVALID_PASSWORD: '28P01',
  INVALID_AUTHORIZATION: '28000',
  INVALID_CATALOG_NAME: '3D000',
  TOO_MANY_CONNECTIONS: '53300',
  CANNOT_CONNECT_NOW: '57P03',
  ADMIN_SHUTDOWN: '57P01',
  FEATURE_NOT_SUPPORTED: '0A000',
} as const;

/** SQLSTATE of a pg error, if any. Checks `.code`, never `instanceof`. */
export function sqlState(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return undefined;
}
