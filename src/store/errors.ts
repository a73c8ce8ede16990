import { AdvisorError } from '../errors/errors.js';

/** A lifecycle action that the finding's current status does not allow (e.g. acknowledging a resolved finding). */
export class FindingConflictError extends AdvisorError {}

/** A cursor that this store did not hand out (tampered, or from another sort order). */
export class InvalidCursorError extends AdvisorError {}
