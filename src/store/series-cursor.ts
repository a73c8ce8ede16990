import { InvalidCursorError } from './errors.js';
import { isStorableInstant } from './iso.js';

/** Position in the newest-first series order (time desc, metric, object). Opaque to clients. */
export interface SeriesCursor {
  readonly at: Date;
  readonly metric: string;
  readonly object: string;
}

export function encodeSeriesCursor(c: SeriesCursor): string {
  return Buffer.from(JSON.stringify([c.at.toISOString(), c.metric, c.object])).toString('base64url');
}

/** Throws InvalidCursorError for anything encodeSeriesCursor did not produce. */
export function decodeSeriesCursor(text: string): SeriesCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'string' && !v.includes('\u0000'))) {
      const [at, metric, object] = value as [string, string, string];
      const date = new Date(at);
      // Only what toISOString wrote: a valid instant that prints back the same.
      if (isStorableInstant(date) && date.toISOString() === at) return { at: date, metric, object };
    }
  } catch {
    // fall through: not base64url JSON
  }
  throw new InvalidCursorError(`invalid cursor ${JSON.stringify(text.slice(0, 40))}`, {
    hint: 'pass the nextCursor value of a previous series response unchanged (with the same metric and range), or omit cursor for the newest points',
  });
}
