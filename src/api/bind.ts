import { UsageError } from '../errors/errors.js';
import type { ApiToken } from '../config/daemon/index.js';

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Refuses to expose the API beyond loopback without a token. Throws UsageError. */
export function assertSafeBind(host: string, tokens: readonly ApiToken[]): void {
  if (!isLoopback(host) && tokens.length === 0) {
    throw new UsageError(`refusing to listen on ${host} without an API token`, {
      hint: 'set ADVISOR_API_TOKEN (admin) and/or ADVISOR_API_READ_TOKEN, or api.tokens in the config file; or bind to 127.0.0.1',
    });
  }
}
