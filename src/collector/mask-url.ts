/**
 * Masks the password of a libpq connection string (URL or key=value form): postgres://user:***@host/db.
 * Never throws; used in every message that names a target.
 */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    const params = parsed.searchParams;
    for (const key of [...params.keys()]) {
      if (/^(password|sslpassword)$/i.test(key)) params.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return url
      .replace(/(\/\/[^:/@\s]*):[^@\s]*@/, '$1:***@')
      .replace(/(\b(?:password|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
  }
}
