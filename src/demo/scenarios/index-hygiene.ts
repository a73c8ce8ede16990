/**
 * Index hygiene, the release-gate checks: a unique CREATE INDEX CONCURRENTLY that failed on duplicate
 * values and left an invalid index behind; an exact duplicate of an index; and a foreign key whose
 * referencing column has no index, on a child table over the 8 MiB floor whose parent sees deletes.
 * Healthy look-alikes: the same column with a text_pattern_ops index (not a duplicate), a foreign key
 * served by a composite index that leads with it, and a small child table with an unindexed foreign key.
 *
 * Planted first: a concurrent index build waits for other sessions' transactions, and later scenarios
 * leave some open (idle-in-transaction, the horizon holders).
 */
import type { Planted, PlantContext, Scenario } from './types.js';
import { runInFreshSessions, withSession } from './sessions.js';

const LINES = 150_000;

const CREATE = `
drop table if exists ledger_lines, ledger_notes, ledger_tags, billing_accounts;
create table billing_accounts (id int primary key, name text not null);
insert into billing_accounts select i, 'account ' || i from generate_series(1, 20000) i;
create table ledger_lines (
  id bigint primary key, account_id int not null references billing_accounts (id), amount numeric(12,2) not null, memo text not null
);
insert into ledger_lines select i, 1 + i % 19000, (i % 500) * 1.5, md5(i::text) from generate_series(1, ${LINES}) i;
create index ledger_lines_memo_idx on ledger_lines (memo);
create index ledger_lines_memo_copy_idx on ledger_lines (memo);
create index ledger_lines_memo_pattern_idx on ledger_lines (memo text_pattern_ops);
create table ledger_notes (
  id bigint primary key, account_id int not null references billing_accounts (id), created_at timestamptz not null, note text not null
);
insert into ledger_notes select i, 1 + i % 19000, timestamptz '2026-01-01' + i * interval '1 minute', md5(i::text) from generate_series(1, ${LINES}) i;
create index ledger_notes_account_created_idx on ledger_notes (account_id, created_at);
create table ledger_tags (id int primary key, account_id int not null references billing_accounts (id), tag text not null);
insert into ledger_tags select i, 1 + i % 19000, 'tag' || i % 10 from generate_series(1, 2000) i;
`;

async function plant(ctx: PlantContext): Promise<Planted> {
  const url = ctx.adminUrl;
  await withSession(url, (c) => c.query(CREATE));
  // Accounts nobody references: deleting them makes the parent's deletes visible to the rule.
  await runInFreshSessions(url, ['delete from billing_accounts where id > 19500', 'analyze billing_accounts, ledger_lines, ledger_notes, ledger_tags']);
  // Fails on the duplicate amounts and leaves ledger_lines_amount_key behind, invalid (as a real failed deploy would).
  await withSession(url, async (c) => {
    try {
      await c.query('create unique index concurrently ledger_lines_amount_key on ledger_lines (amount)');
      throw new Error('the planted unique index build was expected to fail on duplicate amounts');
    } catch (error) {
      if (!/could not create unique index/i.test((error as Error).message)) throw error;
    }
  });
  ctx.log('planted index hygiene: invalid ledger_lines_amount_key, duplicate ledger_lines_memo_copy_idx, unindexed ledger_lines.account_id');
  return {
    descriptions: [
      'ledger_lines_amount_key: a unique CREATE INDEX CONCURRENTLY that failed on duplicates, left invalid',
      'ledger_lines_memo_copy_idx: an exact copy of ledger_lines_memo_idx',
      `ledger_lines.account_id: a foreign key to billing_accounts without an index (${LINES.toLocaleString('en-US')} rows; billing_accounts sees deletes)`,
      'controls: a text_pattern_ops index on the same column, ledger_notes (its foreign key leads a composite index), ledger_tags (small)',
    ],
    async release() {
      // nothing to undo: the data stays until the server is removed
    },
  };
}

export const indexHygieneScenario: Scenario = {
  id: 'index-hygiene',
  rule: 'invalid-index',
  title: 'Invalid, duplicate and missing foreign-key indexes',
  expected: [
    { rule: 'invalid-index', object: { type: 'index', name: 'ledger_lines_amount_key' } },
    { rule: 'duplicate-index', object: { type: 'index', name: 'ledger_lines_memo_copy_idx' } },
    { rule: 'fk-without-index', object: { type: 'table', name: 'ledger_lines' } },
  ],
  controls: [
    { rule: 'duplicate-index', object: { name: 'ledger_lines_memo_idx' } },
    { rule: 'duplicate-index', object: { name: 'ledger_lines_memo_pattern_idx' } },
    { rule: 'fk-without-index', object: { name: 'ledger_notes' } },
    { rule: 'fk-without-index', object: { name: 'ledger_tags' } },
  ],
  plant,
};
