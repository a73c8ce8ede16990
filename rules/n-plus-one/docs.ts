/** The rule's documentation (docs/rules/n-plus-one.md is generated from it). */
import type { RuleDocs } from '../../src/engine/types.js';

export const N_PLUS_ONE_DOCS: RuleDocs = {
  summary: 'Finds statements the application runs once per row of another statement (N+1 loops), from pg_stat_statements alone.',
  why:
    'Each loop iteration is a network round trip: a page that shows 50 rows sends 51 statements. Round ' +
    'trips, not execution time, dominate, so the loop grows linearly with data and saturates connection ' +
    'pools long before the database looks busy.',
  fix:
    'Load the children in one statement: `WHERE key = ANY($1)` with the collected keys, a JOIN with the ' +
    "parent query, or the ORM's eager loading (Rails `includes`/`preload`, Django " +
    '`select_related`/`prefetch_related`, SQLAlchemy `selectinload`/`joinedload`, Prisma `include`, ' +
    'TypeORM `relations`, Sequelize `include`, Hibernate `JOIN FETCH`/`@BatchSize`).',
  falsePositives:
    'A finding needs a child: a top-level SELECT filtering a key column by one parameter (`key = $1`, or ' +
    '`key IN ($1)`, which PostgreSQL treats as equality), alone or joined to other tables by equalities, ' +
    "as ORMs load many-to-many relations through their link table (the key may sit in an inner join's ON " +
    "clause) or a belongs-to through the parent's own table. It needs a parent of the same role whose " +
    'output feeds that key through a declared foreign key (or the `user_id` ↔ `users.id` naming ' +
    'convention, reported as info), at least {minFanOutRatio} child calls per parent call — or per call ' +
    'of the grandparent when the parent is itself a loop (invoices → lines → skus) — and ' +
    '{minParentRowRatio}–{maxParentRowRatio} child calls per parent row (more only with per-second ' +
    'correlation in a window); a list statement that also feeds batched loads of the same key (an eager ' +
    "page sharing the lazy page's list) has the calls of those batches counted out first. A page that " +
    "already joins the child's rows (an eager page) is never taken for the parent; when two parents " +
    'explain the child equally well, the one the per-second series follow is chosen, and without such ' +
    'support nothing is reported; the evidence says why the parent was chosen (`parentChoice`). ' +
    "Unqualified table names resolve through the search_path configured for the statement's role (ALTER " +
    'ROLE … SET search_path), else a name held by one schema only; a finding on an unqualified name that ' +
    'other schemas hold as well lists them (`sameNameSchemas`). Hot independent lookups without a ' +
    "parent, batched `= ANY($1)`/multi-element IN lists (and PG18's squashed `IN ($1 /*, ... */)`), " +
    'one-lookup-plus-one-list requests, PL/pgSQL loops and write loops are never reported; in a window, ' +
    'unrelated services whose rates happen to match are rejected by the per-second series and by the ' +
    'disjoint application groups of the backends. Misses: parents served from a cache or another ' +
    'service, loops whose parent also runs standalone so often that the ratio falls below ' +
    '{minParentRowRatio}, tied parents in cumulative counters, and unqualified names that several ' +
    'schemas hold when the search_path is set by the client rather than configured for the role.',
};
