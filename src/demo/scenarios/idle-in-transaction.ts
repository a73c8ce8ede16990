/**
 * Idle in transaction: billing-worker opens a transaction, reads a payment and goes quiet (the classic
 * "HTTP call inside the transaction"). It reads in READ COMMITTED, so it holds locks but no snapshot, and
 * does not disturb the vacuum scenarios. Healthy look-alikes: web-idle sessions idle outside any
 * transaction for as long, checkout-api pausing inside short transactions all the time, and
 * nightly-report running statements back to back inside one long transaction (active, not idle).
 *
 * The rule reports sessions idle longer than maxIdleSeconds (60 s by default): plant this first and let
 * the demo lower the threshold (DEMO_RULE_SETTINGS) rather than wait a minute.
 */
import type pg from 'pg';
import type { Planted, PlantContext, Scenario } from './types.js';
import { closeSessions, loopStatements, openSession, openSessions, sleep, withSession } from './sessions.js';

const CREATE = `
drop table if exists payments;
create table payments (id int primary key, invoice_id int not null, amount numeric(12,2) not null, state text not null);
insert into payments select i, i, i * 0.1, 'pending' from generate_series(1, 1000) i;
`;

/** begin; select; pause 200 ms inside the transaction; commit; pause 300 ms — forever. */
function runShortTransactions(client: pg.Client): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        await client.query('begin');
        await client.query('select state from payments where id = 42');
        await sleep(200);
        await client.query('commit');
        await sleep(300);
      } catch {
        return;
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function plant(ctx: PlantContext): Promise<Planted> {
  const url = ctx.adminUrl;
  await withSession(url, (c) => c.query(CREATE));
  const sessions: pg.Client[] = [];
  const loops: { stop(): Promise<void> }[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(loops.map((l) => l.stop()));
    await closeSessions(sessions);
  };
  try {
    const billing = await openSession(url, 'billing-worker');
    sessions.push(billing);
    await billing.query('begin');
    await billing.query(`select amount from payments where id = 7`);

    sessions.push(...(await openSessions(url, 3, 'web-idle')));
    const checkout = await openSession(url, 'checkout-api');
    sessions.push(checkout);
    loops.push(runShortTransactions(checkout));
    const report = await openSession(url, 'nightly-report');
    sessions.push(report);
    await report.query('begin');
    loops.push(loopStatements([report], 'select pg_catalog.pg_sleep(0.5)'));
  } catch (error) {
    await release();
    throw error;
  }
  ctx.log('billing-worker: idle in transaction from now on');
  return {
    descriptions: [
      'application billing-worker: a transaction left idle after one SELECT',
      'controls: web-idle (3 sessions idle outside a transaction), checkout-api (short transactions), nightly-report (a long but busy transaction)',
    ],
    release,
  };
}

export const idleInTransactionScenario: Scenario = {
  id: 'idle-in-transaction',
  rule: 'idle-in-transaction',
  title: 'A session left idle inside a transaction',
  expected: [{ rule: 'idle-in-transaction', object: { type: 'application', name: 'billing-worker' } }],
  controls: [
    { rule: 'idle-in-transaction', object: { type: 'application', name: 'web-idle' } },
    { rule: 'idle-in-transaction', object: { type: 'application', name: 'checkout-api' } },
    { rule: 'idle-in-transaction', object: { type: 'application', name: 'nightly-report' } },
  ],
  plant,
};
