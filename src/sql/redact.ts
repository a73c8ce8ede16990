/**
 * Redaction of query texts before they leave the process (reports, API, chat): every literal becomes a
 * `$n` placeholder (numbered after the text's own parameters), comments are dropped, and the result is
 * length-capped. Works on any input: the server's scanner when loaded and the text scans, else a
 * conservative hand-written scanner. Never throws.
 */
import { must } from '../errors/must.js';
import { scanSqlSync } from './parser.js';

export interface RedactOptions {
  /** Longest result (characters, default 2000); longer texts end with "…". */
  readonly maxLength?: number;
}

const LITERAL_TOKENS = new Set(['SCONST', 'ICONST', 'FCONST', 'BCONST', 'XCONST', 'USCONST']);
const COMMENT_TOKENS = new Set(['C_COMMENT', 'SQL_COMMENT']);

export function redact(text: string, options: RedactOptions = {}): string {
  const maxLength = options.maxLength ?? 2000;
  let out: string;
  try {
    out = redactWithScanner(text) ?? redactByHand(text);
  } catch {
    out = '[query text withheld: could not be redacted]';
  }
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > maxLength ? `${out.slice(0, maxLength - 1)}…` : out;
}

function nextParamNumber(text: string): () => number {
  let max = 0;
  for (const m of text.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]));
  return () => ++max;
}

function isLiteralToken(tokenName: string, tokenText: string): boolean {
  if (LITERAL_TOKENS.has(tokenName)) return true;
  // The WASM build names some literal tokens UNKNOWN; recognise them by their spelling.
  return tokenName === 'UNKNOWN' && /^([bBxXeEnNuU]&?)?'|^\$[^$\d]*\$|^\d|^\.\d/.test(tokenText);
}

function redactWithScanner(text: string): string | null {
  const tokens = scanSqlSync(text);
  if (!tokens) return null;
  const next = nextParamNumber(text);
  let out = '';
  let pos = 0;
  for (const t of tokens) {
    if (t.start < pos) return null;
    out += text.slice(pos, t.start);
    if (COMMENT_TOKENS.has(t.tokenName)) out += ' ';
    else if (isLiteralToken(t.tokenName, text.slice(t.start, t.end))) out += `$${next()}`;
    else out += text.slice(t.start, t.end);
    pos = t.end;
  }
  const rest = text.slice(pos);
  // Anything after the last token (an unterminated literal or comment) is withheld.
  if (rest.trim() !== '') out += ' ?';
  return out;
}

/** The text `re` (anchored with ^) matches at offset `i`; callers have already checked that it matches there. */
function matchAt(re: RegExp, text: string, i: number): string {
  return must(re.exec(text.slice(i))?.[0], `the match of ${re} at offset ${i}`);
}

/** Fallback scanner: strings ('…', E'…', B'…', X'…', U&'…'), dollar quotes, numbers, comments. */
export function redactByHand(text: string): string {
  const next = nextParamNumber(text);
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charAt(i);
    const rest = text.slice(i, i + 3);
    if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
      out += ' ';
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') depth++, (i += 2);
        else if (text[i] === '*' && text[i + 1] === '/') depth--, (i += 2);
        else i++;
      }
      out += ' ';
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end < 0 ? n : end + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === "'" || (/^[eEbBxXnN]'/.test(rest) && !/[\w$]/.test(text[i - 1] ?? ' ')) || /^[uU]&'/.test(rest)) {
      const escapes = /^[eE]'/.test(rest);
      i = text.indexOf("'", i) + 1;
      while (i < n) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") break;
        else i++;
      }
      i++;
      out += `$${next()}`;
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(text.slice(i))) {
      const tag = matchAt(/^\$([A-Za-z_][A-Za-z0-9_]*)?\$/, text, i);
      const end = text.indexOf(tag, i + tag.length);
      i = end < 0 ? n : end + tag.length;
      out += `$${next()}`;
    } else if (c === '$' && /\d/.test(text[i + 1] ?? '')) {
      const m = matchAt(/^\$\d+/, text, i);
      out += m;
      i += m.length;
    } else if (/[\d.]/.test(c) && /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.test(text.slice(i)) && !/[\w$]/.test(text[i - 1] ?? ' ')) {
      const m = matchAt(/^(0[xXoObB][0-9a-fA-F_]+|\d[\d_]*\.?\d*|\.\d+)([eE][+-]?\d+)?/, text, i);
      out += `$${next()}`;
      i += m.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = matchAt(/^[A-Za-z_][\w$]*/, text, i);
      out += m;
      i += m.length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
