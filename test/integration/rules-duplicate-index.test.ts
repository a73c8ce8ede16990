/**
 * duplicate-index on a real PostgreSQL, collected as a pg_monitor-only role: planted exact duplicates
 * (plain, next to a primary key, gin, expression, odd identifiers) and a prefix-redundant btree, next to
 * healthy look-alikes that must stay silent. The generated DROP statements are then run as admin, and a
 * second collection must find nothing left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIndexDefinition } from '../../src/analysis/index-definition.js';
import type { Finding } from '../../src/engine/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { collectAndEvaluate, type Evaluation } from '../support/scenario-check.js';

const ODD_SCHEMA = 'My Schema';
const ODD_TABLE = 'Odd "T", (x)';
const ODD_INDEX = 'Weird, "Idx" (1)';

const PLANT = `
create table orders (
  id bigint generated always as identity primary key, customer_id int not null, email text, status text,
  ref text, created_at timestamptz not null default now(), total numeric, tags text[]
);
insert into orders (customer_id, email, status, ref, total, tags)
  select i % 50, 'u' || i || '@example.com', (array['open', 'paid'])[1 + i % 2], 'r' || i, i % 7, array['t' || i % 3]
  from generate_series(1, 2000) i;

-- planted: exact duplicates (the second of each pair has the higher oid and is reported)
create index orders_customer_a on orders (customer_id);
create index orders_customer_b on orders (customer_id);
create index orders_id_idx on orders (id);
create index orders_tags_a on orders using gin (tags);
create index orders_tags_b on orders using gin (tags);
create index orders_lower_email_a on orders (lower(email));
create index orders_lower_email_b on orders (lower(email));
-- planted: prefix-redundant btree
create index orders_status on orders (status);
create index orders_status_created on orders (status, created_at);

-- controls: unique (a) next to a unique constraint on (a, b), and a unique index treating NULLs otherwise
create unique index orders_ref_key on orders (ref);
alter table orders add constraint orders_ref_created_key unique (ref, created_at);
create unique index orders_ref_nnd on orders (ref) nulls not distinct;
-- controls: operator class, collation, other expression
create index orders_email on orders (email);
create index orders_email_pattern on orders (email text_pattern_ops);
create index orders_email_c on orders (email collate "C");
create index orders_upper_email on orders (upper(email));
-- controls: partial indexes with different predicates; covering indexes with different INCLUDE sets
create index orders_total_open on orders (total) where status = 'open';
create index orders_total_paid on orders (total) where status = 'paid';
create index orders_created_inc_total on orders (created_at) include (total);
create index orders_created_inc_status on orders (created_at) include (status);
-- control: the same index names on a table of another schema
create schema archive;
create table archive.orders (customer_id int, status text, created_at timestamptz);
create index orders_customer_b on archive.orders (customer_id);
create index orders_status on archive.orders (status);

-- odd identifiers: an exact pair (the weird-named one is newer, so reported) and an operator-class control
create schema "My Schema";
create table "My Schema"."Odd ""T"", (x)" ("Weird, ""Col""" text, "a)b(" int);
create index "dup ""2""" on "My Schema"."Odd ""T"", (x)" ("Weird, ""Col""");
create index "Weird, ""Idx"" (1)" on "My Schema"."Odd ""T"", (x)" ("Weird, ""Col""");
create index "odd pattern" on "My Schema"."Odd ""T"", (x)" ("Weird, ""Col""" text_pattern_ops, "a)b(");
`;

/** An index left invalid by a failed CREATE UNIQUE INDEX CONCURRENTLY, next to a valid plain twin. */
const PLANT_INVALID_TWIN = [
  'create index orders_total on orders (total)',
  'create unique index concurrently orders_total_u on orders (total)', // fails: totals repeat
];

const EXPECTED = [
  { schema: 'public', name: 'orders_customer_b', severity: 'warning', kind: 'exact', keptIndex: 'orders_customer_a' },
  { schema: 'public', name: 'orders_id_idx', severity: 'warning', kind: 'exact', keptIndex: 'orders_pkey' },
  { schema: 'public', name: 'orders_tags_b', severity: 'warning', kind: 'exact', keptIndex: 'orders_tags_a' },
  { schema: 'public', name: 'orders_lower_email_b', severity: 'warning', kind: 'exact', keptIndex: 'orders_lower_email_a' },
  { schema: 'public', name: 'orders_status', severity: 'info', kind: 'prefix', keptIndex: 'orders_status_created' },
  { schema: ODD_SCHEMA, name: ODD_INDEX, severity: 'warning', kind: 'exact', keptIndex: 'dup "2"' },
];

const duplicates = (e: Evaluation): Finding[] => e.findings.filter((f) => f.rule === 'duplicate-index');
const summary = (f: Finding) => ({
  schema: f.object.schema,
  name: f.object.name,
  severity: f.severity,
  kind: f.evidence.kind,
  keptIndex: f.evidence.keptIndex,
});
const byName = (a: { name?: string }, b: { name?: string }) => (a.name ?? '').localeCompare(b.name ?? '');

describe('duplicate-index on planted indexes', () => {
  let db: TestDatabase;
  let monitorUrl: string;
  let evaluation: Evaluation;

  beforeAll(async () => {
    db = await createTestDatabase();
    monitorUrl = await db.createMonitorRole();
    await db.admin.query(PLANT);
    await db.admin.query(PLANT_INVALID_TWIN[0]!);
    await expect(db.admin.query(PLANT_INVALID_TWIN[1]!)).rejects.toThrow(/could not create unique index/);
    evaluation = await collectAndEvaluate(monitorUrl);
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('sees the odd table and the invalid twin as planted', () => {
    const odd = evaluation.snapshot.indexes.find((i) => i.name === ODD_INDEX);
    expect(odd).toMatchObject({ schema: ODD_SCHEMA, table: ODD_TABLE, columns: ['Weird, "Col"'], isValid: true });
    expect(evaluation.snapshot.indexes.find((i) => i.name === 'orders_total_u')?.isValid).toBe(false);
  });

  it('parses every definition the server printed, names and key columns matching the catalog', () => {
    for (const index of evaluation.snapshot.indexes) {
      const def = parseIndexDefinition(index.definition);
      expect(def, index.definition).toMatchObject({
        name: index.name,
        schema: index.schema,
        table: index.table,
        method: index.method,
        include: index.includeColumns,
      });
      expect(
        def?.keys.map((k) => k.column),
        index.definition,
      ).toEqual(index.columns);
    }
  });

  it('reports exactly the planted duplicates; every control stays silent', () => {
    expect(duplicates(evaluation).map(summary).sort(byName)).toEqual([...EXPECTED].sort(byName));
    for (const f of duplicates(evaluation)) {
      expect(f.object).toMatchObject({ type: 'index', table: f.object.schema === ODD_SCHEMA ? ODD_TABLE : 'orders' });
      expect(Number(f.evidence.sizeBytes)).toBeGreaterThan(0);
      expect(f.impact.sizeBytes).toBe(f.evidence.sizeBytes);
    }
  });

  it('drops the reported indexes with the generated statements, leaving nothing to report', async () => {
    const statements = duplicates(evaluation).map((f) => f.recommendation.sql!);
    expect(statements).toContain('DROP INDEX CONCURRENTLY "My Schema"."Weird, ""Idx"" (1)";');
    for (const sql of statements) {
      expect(sql).toMatch(/^DROP INDEX CONCURRENTLY /);
      await db.admin.query(sql);
    }
    const { rows } = await db.admin.query<{ name: string }>(
      `select c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind = 'i' and n.nspname in ('public', $1)`,
      [ODD_SCHEMA],
    );
    const left = rows.map((r) => r.name);
    for (const e of EXPECTED) {
      expect(left, `${e.name} dropped`).not.toContain(e.name);
      expect(left, `${e.keptIndex} kept`).toContain(e.keptIndex);
    }
    expect(duplicates(await collectAndEvaluate(monitorUrl))).toEqual([]);
  }, 60_000);
});
