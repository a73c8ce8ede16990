/** Date | string | null from a timestamptz column → ISO-8601 string | null. */
export function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Like iso() for NOT NULL columns. */
export function isoRequired(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** Earliest and latest instants the store takes from a client: PostgreSQL has no year 0, and PGlite fails on one. */
export const MIN_STORABLE_MS = Date.parse('0001-01-01T00:00:00Z');
export const MAX_STORABLE_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** A valid Date within 0001-01-01 … 9999-12-31 UTC. */
export function isStorableInstant(date: Date): boolean {
  const ms = date.getTime();
  return Number.isFinite(ms) && ms >= MIN_STORABLE_MS && ms <= MAX_STORABLE_MS;
}
