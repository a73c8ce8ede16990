/**
 * Vacuum lag (detection notes §4.2, §4.4). job_queue (autovacuum trigger lowered to 1 % by reloption)
 * gets every row updated while a forgotten prepared transaction holds the xmin horizon; a VACUUM from
 * another session then finds 50,000 dead tuples it may not remove (autovacuum keeps retrying).
 * sensor_readings has autovacuum disabled and five times its trigger in dead tuples.
 * Healthy look-alikes: page_views with 12,000 dead tuples (material, vacuumed under the same horizon,
 * but below its trigger of 16,050), user_sessions with 1,000 dead tuples, feature_flags with
 * autovacuum disabled but almost no dead tuples, and audit_events, updated and vacuumed in one session a
 * second before the holder appeared (n_dead_tup then shows phantom dead tuples, detection notes §0).
 */
import { holdHorizon, type HeldHorizon } from './horizon.js';
import type { Planted, PlantContext, Scenario } from './types.js';
import { runInFreshSessions, sleep, waitForCounters, withSession } from './sessions.js';

const HOLDER_GID = 'orders-tm-0042';

const CREATE = `
drop table if exists job_queue, sensor_readings, page_views, user_sessions, feature_flags, audit_events;
create table job_queue (id int primary key, state text not null, attempts int not null, payload text not null)
  with (autovacuum_vacuum_scale_factor = 0.01);
create table sensor_readings (id int primary key, sensor_id int not null, value float8 not null, note text not null)
  with (autovacuum_enabled = false);
create table page_views (id int primary key, path text not null, views int not null);
create table user_sessions (id int primary key, user_id int not null, token text not null);
create table feature_flags (id int primary key, name text not null, enabled boolean not null)
  with (autovacuum_enabled = false);
create table audit_events (id int primary key, actor text not null, action text not null, detail text not null);
insert into audit_events select i, 'user' || i % 100, 'login', md5(i::text) from generate_series(1, 30000) i;
insert into job_queue select i, 'queued', 0, md5(i::text) from generate_series(1, 50000) i;
insert into sensor_readings select i, i % 300, i * 0.5, md5(i::text) from generate_series(1, 50000) i;
insert into page_views select i, '/products/' || i, 0 from generate_series(1, 80000) i;
insert into user_sessions select i, i % 5000, md5(i::text) from generate_series(1, 20000) i;
insert into feature_flags select i, 'flag_' || i || '_' || md5(i::text), i % 2 = 0 from generate_series(1, 20000) i;
`;

const UPDATES = [
  `update job_queue set state = 'done', attempts = attempts + 1`,
  `update sensor_readings set value = value + 1`,
  `update page_views set views = views + 1 where id <= 12000`,
  `update user_sessions set token = md5(token) where id <= 1000`,
  `update feature_flags set enabled = not enabled where id <= 500`,
];

async function plant(ctx: PlantContext): Promise<Planted> {
  const url = ctx.adminUrl;
  await withSession(url, (c) => c.query(CREATE));
  // The §0 trap on purpose: DML and VACUUM back to back in one session (its n_dead_tup shows dead tuples
  // that are gone), then the holder only after a clear second: it cannot have kept anything from that vacuum.
  await withSession(url, async (c) => {
    await c.query(`update audit_events set action = 'logout'`);
    await c.query('vacuum audit_events');
  });
  const phantomVacuumDone = Date.now();
  await runInFreshSessions(url, ['analyze job_queue, sensor_readings, page_views, user_sessions, feature_flags']);
  await sleep(Math.max(0, 1100 - (Date.now() - phantomVacuumDone)));
  const holder: HeldHorizon = await holdHorizon(url, HOLDER_GID);
  try {
    await withSession(url, async (c) => {
      for (const sql of UPDATES) await c.query(sql);
    });
    const dmlDone = Date.now();
    await waitForCounters(url, 'job_queue', { nTupUpd: 50_000, nDeadTup: 50_000 });
    await waitForCounters(url, 'sensor_readings', { nTupUpd: 50_000 });
    await waitForCounters(url, 'page_views', { nTupUpd: 12_000 });
    await waitForCounters(url, 'feature_flags', { nTupUpd: 500 });
    await waitForCounters(url, 'user_sessions', { nTupUpd: 1_000 });
    await sleep(Math.max(0, 1100 - (Date.now() - dmlDone)));
    // Vacuum runs but may not remove what the prepared transaction can still see.
    await runInFreshSessions(url, ['vacuum job_queue, page_views']);
    await waitForCounters(url, 'job_queue', { vacuumCount: 1, nDeadTup: 50_000 });
  } catch (error) {
    await holder.release();
    throw error;
  }
  ctx.log(`job_queue: 50,000 dead tuples kept by ${holder.kind} ${holder.name}; sensor_readings: autovacuum disabled`);
  return {
    descriptions: [
      `public.job_queue: 50,000 dead tuples vacuum may not remove: ${holder.kind} '${holder.name}' holds the xmin horizon`,
      'public.sensor_readings: autovacuum disabled, 50,000 dead tuples (5× its trigger)',
      'controls: public.page_views (12,000 dead, below its trigger), public.user_sessions (1,000 dead), ' +
        'public.feature_flags (autovacuum off, 500 dead), public.audit_events (updated and vacuumed in one ' +
        'session)',
    ],
    release: () => holder.release(),
  };
}

export const vacuumLagScenario: Scenario = {
  id: 'vacuum-lag',
  rule: 'vacuum-lag',
  title: 'Vacuum blocked by a forgotten prepared transaction, and autovacuum disabled',
  expected: [
    { rule: 'vacuum-lag', object: { type: 'table', schema: 'public', name: 'job_queue' } },
    { rule: 'vacuum-lag', object: { type: 'table', schema: 'public', name: 'sensor_readings' } },
  ],
  controls: [
    { rule: 'vacuum-lag', object: { type: 'table', schema: 'public', name: 'page_views' } },
    { rule: 'vacuum-lag', object: { type: 'table', schema: 'public', name: 'user_sessions' } },
    { rule: 'vacuum-lag', object: { type: 'table', schema: 'public', name: 'feature_flags' } },
    { rule: 'vacuum-lag', object: { type: 'table', schema: 'public', name: 'audit_events' } },
  ],
  plant,
};
