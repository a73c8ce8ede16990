/**
 * Audits: their runs and reports, the audit-side queries that feed chat messages (the previous audit's
 * findings, finding ids for links), the completion written in the same transaction as the messages, and
 * the claims that let one replica run each scheduled audit.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Finding } from '../engine/types.js';
import type { OutboxDraft } from '../notify/outbox.js';
import type { Report } from '../report/types.js';
import { AuditConflictError } from './errors.js';
import { iso, isoRequired } from './iso.js';
import { insertOutboxDrafts } from './outbox-repository.js';
import type { AuditsTable, Database } from './schema.js';
import type { AuditRecord, AuditStatus } from './types.js';

/** How long claimed audit slots are remembered; an older slot can no longer be claimed. */
export const AUDIT_SLOT_RETENTION = '7 days';

/**
 * How long a `running` audit blocks the next one of its target: an audit takes at most its 10-minute window plus
 * sampling, so one older than this was left by a process that died (the next daemon start marks it failed).
 */
export const RUNNING_AUDIT_MAX_MS = 30 * 60_000;

export interface AuditsRepository {
  /**
   * Registers a running audit. At most one audit per target runs at a time: throws AuditConflictError (naming the
   * running audit) while another one, younger than RUNNING_AUDIT_MAX_MS, runs. Atomic across processes: the check
   * and the insert run in one transaction holding the target's row lock.
   */
  startAudit(targetId: number, input: { trigger: 'api' | 'schedule'; windowMs: number | null }): Promise<number>;
  finishAudit(id: number, result: { report: Report } | { error: string }): Promise<void>;
  listAudits(targetId: number, options?: { limit?: number }): Promise<AuditRecord[]>;
  findAudit(id: number): Promise<AuditRecord | undefined>;
  /**
   * Marks the audit done with its report and writes its messages, in one transaction. A message whose
   * idempotency key already exists is not written again.
   */
  finishAuditWithMessages(auditId: number, report: Report, drafts: readonly OutboxDraft[]): Promise<void>;
  /** The findings of the latest finished audit of the target before `beforeAuditId`, or null. */
  previousFindings(targetId: number, beforeAuditId: number): Promise<readonly Finding[] | null>;
  /** Store ids of the target's findings by fingerprint (for links in messages). */
  findingIds(targetId: number, fingerprints: readonly string[]): Promise<Record<string, number>>;
  /**
   * Claims one run of a scheduled audit (schedule, target, cron tick) for `owner`; false when another
   * replica claimed it first. Claims older than a week (AUDIT_SLOT_RETENTION, on the store's clock) are
   * forgotten, so a run that old is refused rather than claimed again: never twice, whatever the date.
   */
  claimAuditSlot(schedule: string, target: string, slot: Date, owner: string): Promise<boolean>;
  /** Audits still `running` that were requested more than `olderThanMs` ago become `failed` (their process died). */
  abandonStaleAudits(olderThanMs: number): Promise<number>;
}

export function createAuditsRepository(db: Kysely<Database>): AuditsRepository {
  const base = () => db.selectFrom('audits').innerJoin('targets', 'targets.id', 'audits.target_id').selectAll('audits').select('targets.name as target_name');
  return {
    async startAudit(targetId, { trigger, windowMs }) {
      return db.transaction().execute(async (trx) => {
        await trx.selectFrom('targets').select('id').where('id', '=', targetId).forUpdate().executeTakeFirst();
        const running = await trx
          .selectFrom('audits')
          .select(['id', 'trigger'])
          .where('target_id', '=', targetId)
          .where('status', '=', 'running')
          .where('requested_at', '>', sql<Date>`now() - ${`${RUNNING_AUDIT_MAX_MS} milliseconds`}::interval`)
          .orderBy('id', 'desc')
          .executeTakeFirst();
        if (running) {
          throw new AuditConflictError(Number(running.id), `audit ${running.id} of this target (${running.trigger}) is still running`, {
            hint: 'wait for it: poll the audit list until it is done or failed, then start another',
          });
        }
        const row = await trx
          .insertInto('audits')
          .values({ target_id: targetId, trigger, status: 'running', window_ms: windowMs })
          .returning('id')
          .executeTakeFirstOrThrow();
        return Number(row.id);
      });
    },
    async finishAudit(id, result) {
      await db
        .updateTable('audits')
        .set(
          'report' in result
            ? { status: 'done', finished_at: new Date(), report: JSON.stringify(result.report) }
            : { status: 'failed', finished_at: new Date(), error: result.error },
        )
        .where('id', '=', id)
        .execute();
    },
    async listAudits(targetId, { limit = 50 } = {}) {
      const rows = await base()
        .where('audits.target_id', '=', targetId)
        .orderBy('audits.requested_at', 'desc')
        .orderBy('audits.id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toAudit);
    },
    async findAudit(id) {
      const row = await base().where('audits.id', '=', id).executeTakeFirst();
      return row ? toAudit(row) : undefined;
    },
    async finishAuditWithMessages(auditId, report, drafts) {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('audits')
          .set({ status: 'done', finished_at: new Date(), report: JSON.stringify(report) })
          .where('id', '=', auditId)
          .execute();
        await insertOutboxDrafts(trx, drafts, auditId);
      });
    },
    async previousFindings(targetId, beforeAuditId) {
      const row = await db
        .selectFrom('audits')
        .select('report')
        .where('target_id', '=', targetId)
        .where('id', '<', beforeAuditId)
        .where('status', '=', 'done')
        .where('report', 'is not', null)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      // Reports are stored by finishAuditWithMessages as the version-1 JSON contract.
      const findings = row?.report?.findings;
      return Array.isArray(findings) ? (findings as Finding[]) : null;
    },
    async findingIds(targetId, fingerprints) {
      if (fingerprints.length === 0) return {};
      const rows = await db
        .selectFrom('findings')
        .select(['id', 'fingerprint'])
        .where('target_id', '=', targetId)
        .where('fingerprint', 'in', [...new Set(fingerprints)])
        .execute();
      return Object.fromEntries(rows.map((r) => [r.fingerprint, Number(r.id)]));
    },
    async claimAuditSlot(schedule, target, slot, owner) {
      const horizon = sql<Date>`now() - ${AUDIT_SLOT_RETENTION}::interval`;
      await db.deleteFrom('audit_slots').where('slot', '<', horizon).execute();
      // The claim and the purge judge age on the same clock: a slot past the horizon is refused here,
      // otherwise it would be purged before every claim and won again by each replica.
      const result = await sql<{ owner: string }>`
        insert into audit_slots (schedule, target, slot, owner)
        select ${schedule}, ${target}, ${slot}::timestamptz, ${owner}
        where ${slot}::timestamptz >= ${horizon}
        on conflict (schedule, target, slot) do nothing
        returning owner`.execute(db);
      return result.rows[0]?.owner === owner;
    },
    async abandonStaleAudits(olderThanMs) {
      const result = await db
        .updateTable('audits')
        .set({ status: 'failed', finished_at: new Date(), error: 'abandoned: the daemon running it stopped before it finished' })
        .where('status', '=', 'running')
        .where('requested_at', '<', sql<Date>`now() - ${`${Math.max(0, Math.round(olderThanMs))} milliseconds`}::interval`)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

function toAudit(row: Selectable<AuditsTable> & { target_name: string }): AuditRecord {
  return {
    id: Number(row.id),
    target: row.target_name,
    trigger: row.trigger as 'api' | 'schedule',
    status: row.status as AuditStatus,
    windowMs: row.window_ms,
    requestedAt: isoRequired(row.requested_at),
    finishedAt: iso(row.finished_at),
    report: row.report,
    error: row.error,
  };
}
