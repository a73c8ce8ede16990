import { sql, type Kysely, type Selectable } from 'kysely';
import { AuditConflictError } from './errors.js';
import type { AuditsTable, Database } from './schema.js';
import { iso, isoRequired } from './iso.js';
import type { AuditRecord, AuditStatus } from './types.js';

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
  finishAudit(id: number, result: { report: Record<string, unknown> } | { error: string }): Promise<void>;
  listAudits(targetId: number, options?: { limit?: number }): Promise<AuditRecord[]>;
  findAudit(id: number): Promise<AuditRecord | undefined>;
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
      const rows = await base().where('audits.target_id', '=', targetId).orderBy('audits.requested_at', 'desc').orderBy('audits.id', 'desc').limit(limit).execute();
      return rows.map(toAudit);
    },
    async findAudit(id) {
      const row = await base().where('audits.id', '=', id).executeTakeFirst();
      return row ? toAudit(row) : undefined;
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
