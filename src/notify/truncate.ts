/**
 * The one place that decides what fits in a chat message. Each formatter describes its platform's
 * limits as a `FitBudget`; `fitSections` packs the digest's sections into chunks (a Slack section block,
 * a Discord embed, a Teams text block) and says what it left out, so a long audit is cut with
 * "and N more" instead of being rejected by the platform. Pure.
 */

export interface FitSection {
  readonly key: string;
  readonly title: string;
  /** One rendered line per item, most important first. */
  readonly lines: readonly string[];
}

export interface FitBudget {
  /** Largest chunk text (platform units, see `measure`). */
  readonly chunkSize: number;
  /** Chunks available to the sections. */
  readonly maxChunks: number;
  /** Everything the sections may use together (titles, lines, "and N more" lines). */
  readonly totalSize: number;
  /** Items shown per section before its "and N more" line. */
  readonly itemsPerSection: number;
  /** True when the title is the chunk's first line (Slack); false when it is a separate field (Discord, Teams). */
  readonly titleInChunk: boolean;
  /** The platform's length of a text (characters by default). */
  readonly measure?: (text: string) => number;
}

export interface FitChunk {
  readonly sectionKey: string;
  /** Section title on its first chunk, null on a continuation. */
  readonly title: string | null;
  readonly lines: readonly string[];
}

export interface FitResult {
  readonly chunks: readonly FitChunk[];
  /** Items left out of sections that were cut or did not fit at all. */
  readonly omitted: number;
  /** Sections that did not fit at all, with their item counts. */
  readonly droppedSections: readonly { readonly title: string; readonly count: number }[];
}

/** "…and 12 more" — the line that ends a section that was cut. */
export function moreLine(count: number): string {
  return `…and ${count} more`;
}

const LENGTH = (text: string): number => text.length;
// Reserve room for the largest count a "more" line can carry.
const MORE_RESERVE = moreLine(99_999);

export function fitSections(sections: readonly FitSection[], budget: FitBudget): FitResult {
  const measure = budget.measure ?? LENGTH;
  const reserve = measure(MORE_RESERVE) + 1;
  const chunks: { sectionKey: string; title: string | null; lines: string[]; size: number }[] = [];
  const droppedSections: { title: string; count: number }[] = [];
  let total = 0;
  let omitted = 0;
  let exhausted = false;

  for (const section of sections) {
    if (section.lines.length === 0) continue;
    const titleSize = measure(section.title) + 1;
    if (exhausted || chunks.length >= budget.maxChunks || total + titleSize + reserve > budget.totalSize) {
      exhausted = true;
      droppedSections.push({ title: section.title, count: section.lines.length });
      omitted += section.lines.length;
      continue;
    }
    let chunk = { sectionKey: section.key, title: section.title as string | null, lines: [] as string[], size: budget.titleInChunk ? titleSize : 0 };
    chunks.push(chunk);
    total += titleSize;

    const limit = Math.min(section.lines.length, budget.itemsPerSection);
    let shown = 0;
    for (const raw of section.lines.slice(0, limit)) {
      const line = clip(raw, Math.max(1, budget.chunkSize - reserve - (budget.titleInChunk ? titleSize : 0) - 1), measure);
      const size = measure(line) + 1;
      if (total + size + reserve > budget.totalSize) {
        exhausted = true;
        break;
      }
      if (chunk.size + size + reserve > budget.chunkSize) {
        if (chunks.length >= budget.maxChunks) {
          exhausted = true;
          break;
        }
        chunk = { sectionKey: section.key, title: null, lines: [], size: 0 };
        chunks.push(chunk);
      }
      chunk.lines.push(line);
      chunk.size += size;
      total += size;
      shown++;
    }
    const cut = section.lines.length - shown;
    if (cut > 0) {
      const more = moreLine(cut);
      chunk.lines.push(more);
      chunk.size += measure(more) + 1;
      total += measure(more) + 1;
      omitted += cut;
    }
  }
  return { chunks: chunks.map(({ sectionKey, title, lines }) => ({ sectionKey, title, lines })), omitted, droppedSections };
}

/** The trailer for sections that did not fit at all: "…and 40 more not shown: Still open — info (40)". */
export function droppedLine(result: FitResult, where: string): string | null {
  if (result.droppedSections.length === 0) return null;
  const count = result.droppedSections.reduce((sum, s) => sum + s.count, 0);
  return `${moreLine(count)} not shown (${where} message limits): ${result.droppedSections.map((s) => s.title).join(', ')}`;
}

/**
 * Cuts a text to at most `max` (as `measure` counts), ending with "…"; never splits a surrogate pair.
 * Measures by code point so it works with any monotonic measure (characters, JSON bytes).
 */
export function clip(text: string, max: number, measure: (text: string) => number = LENGTH): string {
  if (measure(text) <= max) return text;
  const chars = Array.from(text);
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(`${chars.slice(0, mid).join('')}…`) <= max) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? '' : `${chars.slice(0, lo).join('')}…`;
}

/**
 * Keeps whole items from the front of a list while their total cost fits `budget`; the rest are
 * counted. For lists without chunks (the generic webhook's JSON body).
 */
export function takeWithin<T>(items: readonly T[], budget: number, cost: (item: T) => number): { readonly kept: T[]; readonly omitted: number } {
  const kept: T[] = [];
  let used = 0;
  for (const item of items) {
    const c = cost(item);
    if (used + c > budget) break;
    kept.push(item);
    used += c;
  }
  return { kept, omitted: items.length - kept.length };
}
