/**
 * Transaction-ID wraparound risk, made visible in seconds (detection notes §4.4): ledger_entries has the
 * lowest allowed autovacuum_freeze_max_age (100,000). A forgotten prepared transaction holds the xmin
 * horizon so no vacuum can freeze past it, then 200,000 transaction IDs are consumed: the table's age
 * reaches about 2× its freeze max age. Healthy look-alikes: ledger_archive, the same age under default
 * settings (200,000 of 200 million), and the database itself.
 */
import { holdHorizon, type HeldHorizon } from './horizon.js';
import type { Planted, PlantContext, Scenario } from './types.js';
import { withSession } from './sessions.js';

const HOLDER_GID = 'ledger-tm-0317';
/** Transaction IDs consumed: age ≈ 2.0 × 100,000, clear of the 1.5× warning bar. */
const XIDS_TO_BURN = 200_000;

const CREATE = `
drop table if exists ledger_entries, ledger_archive;
create table ledger_entries (id int primary key, account_id int not null, amount numeric(12,2) not null)
  with (autovacuum_freeze_max_age = 100000);
create table ledger_archive (id int primary key, account_id int not null, amount numeric(12,2) not null);
insert into ledger_entries select i, i % 100, i * 0.01 from generate_series(1, 10000) i;
insert into ledger_archive select i, i % 100, i * 0.01 from generate_series(1, 10000) i;
`;

/** One transaction per iteration, each assigned an xid (about 250k per second on the embedded cluster). */
const burnXids = (n: number): string => `do $$ begin for i in 1..${n} loop perform pg_catalog.pg_current_xact_id(); commit; end loop; end $$`;

async function plant(ctx: PlantContext): Promise<Planted> {
  const url = ctx.adminUrl;
  await withSession(url, (c) => c.query(CREATE));
  const holder: HeldHorizon = await holdHorizon(url, HOLDER_GID);
  try {
    await withSession(url, (c) => c.query(burnXids(XIDS_TO_BURN)));
  } catch (error) {
    await holder.release();
    throw error;
  }
  ctx.log(`ledger_entries: ${XIDS_TO_BURN.toLocaleString('en-US')} transaction IDs consumed behind ${holder.kind} ${holder.name}`);
  return {
    descriptions: [
      `public.ledger_entries: XID age ≈ 2× its autovacuum_freeze_max_age of 100,000; ${holder.kind} '${holder.name}' keeps vacuum from freezing it`,
      'controls: public.ledger_archive (same age, default freeze max age 200 million) and the database itself',
    ],
    release: () => holder.release(),
  };
}

export const xidWraparoundScenario: Scenario = {
  id: 'xid-wraparound',
  rule: 'xid-wraparound',
  title: 'Transaction-ID age past the freeze limit behind a horizon holder',
  expected: [{ rule: 'xid-wraparound', object: { type: 'table', schema: 'public', name: 'ledger_entries' } }],
  controls: [
    { rule: 'xid-wraparound', object: { type: 'table', schema: 'public', name: 'ledger_archive' } },
    { rule: 'xid-wraparound', object: { type: 'database' } },
  ],
  plant,
};
