/**
 * An xmin-horizon holder for the vacuum and wraparound scenarios: a forgotten prepared transaction
 * (the classic two-phase-commit leftover), or, on a server with max_prepared_transactions = 0, a
 * session left idle in a REPEATABLE READ transaction. Either holds back vacuum in every database of the cluster.
 */
import { quoteLiteral } from '../../sql/quote.js';
import { openSession, withSession } from './sessions.js';

export interface HeldHorizon {
  readonly kind: 'prepared-transaction' | 'backend';
  /** The prepared transaction's gid, or the holding session's application_name. */
  readonly name: string;
  release(): Promise<void>;
}

const PREPARED_DISABLED = '55000'; // object_not_in_prerequisite_state: "prepared transactions are disabled"

export async function holdHorizon(adminUrl: string, name: string): Promise<HeldHorizon> {
  await rollbackPrepared(adminUrl, name); // a leftover from an interrupted earlier run
  const client = await openSession(adminUrl, name);
  try {
    await client.query('begin');
    await client.query('select pg_catalog.pg_current_xact_id()');
    await client.query(`prepare transaction ${quoteLiteral(name)}`);
    await client.end();
    return { kind: 'prepared-transaction', name, release: () => rollbackPrepared(adminUrl, name) };
  } catch (error) {
    if ((error as { code?: string }).code !== PREPARED_DISABLED) {
      await client.end().catch(() => undefined /* closing a planted session is best effort: the server is removed at exit */);
      throw error;
    }
    // A failed PREPARE rolls the transaction back; hold a snapshot in this session instead.
    await client.query('rollback');
    await client.query('begin isolation level repeatable read');
    await client.query('select count(*) from pg_catalog.pg_class');
    return {
      kind: 'backend',
      name,
      async release() {
        await client.query('rollback').catch(() => undefined /* the session may already be gone; closing it ends the transaction anyway */);
        await client.end().catch(() => undefined /* closing a planted session is best effort: the server is removed at exit */);
      },
    };
  }
}

async function rollbackPrepared(adminUrl: string, gid: string): Promise<void> {
  await withSession(adminUrl, async (c) => {
    const { rowCount } = await c.query('select 1 from pg_catalog.pg_prepared_xacts where gid = $1 and database = current_database()', [gid]);
    if (rowCount) await c.query(`rollback prepared ${quoteLiteral(gid)}`);
  }).catch(() => undefined /* best effort: the demo removes the server at exit */);
}
