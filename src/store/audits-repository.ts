import type { Report } from '../report/types.js';
import type { Kysely, Selectable } from 'kysely';
import type { AuditsTable, Database } from './schema.js';
import { iso, isoRequired } from './iso.js';
import type { AuditRecord, AuditStatus } from './types.js';

export interface AuditsRepository {
  startAudit(targetId: number, input: { trigger: 'api' | 'schedule'; windowMs: number | null }): Promise<number>;
  finishAudit(id: number, result: { report: Report } | { error: string }): Promise<void>;
  listAudits(targetId: number, options?: { limit?: number }): Promise<AuditRecord[]>;
  findAudit(id: number): Promise<AuditRecord | undefined>;
}

export function createAuditsRepository(db: Kysely<Database>): AuditsRepository {
  const base = () => db.selectFrom('audits').innerJoin('targets', 'targets.id', 'audits.target_id').selectAll('audits').select('targets.name as target_name');
  return {
    async startAudit(targetId, { trigger, windowMs }) {
      const row = await db
        .insertInto('audits')
        .values({ target_id: targetId, trigger, status: 'running', window_ms: windowMs })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
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
