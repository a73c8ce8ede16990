/**
 * One place masks secrets (src/secrets): URL passwords — also in malformed URLs whose password holds a space,
 * a `/` or an `@` — query-string passwords, and a target's password wherever it leaked into a message.
 */
import { describe, expect, it } from 'vitest';
import { maskUrl, scrubDestination, scrubSecrets, scrubTargetError, scrubTargetText, secretsOf } from '../../src/secrets/index.js';

const MALFORMED = [
  'postgres://app:pa ss/wo@rd@db.internal:5432/prod',
  'postgres://app:abc/def@db.internal/prod',
  'postgresql://app:with space@db/prod',
  'postgres://app:p@zzq:w/rdx@10.0.0.1:6432/db?sslmode=require',
];

describe('secrets', () => {
  it.each(MALFORMED)('masks the whole password of a malformed URL: %s', (url) => {
    const password = /^[a-z]+:\/\/app:(.*)@[^@]*$/.exec(url)?.[1];
    expect(password).toBeTruthy();
    const masked = maskUrl(url);
    expect(masked).toContain('app:***@');
    for (const piece of password!.split(/[ /@:]/).filter((p) => p.length >= 2)) expect(masked).not.toContain(piece);
    expect(secretsOf(url)).toContain(password);
  });

  it('keeps a well-formed URL readable and masks query-string passwords', () => {
    expect(maskUrl('postgres://app:s3cret@db:5433/prod?sslmode=require')).toBe('postgres://app:***@db:5433/prod?sslmode=require');
    expect(maskUrl('postgres://app@db/prod')).toBe('postgres://app@db/prod');
    expect(maskUrl('host=db password=hunter22 dbname=x')).toBe('host=db password=*** dbname=x');
    expect(secretsOf('postgres://app:p%40ss@db/x')).toEqual(expect.arrayContaining(['p%40ss', 'p@ss']));
  });

  it('scrubs a leaked password from any message about the target, however it was quoted', () => {
    const url = MALFORMED[0]!;
    const message = `could not connect to ${url}: password authentication failed for "pa ss/wo@rd"`;
    const scrubbed = scrubTargetText(message, url);
    expect(scrubbed).not.toContain('pa ss');
    expect(scrubbed).not.toContain('wo@rd');
    const error = scrubTargetError(new Error(message), url);
    expect(error.message).toBe(scrubbed);
    expect(scrubSecrets('token abcd-1234 in text', ['abcd-1234'])).toBe('token *** in text');
  });

  it('keeps chat destination tokens out of delivery errors', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    expect(scrubDestination(`POST ${url} failed`, url)).toBe('POST <destination url> failed');
    expect(scrubDestination('404 at /services/T000/B000/XXXXSECRET', url)).toBe('404 at /<redacted>');
  });
});
