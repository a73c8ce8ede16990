/**
 * fk-without-index on a real PostgreSQL, collected as a pg_monitor-only role: three planted unindexed foreign
 * keys on children over the 8 MiB floor (an oddly named plain table, a partitioned table, a child of a
 * partitioned parent) among healthy look-alikes; then the generated SQL is run and the rule goes silent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForCounters } from '../../src/demo/scenarios/sessions.js';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

const MiB = 1024 * 1024;
/** 40,000 rows of ~250 bytes: about 10 MiB of heap, over the 8 MiB floor. */
const BIG = 40_000;
const FILLER = `repeat('x', 200)`;

const PLANT = [
  `create table orders (id bigint primary key, tenant_id int not null, unique (tenant_id, id))`,
  `insert into orders select g, g % 10 from generate_series(1, 20000) g`,
  // Planted: unindexed FK on an oddly named child (the generated SQL must quote it right).
  `create table "Order Lines" (id bigint generated always as identity primary key, "Order Id" bigint not null references orders, filler text not null)`,
  `insert into "Order Lines" ("Order Id", filler) select 1 + g % 10000, ${FILLER} from generate_series(1, ${BIG}) g`,
  // Healthy: composite FK served by an index on its columns in another order.
  `create table shipments (id bigint generated always as identity primary key, tenant_id int not null, order_id bigint not null,
     filler text not null, foreign key (tenant_id, order_id) references orders (tenant_id, id))`,
  `create index on shipments (order_id, tenant_id, id)`,
  `insert into shipments (tenant_id, order_id, filler) select (1 + g % 10000) % 10, 1 + g % 10000, ${FILLER} from generate_series(1, ${BIG}) g`,
  // Healthy: FK covered by the composite primary key.
  `create table order_items (order_id bigint not null references orders, line_no int not null, filler text not null, primary key (order_id, line_no))`,
  `insert into order_items select 1 + g % 10000, g, ${FILLER} from generate_series(1, ${BIG}) g`,
  // Healthy: unindexed FK on a small child.
  `create table order_notes (id bigint generated always as identity primary key, order_id bigint references orders, note text)`,
  `insert into order_notes (order_id, note) select g, 'note' from generate_series(1, 100) g`,
  // Planted: FK declared on a partitioned child (copied onto each partition), two ~5 MiB partitions.
  `create table events (id bigint not null, order_id bigint not null references orders, at date not null, filler text not null) partition by range (at)`,
  `create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01')`,
  `create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01')`,
  `insert into events select g, 1 + g % 10000, date '2025-06-01' + (g % 2) * 365, ${FILLER} from generate_series(1, ${BIG}) g`,
  // Planted: FK to a partitioned parent (PostgreSQL clones it per referenced partition on the child).
  `create table invoices (id bigint not null, region text not null, primary key (id, region)) partition by list (region)`,
  `create table invoices_eu partition of invoices for values in ('eu')`,
  `create table invoices_us partition of invoices for values in ('us')`,
  `insert into invoices select g, case when g % 2 = 0 then 'eu' else 'us' end from generate_series(1, 20000) g`,
  `create table payments (id bigint generated always as identity primary key, invoice_id bigint not null, region text not null,
     filler text not null, foreign key (invoice_id, region) references invoices)`,
  `insert into payments (invoice_id, region, filler) select g, case when g % 2 = 0 then 'eu' else 'us' end, ${FILLER} from generate_series(1, ${BIG} / 4) g`,
  `insert into payments (invoice_id, region, filler) select invoice_id, region, filler from payments cross join generate_series(1, 3)`,
  // Parent deletes (of rows nothing references, so each delete only runs the checks).
  `delete from orders where id > 19990`,
  `delete from invoices where id > 19990`,
];

const fkFindings = (e: Evaluation): Finding[] => e.findings.filter((f) => f.rule === 'fk-without-index');
const describeFinding = (f: Finding): string => `${f.severity} ${f.object.schema}.${f.object.name} (${(f.object.columns ?? []).join(', ')})`;

describe('fk-without-index on planted foreign keys', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let before: Evaluation;

  beforeAll(async () => {
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    for (const sql of PLANT) await db.admin.query(sql);
    await waitForCounters(db.adminUrl, 'orders', { nTupDel: 10 });
    await waitForCounters(db.adminUrl, 'invoices_eu', { nTupDel: 5 });
    before = await collectAndEvaluate(monitorUrl);
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('fires exactly on the three planted foreign keys, silent on the look-alikes', () => {
    expect(before.diagnostics.filter((d) => d.rule === 'fk-without-index')).toEqual([]);
    expect(fkFindings(before).map(describeFinding).sort()).toEqual([
      'warning public.Order Lines (Order Id)',
      'warning public.events (order_id)',
      'warning public.payments (invoice_id, region)',
    ]);
    const byName = new Map(fkFindings(before).map((f) => [f.object.name, f]));

    const lines = byName.get('Order Lines')!;
    expect(lines.evidence).toMatchObject({ constraint: 'Order Lines_Order Id_fkey', referencedTable: 'public.orders', parentDeletes: 10 });
    expect(Number(lines.evidence.tableBytes)).toBeGreaterThanOrEqual(8 * MiB);
    expect(lines.recommendation.sql).toBe('CREATE INDEX CONCURRENTLY ON public."Order Lines" ("Order Id");');

    const events = byName.get('events')!;
    expect(events.evidence).toMatchObject({ unindexedPartitions: 2, unindexedPartitionNames: ['public.events_2025', 'public.events_2026'], parentDeletes: 10 });
    expect(Number(events.evidence.tableBytes)).toBeGreaterThanOrEqual(8 * MiB);

    // One finding, not one per referenced partition; the deletes are those of the partitions.
    const payments = byName.get('payments')!;
    expect(payments.evidence).toMatchObject({ constraint: 'payments_invoice_id_region_fkey', referencedTable: 'public.invoices', parentDeletes: 10 });
  });

  it('goes silent once the recommended indexes exist', async () => {
    for (const f of fkFindings(before)) {
      // CREATE INDEX CONCURRENTLY cannot run inside a (multi-statement) transaction: one query each.
      for (const statement of f.recommendation.sql!.split('\n')) await db.admin.query(statement);
    }
    const after = await collectAndEvaluate(monitorUrl);
    expect(after.diagnostics.filter((d) => d.rule === 'fk-without-index')).toEqual([]);
    expect(fkFindings(after).map(describeFinding)).toEqual([]);
    const { rows } = await db.admin.query(
      `select count(*)::int as n from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indrelid
        where c.relname in ('Order Lines', 'events_2025', 'events_2026', 'payments') and i.indisvalid and not i.indisprimary`,
    );
    expect(rows[0].n).toBe(4);
  });
});
