/**
 * Secrets never leave the process: every message that may name a target URL, a chat webhook or a token
 * goes through one of these before it is printed, logged, stored or served. Pure; never throws.
 */

const MASK = '***';

/**
 * Masks the password of a libpq connection string (URL or key=value form): postgres://user:***@host/db.
 * A malformed URL (a password with a space or an unencoded `/` or `@`) is masked up to its last `@`, so a
 * password is never half-printed.
 */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    // WHATWG URL accepts some malformed authorities by moving the password into the path: only trust
    // the parse when the text has no `@` after the authority it found.
    if (parsed.host && !url.slice(url.indexOf(parsed.host) + parsed.host.length).includes('@')) {
      if (parsed.password) parsed.password = MASK;
      const params = parsed.searchParams;
      for (const key of [...params.keys()]) {
        if (/^(password|sslpassword)$/i.test(key)) params.set(key, MASK);
      }
      return parsed.toString();
    }
  } catch {
    // not a WHATWG URL: fall through to the textual masks below
  }
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):.*@/is, `$1:${MASK}@`)
    .replace(/(\b(?:password|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, `$1${MASK}`);
}

/** Passwords of a connection URL, raw and percent-decoded (also from a malformed URL). */
export function secretsOf(url: string | null | undefined): string[] {
  if (!url) return [];
  const found = new Set<string>();
  const textual = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:(.*)@/is.exec(url)?.[1];
  if (textual) found.add(textual);
  try {
    const { password } = new URL(url);
    if (password) found.add(password);
  } catch {
    // malformed: the textual password above is all there is
  }
  for (const p of [...found]) {
    try {
      found.add(decodeURIComponent(p));
    } catch {
      // not percent-encoded
    }
  }
  for (const [, value] of url.matchAll(/\b(?:password|sslpassword)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)/gi)) {
    if (value !== undefined) found.add(value.replace(/^'|'$/g, ''));
  }
  return [...found].filter((s) => s.length > 0);
}

/** Masks URL passwords (scheme://user:***@) and every known secret of 4+ characters in free text. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/[^:\s/@]*:)[^@\s]*@/gi, `$1${MASK}@`);
}

/** A text about a target: its URL masked wherever it appears, and its password wherever it leaked. */
export function scrubTargetText(text: string, url: string): string {
  return scrubSecrets(text.split(url).join(maskUrl(url)), secretsOf(url));
}

/** The error with the target's URL and password masked in its message (the same error object). */
export function scrubTargetError(error: unknown, url: string): Error {
  const err = error instanceof Error ? error : new Error(String(error));
  err.message = scrubTargetText(err.message, url);
  return err;
}

/**
 * Removes a chat or webhook destination URL (and its path, which holds the token) from a text; at most
 * 500 characters are kept.
 */
export function scrubDestination(text: string, url: string): string {
  let out = text.split(url).join('<destination url>');
  try {
    const { pathname } = new URL(url);
    if (pathname.length > 1) out = out.split(pathname).join('/<redacted>');
  } catch {
    // not a URL: nothing more to scrub
  }
  return out.length > 500 ? `${out.slice(0, 499)}…` : out;
}
