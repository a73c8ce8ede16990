/**
 * `value`, or a thrown Error naming `what` was missing. For values pg-advisor's own invariants guarantee (a map
 * entry written a few lines earlier, a row a query always returns): absence is a bug here, never bad input or a
 * failing target, so this is a plain Error rather than one of the typed errors the CLI maps to exit codes.
 */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`pg-advisor bug: ${what} is missing`);
  return value;
}
