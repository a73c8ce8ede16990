/**
 * Index bloat with a healthy heap: shipments loses 90 % of its rows, scattered over every page, is
 * vacuumed, then refilled with as many new rows. The heap reuses its free space (so table-bloat must
 * stay silent), but the old leaf pages of the tracking-code index stay 10 % full: new, higher keys go
 * to new pages on the right. This is the queue/log-table pattern where only a REINDEX helps.
 */
import type { Planted, PlantContext, Scenario } from './types.js';
import { runInFreshSessions, sleep, waitForCounters, withSession } from './sessions.js';

const FIRST_ROWS = 200_000;
const REFILL_ROWS = 180_000;

const CREATE = `
drop table if exists shipments;
create table shipments (id int primary key, tracking_code text not null, created_at timestamptz not null)
  with (autovacuum_enabled = false);
create unique index shipments_tracking_code_key on shipments (tracking_code);
`;

const rows = (from: number, to: number): string => `
insert into shipments
select i, 'TRK-' || lpad(i::text, 10, '0') || '-' || left(md5(i::text), 24), timestamptz '2026-01-01' + i * interval '1 second'
  from generate_series(${from}, ${to}) i`;

async function plant(ctx: PlantContext): Promise<Planted> {
  const url = ctx.adminUrl;
  await withSession(url, (c) => c.query(CREATE));
  await runInFreshSessions(url, [rows(1, FIRST_ROWS), 'delete from shipments where id % 10 <> 0']);
  const dmlDone = Date.now();
  await waitForCounters(url, 'shipments', { nTupDel: FIRST_ROWS * 0.9 });
  await sleep(Math.max(0, 1100 - (Date.now() - dmlDone)));
  await runInFreshSessions(url, ['vacuum shipments']);
  await runInFreshSessions(url, [rows(FIRST_ROWS + 1, FIRST_ROWS + REFILL_ROWS)]);
  await waitForCounters(url, 'shipments', { nTupIns: FIRST_ROWS + REFILL_ROWS });
  await runInFreshSessions(url, ['analyze shipments', 'alter table shipments reset (autovacuum_enabled)']);
  ctx.log('shipments: 90 % deleted, vacuumed and refilled (heap dense again, tracking-code index mostly empty)');
  return {
    descriptions: [
      'public.shipments_tracking_code_key: 90 % of entries deleted and the table refilled with new keys: old leaf pages stay 10 % full',
      'control: public.shipments itself reused its free space (no table bloat)',
    ],
    release: async () => undefined, // nothing to undo: the data stays until the server is removed
  };
}

export const indexBloatScenario: Scenario = {
  id: 'index-bloat',
  rule: 'index-bloat',
  title: 'Index bloat after deletes and refills (heap healthy)',
  expected: [{ rule: 'index-bloat', object: { type: 'index', schema: 'public', name: 'shipments_tracking_code_key' } }],
  controls: [{ rule: 'table-bloat', object: { type: 'table', schema: 'public', name: 'shipments' } }],
  plant,
};
