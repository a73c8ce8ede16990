/**
 * Normalised query texts of pg_stat_statements, keyed by queryid, bounded LRU. Texts are read from the
 * target only for queryids not yet cached (see sources/statements.ts), so the hot sampling path never
 * reads the pgss text file. A cached `null` means "not visible to this role" and is not fetched again.
 */
export class TextCache {
  readonly #maxEntries: number;
  readonly #texts = new Map<string, string | null>();

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  }

  get size(): number {
    return this.#texts.size;
  }

  has(queryId: string): boolean {
    return this.#texts.has(queryId);
  }

  /** The cached text (refreshing its recency); undefined when not cached, null when not visible. */
  get(queryId: string): string | null | undefined {
    if (!this.#texts.has(queryId)) return undefined;
    const text = this.#texts.get(queryId) ?? null;
    this.#texts.delete(queryId);
    this.#texts.set(queryId, text);
    return text;
  }

  set(queryId: string, text: string | null): void {
    this.#texts.delete(queryId);
    this.#texts.set(queryId, text);
    while (this.#texts.size > this.#maxEntries) {
      const oldest = this.#texts.keys().next();
      if (oldest.done) break;
      this.#texts.delete(oldest.value);
    }
  }

  /** The ids among `queryIds` that are not cached, deduplicated. */
  missing(queryIds: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const id of queryIds) if (!this.#texts.has(id)) out.add(id);
    return [...out];
  }
}
