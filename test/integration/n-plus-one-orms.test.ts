/**
 * n-plus-one on the SQL three real ORMs send (Sequelize, TypeORM, Objection/Knex), recorded by
 * pg_stat_statements on a real PostgreSQL and judged over a 1 Hz window, as `check --window` does.
 *
 * Per ORM, an application role serves two pages of the same blog: a lazy one (newest posts, then each post's
 * author and tags one statement per post) and an eager one (best posts with author and tags loaded by the
 * ORM's eager loading). Both pages get the same number of requests overall, in independent bursts, so their
 * rows tie and only the per-second series tell the loop's parent. A second role (another service) does hot
 * independent author lookups by primary key, in bursts of its own, next to an eager page on a timer.
 *
 * Then, for the ORMs whose eager loading sends the list as a statement of its own: a lazy and an eager page
 * sharing that one list statement (cumulative counters), the eager page hit more often.
 *
 * Which queryids belong to which page is learnt from probe roles that run one page kind each (a queryid does
 * not depend on the role), never from hand-written texts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nPlusOne from '../../rules/n-plus-one/index.js';
import { collectSnapshot, collectWindow, connectTarget } from '../../src/collector/index.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Finding } from '../../src/engine/types.js';
import { initSqlParser } from '../../src/sql/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { AUTHOR_COUNT, BLOG_SCHEMA_SQL, ORMS, PAGE_SIZE, SHARED_LIST_ORMS, type BlogPages } from '../support/orm-pages.js';

let db: TestDatabase;
let monitorUrl: string;
const grants = ['grant select on all tables in schema public to $ROLE'];
/** Seconds of traffic per ORM; the window covers the middle WINDOW_MS of it. */
const TICKS = 8;
const WINDOW_MS = 5_000;

beforeAll(async () => {
  await initSqlParser();
  db = await createTestDatabase();
  await db.admin.query(BLOG_SCHEMA_SQL);
  monitorUrl = await db.createMonitorRole();
});

afterAll(async () => {
  await db?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Statement {
  queryid: string;
  calls: number;
  query: string;
}

async function statementsOf(role: string): Promise<Statement[]> {
  const r = await db.admin.query<Statement>(
    `select s.queryid::text as queryid, s.calls::int as calls, s.query from pg_stat_statements s
       join pg_roles r on r.oid = s.userid where r.rolname = $1 and s.toplevel and s.query ilike 'select%'`,
    [role],
  );
  return r.rows;
}

/** Runs `body` on a fresh role and returns the role's SELECT statements. */
async function probe(make: (url: string) => Promise<BlogPages>, body: (pages: BlogPages) => Promise<void>): Promise<Statement[]> {
  const role = await db.createRole({ grants });
  const pages = await make(role.url);
  try {
    await body(pages);
  } finally {
    await pages.close();
  }
  return statementsOf(role.name);
}

/** Bursts of pages per one-second tick: the lazy page's counts, and the same counts shuffled for the eager page. */
function schedule(): { lazy: number[]; eager: number[] } {
  const lazy = Array.from({ length: TICKS }, () => 1 + Math.floor(Math.random() * 5));
  const eager = [...lazy];
  for (let i = eager.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [eager[i], eager[j]] = [eager[j]!, eager[i]!];
  }
  return { lazy, eager };
}

describe.each(Object.keys(ORMS) as (keyof typeof ORMS)[])('n-plus-one on %s pages (window)', (orm) => {
  const make = ORMS[orm];
  let findings: readonly Finding[];
  let lazyChildren: Set<string>;
  let lazyLists: Set<string>;
  let eagerIds: Set<string>;
  let hotIds: Set<string>;

  beforeAll(async () => {
    // Probes: what each page kind sends. Two lazy pages (ORMs may spell OFFSET 0 differently).
    const lazyProbe = await probe(make, async (p) => {
      await p.lazyPage(0);
      await p.lazyPage(1);
    });
    lazyChildren = new Set(lazyProbe.filter((s) => s.calls >= PAGE_SIZE).map((s) => s.queryid));
    lazyLists = new Set(lazyProbe.filter((s) => s.calls <= 2 && /posts/i.test(s.query)).map((s) => s.queryid));
    eagerIds = new Set(
      (await probe(make, (p) => p.eagerPage(1).then(() => undefined))).filter((s) => /posts|authors|tags/i.test(s.query)).map((s) => s.queryid),
    );
    hotIds = new Set((await probe(make, (p) => p.authorById(7))).filter((s) => /authors/i.test(s.query)).map((s) => s.queryid));
    console.log(`[orm ${orm}] lazy page:\n${lazyProbe.map((s) => `  ${s.calls}× ${s.query}`).join('\n')}`);
    expect(lazyChildren.size, 'author and tags loaders of the lazy page').toBe(2);
    expect(lazyLists.size).toBeGreaterThan(0);

    const app = await db.createRole({ grants });
    const service = await db.createRole({ grants });
    const [lazy, eager, hot, serviceEager] = await Promise.all([make(app.url), make(app.url), make(service.url), make(service.url)]);
    const plan = schedule();
    let stop = false;
    const ticks = (async () => {
      for (let t = 0; t < TICKS; t++) {
        const tickEnd = Date.now() + 1_000;
        await Promise.all([
          (async () => {
            for (let k = 0; k < plan.lazy[t]!; k++) await lazy.lazyPage(t * 10 + k);
          })(),
          (async () => {
            for (let k = 0; k < plan.eager[t]!; k++) await eager.eagerPage(t * 10 + k);
          })(),
        ]);
        await sleep(Math.max(0, tickEnd - Date.now()));
      }
      stop = true;
    })();
    // The other service: bursts of author lookups at random moments, and its own eager page on a timer.
    const lookups = (async () => {
      for (let i = 0; !stop; i++) {
        await hot.authorById(1 + ((i * 37) % AUTHOR_COUNT));
        await sleep(Math.random() < 0.02 ? 100 + Math.random() * 400 : 1);
      }
    })();
    const servicePages = (async () => {
      for (let i = 0; !stop; i++) {
        await serviceEager.eagerPage(i);
        await sleep(400);
      }
    })();
    await sleep(1_500);
    const target = await connectTarget({ url: monitorUrl });
    let collected;
    try {
      collected = await collectWindow(target, { durationMs: WINDOW_MS });
    } finally {
      await target.close();
      stop = true;
      await Promise.all([ticks, lookups, servicePages]);
      await Promise.all([lazy, eager, hot, serviceEager].map((p) => p.close()));
    }
    ({ findings } = evaluateRules({ rules: [nPlusOne], snapshot: collected.snapshot, window: collected.window }));
    console.log(
      `[orm ${orm}] PostgreSQL ${collected.snapshot.meta.serverVersion}, bursts lazy ${plan.lazy.join(' ')} / eager ${plan.eager.join(' ')}: ` +
        `${findings.length} findings\n${JSON.stringify(
          findings.map((f) => ({ severity: f.severity, object: f.object, evidence: f.evidence })),
          null,
          1,
        )}`,
    );
  });

  it('finds the lazy author and tags loaders, each with the lazy list as parent', () => {
    expect(findings.map((f) => f.object.queryId).sort()).toEqual([...lazyChildren].sort());
    for (const f of findings) {
      expect(lazyLists.has(String(f.evidence.parentQueryId)), `parent of ${f.object.name}`).toBe(true);
      expect(f.evidence.basis).toBe('window');
    }
  });

  it('never takes an eager page statement or a hot independent lookup for a loop', () => {
    for (const f of findings) {
      expect(eagerIds.has(String(f.object.queryId))).toBe(false);
      expect(eagerIds.has(String(f.evidence.parentQueryId))).toBe(false);
    }
    // The service role's hot lookups share some ORMs' lazy loader text: one finding per child means they were not reported.
    expect(new Set(findings.map((f) => f.object.queryId)).size).toBe(findings.length);
    expect(hotIds.size).toBeGreaterThan(0);
  });
});

describe.each(SHARED_LIST_ORMS)('n-plus-one on %s: lazy and eager page sharing one list statement (cumulative)', (orm) => {
  it('finds the lazy loaders with the shared list as parent, the eager batches counted out', async () => {
    const make = ORMS[orm];
    const role = await db.createRole({ grants });
    const [lazy, eager] = await Promise.all([make(role.url), make(role.url)]);
    const same = eager.eagerSameList;
    expect(same, `${orm} pages define eagerSameList`).toBeDefined();
    if (!same) return;
    const lazyProbe = await probe(make, async (p) => {
      await p.lazyPage(1);
    });
    const children = lazyProbe
      .filter((s) => s.calls >= PAGE_SIZE)
      .map((s) => s.queryid)
      .sort();
    const list = lazyProbe.find((s) => s.calls === 1 && /posts/i.test(s.query))!.queryid;
    try {
      // 60 lazy pages and 90 eager ones: the list's rows are 2.5 times what the loop explains.
      for (let i = 1; i <= 150; i++) await (i % 5 < 2 ? lazy.lazyPage(i) : same.call(eager, i));
    } finally {
      await Promise.all([lazy.close(), eager.close()]);
    }
    const target = await connectTarget({ url: monitorUrl });
    const snapshot = await collectSnapshot(target).finally(() => target.close());
    const mine = new Set(snapshot.statements.filter((s) => s.userName === role.name).map((s) => s.queryId));
    const { findings } = evaluateRules({ rules: [nPlusOne], snapshot, window: null });
    const found = findings.filter((f) => mine.has(String(f.evidence.parentQueryId)));
    console.log(`[orm ${orm}] shared list, statements:\n${(await statementsOf(role.name)).map((x) => `  ${x.calls}× ${x.query}`).join('\n')}`);
    console.log(
      `[orm ${orm}] shared list: ${JSON.stringify(
        found.map((f) => ({ object: f.object, evidence: f.evidence })),
        null,
        1,
      )}`,
    );
    expect(found.map((f) => f.object.queryId).sort()).toEqual(children);
    for (const f of found) {
      expect(f.evidence.parentQueryId).toBe(list);
      expect(f.evidence.batchedParentCalls).toBe(90);
    }
  });
});
