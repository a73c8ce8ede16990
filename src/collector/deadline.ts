import type pg from 'pg';
import { ConnectionError, TargetError } from '../errors/errors.js';

/**
 * Client-side deadlines. statement_timeout is a server-side cancel: it cannot fire when the server itself is
 * frozen (SIGSTOP, a hung kernel, a black-holed network), so every statement also gets a client-side deadline
 * a little above it, after which the session's socket is destroyed and the statement fails.
 */

/** How far beyond statement_timeout the client waits before giving up on the server (milliseconds). */
export function queryDeadlineMs(statementTimeoutMs: number): number {
  return statementTimeoutMs + Math.max(QUERY_DEADLINE_GRACE_MS, Math.round(statementTimeoutMs / 2));
}
/** Least grace beyond statement_timeout: the server's own cancel normally arrives first (milliseconds). */
export const QUERY_DEADLINE_GRACE_MS = 1000;

/**
 * Deadline of one whole collection (one snapshot, or the final snapshot of a window), milliseconds: generous
 * for a slow but alive server (about 30 sequential statements each running into statement_timeout), bounded
 * for one that answers some statements and stalls others.
 */
export function collectionDeadlineMs(statementTimeoutMs: number): number {
  return Math.max(COLLECTION_DEADLINE_MIN_MS, 30 * statementTimeoutMs);
}
/** Shortest whole-collection deadline (milliseconds). */
export const COLLECTION_DEADLINE_MIN_MS = 60_000;

/** How long close() waits for a graceful goodbye before destroying the sockets (milliseconds). */
export const CLOSE_GRACE_MS = 500;

/** The error of a statement that outlived its client-side deadline: the session is gone. */
export class QueryDeadlineError extends ConnectionError {
  constructor(deadlineMs: number, statementTimeoutMs: number) {
    super(
      `the target did not answer within ${deadlineMs} ms (statement_timeout is ${statementTimeoutMs} ms): ` +
        'the server or the network to it is not responding',
      { hint: 'check that the server is running and not frozen (load, swap, a stopped process) and that the network path is up; then retry' },
    );
  }
}

/** Destroys a client's socket at once (no Terminate message, no waiting for the server's FIN). */
export function destroyClientSocket(client: pg.PoolClient | pg.Client): void {
  // node-pg keeps its socket on the (untyped) connection; destroying it ends every pending query with an error.
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  stream?.destroy();
}

/**
 * Runs one statement on `client` with a client-side deadline: past it, the socket is destroyed and the
 * promise rejects with QueryDeadlineError (the caller must release the client as broken).
 */
export async function queryWithin<R extends pg.QueryResultRow>(
  client: pg.PoolClient,
  sql: string,
  params: readonly unknown[] | undefined,
  deadlineMs: number,
  statementTimeoutMs: number,
): Promise<pg.QueryResult<R>> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      destroyClientSocket(client);
      reject(new QueryDeadlineError(deadlineMs, statementTimeoutMs));
    }, deadlineMs);
  });
  try {
    return await Promise.race([client.query<R>(sql, params ? [...params] : undefined), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `body` with a deadline for the whole of it (a collection). Past the deadline the promise rejects with
 * a TargetError; `body` is left to fail on its own (its late rejection is swallowed here): the caller closes
 * the target, which destroys the sockets that `body` still waits on.
 */
export async function withCollectionDeadline<T>(deadlineMs: number, what: string, body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const running = body();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.catch(() => {
        // abandoned: the caller closes the target and reports this deadline instead
      });
      reject(
        new TargetError(`${what} did not finish within ${deadlineMs < 1000 ? `${deadlineMs} ms` : `${Math.round(deadlineMs / 1000)} s`}`, {
          hint: 'the server answers too slowly; collect off-peak, or check its load and the network to it',
        }),
      );
    }, deadlineMs);
  });
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
