/**
 * The classic lock-queue incident, planted on a test database: a long transaction (batch-import) holds a row
 * lock on `accounts`; a migration (migrate) waits for ACCESS EXCLUSIVE behind it; ordinary reads (web) queue
 * behind the migration. Beside it: a read-only pg_dump-like transaction on another table, an idle session, a
 * session idle in transaction and a statement that just started. Sessions run in the background until release().
 */
import pg from 'pg';
import { sleep, waitUntil } from '../../src/demo/scenarios/sessions.js';

export interface LockQueue {
  /** pids by application_name. */
  readonly pids: Readonly<Record<string, number[]>>;
  release(): Promise<void>;
}

export async function plantLockQueue(adminUrl: string, options: { ageMs: number }): Promise<LockQueue> {
  const setup = new pg.Client({ connectionString: adminUrl });
  await setup.connect();
  await setup.query(`create table accounts (id int primary key, balance int not null)`);
  await setup.query(`insert into accounts select g, 100 from generate_series(1, 1000) g`);
  await setup.query(`create table audit_log (id int primary key)`);
  await setup.end();

  const clients: pg.Client[] = [];
  const open = async (app: string): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: adminUrl, application_name: app });
    c.on('error', () => {});
    await c.connect();
    clients.push(c);
    return c;
  };
  const release = async (): Promise<void> => {
    const end = new pg.Client({ connectionString: adminUrl });
    await end.connect();
    await end.query(`select pg_catalog.pg_terminate_backend(pid) from pg_catalog.pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()`);
    await end.end();
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  };
  const background = (c: pg.Client, sql: string): void => {
    c.query(sql).catch(() => {}); // ends with an error when release() terminates the session
  };

  const batch = await open('batch-import');
  await batch.query('begin');
  await batch.query('update accounts set balance = balance + 1 where id = 1');
  background(batch, 'select pg_sleep(600)');
  const dump = await open('pg_dump');
  await dump.query('begin isolation level repeatable read read only');
  await dump.query('select count(*) from audit_log');
  background(dump, 'select pg_sleep(600)');
  const idleTx = await open('idle-worker');
  await idleTx.query('begin');
  await idleTx.query('select 1');
  await open('reader');
  await sleep(options.ageMs);

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const waiting = async (count: number): Promise<boolean> =>
    waitUntil(
      async () => {
        const { rows } = await admin.query(`select count(*)::int as n from pg_catalog.pg_stat_activity
        where datname = current_database() and application_name in ('migrate', 'web') and wait_event_type = 'Lock'`);
        return rows[0].n === count;
      },
      10_000,
      50,
    );
  try {
    const migrate = await open('migrate');
    await migrate.query(`set lock_timeout = 0`);
    background(migrate, 'alter table accounts add column note text');
    // The reads must arrive after the ALTER queued, or they are granted at once and never wait.
    if (!(await waiting(1))) throw new Error('the migration did not queue behind batch-import');
    for (let i = 0; i < 2; i++) background(await open('web'), 'select balance from accounts where id = 2');
    if (!(await waiting(3))) throw new Error('the reads did not queue behind the migration');
    background(await open('fresh'), 'select pg_sleep(600)');
    const { rows } = await admin.query(`select application_name, pid from pg_catalog.pg_stat_activity where datname = current_database()`);
    const pids: Record<string, number[]> = {};
    for (const r of rows as { application_name: string; pid: number }[]) (pids[r.application_name] ??= []).push(r.pid);
    return { pids, release };
  } catch (error) {
    await release();
    throw error;
  } finally {
    await admin.end();
  }
}
