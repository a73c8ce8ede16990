/**
 * Parses the output of pg_get_indexdef:
 *
 *   CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING method (element, …) [INCLUDE (column, …)]
 *     [NULLS NOT DISTINCT] [WITH (option, …)] [WHERE predicate]
 *
 * An element is a column or an expression followed by what the server prints when it is not the default:
 * COLLATE, operator class (with its options), DESC, NULLS FIRST/LAST. Elements and the predicate are kept
 * as printed, because the server prints the same catalog entry the same way every time: two elements with
 * equal text have the same expression, collation, operator class and ordering.
 *
 * Quoted identifiers (`"Weird, ""Col"""`), string literals and nested parentheses are skipped as units, so
 * commas and parentheses inside them never split an element. Pure; never throws.
 */

export interface IndexElement {
  /** The element as printed (expression or column, then COLLATE, operator class, DESC, NULLS …). */
  readonly text: string;
  /** The column name (unquoted) when the element indexes a plain column; null for an expression. */
  readonly column: string | null;
}

export interface IndexDefinition {
  readonly unique: boolean;
  readonly name: string;
  /** ON ONLY: an index on a partitioned table only, not (yet) on its partitions. */
  readonly only: boolean;
  /** Null when the table name was printed unqualified. */
  readonly schema: string | null;
  readonly table: string;
  readonly method: string;
  readonly keys: readonly IndexElement[];
  /** INCLUDE column names (unquoted). */
  readonly include: readonly string[];
  readonly nullsNotDistinct: boolean;
  /** Text inside WITH ( … ), or null. */
  readonly withOptions: string | null;
  /** The WHERE predicate as printed, or null for a non-partial index. */
  readonly predicate: string | null;
}

const BARE_IDENT = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/;

/** Index just past a quoted run starting at `start` (`"…"` or `'…'`, the quote doubled inside); -1 if unterminated. */
function skipQuoted(text: string, start: number): number {
  const quote = text.charAt(start);
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return -1;
}

/** Index of the `)` matching the `(` at `open`, skipping quoted identifiers and literals; -1 if none. */
export function findClosingParen(text: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      i = skipQuoted(text, i);
      if (i < 0) return -1;
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
    i++;
  }
  return -1;
}

/** Splits on commas outside parentheses, quoted identifiers and literals; parts are trimmed. Null if unbalanced. */
export function splitTopLevel(text: string): string[] | null {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      i = skipQuoted(text, i);
      if (i < 0) return null;
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return null;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(from, i).trim());
      from = i + 1;
    }
    i++;
  }
  if (depth !== 0) return null;
  parts.push(text.slice(from).trim());
  return parts;
}

/** Reads an identifier (quoted or bare) at `at`: its unquoted name and the index just past it; null if none. */
function readIdent(text: string, at: number): { name: string; end: number } | null {
  if (text[at] === '"') {
    const end = skipQuoted(text, at);
    return end < 0 ? null : { name: text.slice(at + 1, end - 1).replace(/""/g, '"'), end };
  }
  const bare = BARE_IDENT.exec(text.slice(at));
  return bare ? { name: bare[0], end: at + bare[0].length } : null;
}

/** A key element: a plain column when an identifier stands alone or is followed only by qualifiers. */
export function parseIndexElement(text: string): IndexElement {
  const ident = readIdent(text, 0);
  const plain = ident !== null && (ident.end === text.length || text[ident.end] === ' ');
  return { text, column: plain ? ident.name : null };
}

/** Parses a pg_get_indexdef text; null when it does not have the expected shape (or is '' for a locked index). */
export function parseIndexDefinition(definition: string): IndexDefinition | null {
  const text = definition.trim();
  let pos = 0;
  const keyword = (word: string): boolean => {
    if (!text.startsWith(word, pos)) return false;
    pos += word.length;
    return true;
  };
  const ident = (): string | null => {
    const id = readIdent(text, pos);
    if (!id) return null;
    pos = id.end;
    return id.name;
  };
  /** The text inside the parenthesised list starting at pos, moving past it. */
  const parenthesised = (): string | null => {
    if (text[pos] !== '(') return null;
    const close = findClosingParen(text, pos);
    if (close < 0) return null;
    const inner = text.slice(pos + 1, close);
    pos = close + 1;
    return inner;
  };

  if (!keyword('CREATE ')) return null;
  const unique = keyword('UNIQUE ');
  if (!keyword('INDEX ')) return null;
  const name = ident();
  if (name === null || !keyword(' ON ')) return null;
  const only = keyword('ONLY ');
  let schema: string | null = ident();
  let table: string | null = null;
  if (keyword('.')) table = ident();
  else [schema, table] = [null, schema];
  if (table === null || !keyword(' USING ')) return null;
  const method = ident();
  if (method === null || !keyword(' ')) return null;
  const keyText = parenthesised();
  const keyParts = keyText === null ? null : splitTopLevel(keyText);
  if (keyParts === null || keyParts.some((p) => p === '')) return null;

  let include: string[] = [];
  if (keyword(' INCLUDE ')) {
    const parts = splitTopLevel(parenthesised() ?? '');
    const idents = (parts ?? []).map((p) => readIdent(p, 0));
    const names = idents.filter((n) => n !== null);
    if (names.length === 0 || names.length < idents.length) return null;
    include = names.map((n) => n.name);
  }
  const nullsNotDistinct = keyword(' NULLS NOT DISTINCT');
  let withOptions: string | null = null;
  if (keyword(' WITH ')) {
    withOptions = parenthesised();
    if (withOptions === null) return null;
  }
  if (keyword(' TABLESPACE ') && ident() === null) return null;
  let predicate: string | null = null;
  if (keyword(' WHERE ')) {
    predicate = text.slice(pos).trim();
    pos = text.length;
    if (predicate === '' || splitTopLevel(predicate) === null) return null; // unbalanced: not a whole predicate
  }
  if (pos !== text.length) return null;

  return { unique, name, only, schema, table, method, keys: keyParts.map(parseIndexElement), include, nullsNotDistinct, withOptions, predicate };
}
