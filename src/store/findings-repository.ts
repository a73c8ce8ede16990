import type { Kysely } from 'kysely';
import { SEVERITIES, severityRank, type Finding, type Severity } from '../engine/types.js';
import type { Database } from './schema.js';
import { FindingConflictError } from './errors.js';
import { decodeCursor, encodeCursor } from './finding-cursor.js';
import { applyFindings, type LifecycleChanges, type LifecycleOptions } from './finding-lifecycle.js';
import { insertEvents, toFindingEvent, toFindingRecord, type FindingRow } from './finding-rows.js';
import type { FindingEvent, FindingEventKind, FindingRecord, FindingStatus } from './types.js';

export interface FindingFilter {
  readonly target?: string;
  readonly rule?: string;
  readonly severity?: readonly Severity[];
  readonly status?: readonly FindingStatus[];
  /** Findings seen at or after this instant. */
  readonly since?: Date;
}

export interface FindingPage {
  readonly items: readonly FindingRecord[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface ActionInput {
  readonly actor?: string | null;
  readonly note?: string | null;
  readonly at?: Date;
}

export interface FindingsRepository {
  applySample(
    targetId: number,
    at: Date,
    findings: readonly Finding[],
    evaluatedRules: readonly string[],
    options?: LifecycleOptions,
  ): Promise<LifecycleChanges>;
  /** Sorted by severity (critical first), then impact, then id. Throws InvalidCursorError on a bad cursor. */
  listFindings(filter: FindingFilter, page?: { cursor?: string; limit?: number }): Promise<FindingPage>;
  findFinding(id: number): Promise<(FindingRecord & { readonly events: readonly FindingEvent[] }) | undefined>;
  /** Throws FindingConflictError when the current status does not allow the action; undefined when no such finding. */
  acknowledge(id: number, input?: ActionInput): Promise<FindingRecord | undefined>;
  snooze(id: number, until: Date, input?: ActionInput): Promise<FindingRecord | undefined>;
  reopen(id: number, input?: ActionInput): Promise<FindingRecord | undefined>;
  /** Non-resolved findings per (rule, severity, status). */
  countActive(): Promise<{ rule: string; severity: Severity; status: FindingStatus; count: number }[]>;
}

/** The action a user takes for each event kind, for messages (`reopened` → `reopen`). */
const ACTION_OF: Partial<Record<string, string>> = { acknowledged: 'acknowledge', snoozed: 'snooze', reopened: 'reopen' };

export function createFindingsRepository(db: Kysely<Database>): FindingsRepository {
  const base = () =>
    db.selectFrom('findings').innerJoin('targets', 'targets.id', 'findings.target_id').selectAll('findings').select('targets.name as target_name');

  async function transition(
    id: number,
    kind: FindingEventKind,
    allowed: readonly FindingStatus[],
    to: FindingStatus,
    input: ActionInput,
    extra: { snoozed_until?: Date | null; acknowledged_at?: Date | null; resolved_at?: null } = {},
  ): Promise<FindingRecord | undefined> {
    const at = input.at ?? new Date();
    const done = await db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('findings').select(['id', 'status']).where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) return false;
      const from = row.status as FindingStatus;
      if (!allowed.includes(from)) {
        throw new FindingConflictError(`finding ${id} is ${from}; ${ACTION_OF[kind] ?? kind} needs status ${allowed.join(' or ')}`, {
          hint: from === 'resolved' ? 'the problem is no longer detected; reopen it first if needed' : undefined,
        });
      }
      await trx
        .updateTable('findings')
        .set({ status: to, updated_at: at, missed_samples: 0, ...extra })
        .where('id', '=', id)
        .execute();
      await insertEvents(trx, [{ findingId: id, at, kind, fromStatus: from, toStatus: to, actor: input.actor, note: input.note }]);
      return true;
    });
    if (!done) return undefined;
    const row = await base().where('findings.id', '=', id).executeTakeFirst();
    return row ? toFindingRecord(row as FindingRow) : undefined;
  }

  return {
    applySample: (targetId, at, findings, evaluatedRules, options) => applyFindings(db, targetId, at, findings, evaluatedRules, options),

    async listFindings(filter, { cursor, limit = 50 } = {}) {
      const size = Math.max(1, Math.min(limit, 500));
      let q = base()
        .orderBy('findings.severity_rank', 'desc')
        .orderBy('findings.impact_score', 'desc')
        .orderBy('findings.id', 'asc')
        .limit(size + 1);
      if (filter.target) q = q.where('targets.name', '=', filter.target);
      if (filter.rule) q = q.where('findings.rule', '=', filter.rule);
      if (filter.severity && filter.severity.length > 0) q = q.where('findings.severity', 'in', [...filter.severity]);
      if (filter.status && filter.status.length > 0) q = q.where('findings.status', 'in', [...filter.status]);
      if (filter.since) q = q.where('findings.last_seen_at', '>=', filter.since);
      if (cursor) {
        const c = decodeCursor(cursor);
        q = q.where((eb) =>
          eb.or([
            eb('findings.severity_rank', '<', c.rank),
            eb.and([
              eb('findings.severity_rank', '=', c.rank),
              eb.or([eb('findings.impact_score', '<', c.impact), eb.and([eb('findings.impact_score', '=', c.impact), eb('findings.id', '>', c.id)])]),
            ]),
          ]),
        );
      }
      const rows = (await q.execute()) as FindingRow[];
      const items = rows.slice(0, size).map(toFindingRecord);
      const last = rows.length > size ? rows[size - 1] : undefined;
      return {
        items,
        nextCursor: last ? encodeCursor({ rank: last.severity_rank, impact: Number(last.impact_score), id: Number(last.id) }) : null,
      };
    },

    async findFinding(id) {
      const row = await base().where('findings.id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const events = await db.selectFrom('finding_events').selectAll().where('finding_id', '=', id).orderBy('at').orderBy('id').execute();
      return { ...toFindingRecord(row as FindingRow), events: events.map(toFindingEvent) };
    },

    acknowledge: (id, input = {}) =>
      transition(id, 'acknowledged', ['open', 'snoozed'], 'acknowledged', input, { acknowledged_at: input.at ?? new Date(), snoozed_until: null }),

    snooze: (id, until, input = {}) =>
      transition(
        id,
        'snoozed',
        ['open', 'acknowledged', 'snoozed'],
        'snoozed',
        { ...input, note: input.note ?? `until ${until.toISOString()}` },
        {
          snoozed_until: until,
        },
      ),

    reopen: (id, input = {}) =>
      transition(id, 'reopened', ['acknowledged', 'snoozed', 'resolved'], 'open', input, {
        snoozed_until: null,
        acknowledged_at: null,
        resolved_at: null,
      }),

    async countActive() {
      const rows = await db
        .selectFrom('findings')
        .select(['rule', 'severity', 'status', (eb) => eb.fn.countAll<string>().as('n')])
        .where('status', '!=', 'resolved')
        .groupBy(['rule', 'severity', 'status'])
        .execute();
      return rows
        .filter((r) => (SEVERITIES as readonly string[]).includes(r.severity))
        .map((r) => ({ rule: r.rule, severity: r.severity as Severity, status: r.status as FindingStatus, count: Number(r.n) }))
        .sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.rule.localeCompare(b.rule));
    },
  };
}
