import { isStorableInstant } from '../store/index.js';
import { badRequest } from './problem.js';

/**
 * A date-time parameter as an instant, for a value the schema already accepted (DATE_TIME_PATTERN). Throws a
 * 400 naming `param` when the instant cannot be represented (Invalid Date) or lies outside 0001–9999 UTC
 * (an offset can push a valid local time past either end).
 */
export function parseInstant(value: string, param: string): Date {
  const date = new Date(value);
  if (!isStorableInstant(date)) {
    throw badRequest(
      `${param} ${JSON.stringify(value)} is not an instant between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z`,
      `send ${param} as an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z`,
    );
  }
  return date;
}

/** parseInstant for an optional parameter. */
export const parseOptionalInstant = (value: string | undefined, param: string): Date | undefined =>
  value === undefined ? undefined : parseInstant(value, param);
