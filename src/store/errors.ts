import { AdvisorError } from '../errors/errors.js';

/** A lifecycle action that the finding's current status does not allow (e.g. acknowledging a resolved finding). */
export class FindingConflictError extends AdvisorError {}

/** A cursor that this store did not hand out (tampered, or from another sort order). */
export class InvalidCursorError extends AdvisorError {}

/** An audit of the target is already running (at most one per target, whoever started it). */
export class AuditConflictError extends AdvisorError {
  constructor(
    readonly runningAuditId: number,
    message: string,
    options: { hint?: string } = {},
  ) {
    super(message, options);
  }
}

/** The store cannot be opened or used: unreachable, refused, damaged. The message names the store and what to do. */
export class StoreError extends AdvisorError {}
