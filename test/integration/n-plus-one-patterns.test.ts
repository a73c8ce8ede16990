/**
 * n-plus-one on a real PostgreSQL (cumulative counters, pg_monitor-only advisor): loops the rule used to miss,
 * next to healthy look-alikes in the same database.
 * - billing service, `ALTER ROLE … SET search_path = billing`, unqualified names (a public.skus of the same
 *   name exists): invoices page → lines of each invoice (4 rows) → the sku of each line (a nested loop);
 * - shipping service, search_path set by the client's connection options (invisible to the catalog) on tables
 *   only its schema holds: shipments page → parcels of each shipment;
 * - controls under another role with the same configured search_path: an eager page joining invoices, lines
 *   and skus; the batched fix (lines by `= ANY($1)`, skus by a multi-element IN list); hot sku lookups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nPlusOne from '../../rules/n-plus-one/index.js';
import { collectSnapshot, connectTarget } from '../../src/collector/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createTestDatabase, runWorkload, type TestDatabase } from '../support/database.js';

const SCHEMA_SQL = `
  create schema billing;
  create table billing.skus (id int primary key, name text not null, price numeric not null);
  create table billing.invoices (id int primary key, number text not null);
  create table billing.invoice_lines (id int primary key, invoice_id int not null references billing.invoices(id),
    sku_id int not null references billing.skus(id), qty int not null);
  create index on billing.invoice_lines (invoice_id);
  insert into billing.skus select g, 'sku ' || g, g % 90 from generate_series(1, 500) g;
  insert into billing.invoices select g, 'INV-' || g from generate_series(1, 2000) g;
  insert into billing.invoice_lines select g, 1 + (g - 1) / 4, 1 + (g * 13) % 500, 1 from generate_series(1, 8000) g;
  create table public.skus (id int primary key, label text);
  create schema shipping;
  create table shipping.shipments (id int primary key, reference text not null);
  create table shipping.parcels (id int primary key, shipment_id int not null references shipping.shipments(id), weight int not null);
  create index on shipping.parcels (shipment_id);
  insert into shipping.shipments select g, 'S' || g from generate_series(1, 1000) g;
  insert into shipping.parcels select g, 1 + g % 1000, g % 30 from generate_series(1, 3000) g;
  analyze;`;

const TEXTS = {
  invoices: 'SELECT id, number FROM invoices ORDER BY id DESC LIMIT 20 OFFSET $1',
  lines: 'SELECT id, sku_id, qty FROM invoice_lines WHERE invoice_id = $1',
  sku: 'SELECT id, name, price FROM skus WHERE id = $1',
  shipments: 'SELECT id, reference FROM shipments ORDER BY id LIMIT 10 OFFSET $1',
  parcels: 'SELECT id, weight FROM parcels WHERE shipment_id = $1',
  eager: `SELECT i.id, i.number, l.id AS line_id, l.sku_id, s.name FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
    JOIN skus s ON s.id = l.sku_id ORDER BY i.id DESC LIMIT 80 OFFSET $1`,
  batchInvoices: 'SELECT id, number FROM invoices ORDER BY number LIMIT 20 OFFSET $1',
  batchLines: 'SELECT id, invoice_id, sku_id FROM invoice_lines WHERE invoice_id = ANY($1)',
  hotSku: 'SELECT id, price FROM skus WHERE id = $1',
};

/** Hot sku lookups per control request: about two per row of the control's line list (80 rows), unrelated to it. */
const HOT_LOOKUPS = 150;
/** Fragments of the list texts (pg_stat_statements renumbers their LIMIT constant). */
const KEPT = {
  invoices: 'SELECT id, number FROM invoices ORDER BY id DESC LIMIT',
  shipments: 'SELECT id, reference FROM shipments ORDER BY id LIMIT',
};

let db: TestDatabase;
let snapshot: Snapshot;
let findings: readonly Finding[];
const grants = ['grant usage on schema billing, shipping to $ROLE', 'grant select on all tables in schema billing, shipping, public to $ROLE'];

const idOf = (fragment: string, userName: string): string => {
  const hit = snapshot.statements.find((s) => s.userName === userName && s.query?.includes(fragment));
  if (!hit) throw new Error(`not in pg_stat_statements for ${userName}: ${fragment}`);
  return hit.queryId;
};

beforeAll(async () => {
  await initSqlParser();
  db = await createTestDatabase();
  await db.admin.query(SCHEMA_SQL);
  const monitorUrl = await db.createMonitorRole();
  const billing = await db.createRole({ grants });
  const controls = await db.createRole({ grants });
  const shipping = await db.createRole({ grants });
  for (const r of [billing, controls]) await db.admin.query(`alter role ${r.name} in database ${db.name} set search_path = billing`);
  const shippingUrl = new URL(shipping.url);
  shippingUrl.searchParams.set('options', '-c search_path=shipping');

  await runWorkload(
    billing.url,
    async (c, i) => {
      const invoices = await c.query<{ id: number }>(TEXTS.invoices, [(i * 20) % 1900]);
      for (const inv of invoices.rows) {
        const lines = await c.query<{ sku_id: number }>(TEXTS.lines, [inv.id]);
        for (const line of lines.rows) await c.query(TEXTS.sku, [line.sku_id]);
      }
    },
    { clients: 2, iterations: 60, durationMs: 60_000 },
  );
  await runWorkload(
    shippingUrl.toString(),
    async (c, i) => {
      const shipments = await c.query<{ id: number }>(TEXTS.shipments, [(i * 10) % 990]);
      for (const s of shipments.rows) await c.query(TEXTS.parcels, [s.id]);
    },
    { clients: 2, iterations: 150, durationMs: 60_000 },
  );
  await runWorkload(
    controls.url,
    async (c, i) => {
      await c.query(TEXTS.eager, [(i * 80) % 7000]);
      const page = await c.query<{ id: number }>(TEXTS.batchInvoices, [(i * 20) % 1900]);
      const lines = await c.query<{ sku_id: number }>(TEXTS.batchLines, [page.rows.map((r) => r.id)]);
      const skus = [...new Set(lines.rows.map((l) => l.sku_id))].slice(0, 6);
      await c.query(`SELECT id, name FROM skus WHERE id IN (${skus.map((_, k) => `$${k + 1}`).join(', ')})`, skus);
      for (let k = 0; k < HOT_LOOKUPS; k++) await c.query(TEXTS.hotSku, [1 + (((i * HOT_LOOKUPS + k) * 7) % 500)]);
    },
    { clients: 2, iterations: 60, durationMs: 60_000 },
  );

  const target = await connectTarget({ url: monitorUrl });
  try {
    snapshot = await collectSnapshot(target);
  } finally {
    await target.close();
  }
  ({ findings } = evaluateRules({ rules: [nPlusOne], snapshot, window: null }));
  console.log(
    `[n-plus-one patterns] PostgreSQL ${snapshot.meta.serverVersion}: ${JSON.stringify(
      findings.map((f) => ({ severity: f.severity, object: f.object, evidence: f.evidence })),
      null,
      1,
    )}`,
  );
  (globalThis as { roles?: Record<string, string> }).roles = { billing: billing.name, controls: controls.name, shipping: shipping.name };
});

afterAll(async () => {
  await db?.drop();
});

const roles = () => (globalThis as unknown as { roles: Record<'billing' | 'controls' | 'shipping', string> }).roles;

describe('n-plus-one: nested loops, search_path per role, look-alikes', () => {
  it('the collector reads the configured search_path of each role, as pg_monitor', () => {
    expect(snapshot.meta.capabilities.superuser).toBe(false);
    const byName = new Map(snapshot.roles.map((r) => [r.name, r.searchPath]));
    expect(byName.get(roles().billing)).toEqual(['billing']);
    expect(byName.get(roles().shipping)).toBeNull();
  });

  it('finds both loops of the nested billing page, in schema billing, the inner one through its grandparent', () => {
    const billing = roles().billing;
    const lines = findings.find((f) => f.object.queryId === idOf(TEXTS.lines, billing));
    expect(lines?.object).toMatchObject({ schema: 'billing', name: 'invoice_lines' });
    expect(lines?.evidence).toMatchObject({ parentQueryId: idOf(KEPT.invoices, billing), searchPathSource: 'role', fanOut: 20 });
    const sku = findings.find((f) => f.object.queryId === idOf(TEXTS.sku, billing));
    expect(sku?.object).toMatchObject({ schema: 'billing', name: 'skus' });
    expect(sku?.evidence).toMatchObject({
      parentQueryId: idOf(TEXTS.lines, billing),
      grandparentQueryId: idOf(KEPT.invoices, billing),
      fanOut: 4,
      chainFanOut: 80,
      searchPathSource: 'role',
      sameNameSchemas: ['public'],
    });
  });

  it('finds the shipping loop through the one schema holding its unqualified tables', () => {
    const shipping = roles().shipping;
    const parcels = findings.find((f) => f.object.queryId === idOf(TEXTS.parcels, shipping));
    expect(parcels?.object).toMatchObject({ schema: 'shipping', name: 'parcels' });
    expect(parcels?.evidence).toMatchObject({ parentQueryId: idOf(KEPT.shipments, shipping), searchPathSource: 'advisor', tableResolution: 'unique-name' });
  });

  it('stays silent on the eager page, the batched loads and the hot lookups', () => {
    const controls = roles().controls;
    const controlIds = snapshot.statements.filter((s) => s.userName === controls).map((s) => s.queryId);
    expect(controlIds.length).toBeGreaterThanOrEqual(5);
    for (const f of findings) {
      expect(controlIds).not.toContain(f.object.queryId);
      expect(controlIds).not.toContain(f.evidence.parentQueryId);
    }
    expect(findings).toHaveLength(3);
  });
});
