import { InvalidCursorError } from './errors.js';

/** Position in the findings order (severity desc, impact desc, id asc). Opaque to clients. */
export interface FindingCursor {
  readonly rank: number;
  readonly impact: number;
  readonly id: number;
}

export function encodeCursor(c: FindingCursor): string {
  return Buffer.from(JSON.stringify([c.rank, c.impact, c.id])).toString('base64url');
}

/** severity_rank is a smallint; ids are int8 read as JSON numbers (exact up to 2^53 - 1). */
const MAX_RANK = 32_767;

/**
 * Throws InvalidCursorError for anything encodeCursor did not produce, including numbers the columns
 * compared with could not hold (a fractional or out-of-range rank or id, a non-finite impact).
 */
export function decodeCursor(text: string): FindingCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      const [rank, impact, id] = value as [number, number, number];
      const rankOk = Number.isInteger(rank) && rank >= 0 && rank <= MAX_RANK;
      if (rankOk && Number.isSafeInteger(id) && id >= 0) return { rank, impact, id };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError(`invalid cursor ${JSON.stringify(text.slice(0, 40))}`, {
    hint: 'pass the nextCursor value of a previous response unchanged, or omit cursor to start from the first page',
  });
}
