import type { Kysely, Selectable } from 'kysely';
import type { Database, TargetsTable } from './schema.js';
import { iso } from './iso.js';
import type { TargetRecord, TargetState, TargetStatus } from './types.js';

export interface TargetDefinition {
  readonly name: string;
  /** Must already be masked: the store never holds a password. */
  readonly maskedUrl: string;
  readonly intervalMs: number;
}

export type TargetStatusUpdate = Partial<Omit<TargetStatus, 'lastRunAt' | 'lastSuccessAt' | 'lastErrorAt' | 'nextRunAt'>> & {
  readonly lastRunAt?: Date | null;
  readonly lastSuccessAt?: Date | null;
  readonly lastErrorAt?: Date | null;
  readonly nextRunAt?: Date | null;
};

export interface TargetsRepository {
  /** Inserts or updates the configured targets; targets no longer configured are disabled (history kept). */
  syncTargets(definitions: readonly TargetDefinition[]): Promise<TargetRecord[]>;
  listTargets(options?: { includeDisabled?: boolean }): Promise<TargetRecord[]>;
  findTarget(name: string): Promise<TargetRecord | undefined>;
  updateStatus(name: string, update: TargetStatusUpdate): Promise<void>;
}

export function createTargetsRepository(db: Kysely<Database>): TargetsRepository {
  return {
    async syncTargets(definitions) {
      const names = definitions.map((d) => d.name);
      await db.transaction().execute(async (trx) => {
        for (const d of definitions) {
          await trx
            .insertInto('targets')
            .values({ name: d.name, url_masked: d.maskedUrl, interval_ms: d.intervalMs, enabled: true })
            .onConflict((oc) => oc.column('name').doUpdateSet({ url_masked: d.maskedUrl, interval_ms: d.intervalMs, enabled: true, updated_at: new Date() }))
            .execute();
        }
        let disable = trx.updateTable('targets').set({ enabled: false, state: 'disabled', updated_at: new Date() }).where('enabled', '=', true);
        if (names.length > 0) disable = disable.where('name', 'not in', names);
        await disable.execute();
      });
      return this.listTargets();
    },

    async listTargets({ includeDisabled = false } = {}) {
      let q = db.selectFrom('targets').selectAll().orderBy('name');
      if (!includeDisabled) q = q.where('enabled', '=', true);
      return (await q.execute()).map(toRecord);
    },

    async findTarget(name) {
      const row = await db.selectFrom('targets').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },

    async updateStatus(name, u) {
      const set: Record<string, unknown> = { updated_at: new Date() };
      if (u.state !== undefined) set.state = u.state;
      if (u.lastRunAt !== undefined) set.last_run_at = u.lastRunAt;
      if (u.lastSuccessAt !== undefined) set.last_success_at = u.lastSuccessAt;
      if (u.lastErrorAt !== undefined) set.last_error_at = u.lastErrorAt;
      if (u.lastError !== undefined) set.last_error = u.lastError;
      if (u.lastDurationMs !== undefined) set.last_duration_ms = u.lastDurationMs;
      if (u.consecutiveFailures !== undefined) set.consecutive_failures = u.consecutiveFailures;
      if (u.nextRunAt !== undefined) set.next_run_at = u.nextRunAt;
      if (u.serverVersion !== undefined) set.server_version = u.serverVersion;
      if (u.owner !== undefined) set.owner = u.owner;
      await db.updateTable('targets').set(set).where('name', '=', name).execute();
    },
  };
}

function toRecord(row: Selectable<TargetsTable>): TargetRecord {
  return {
    id: row.id,
    name: row.name,
    url: row.url_masked,
    intervalMs: row.interval_ms,
    enabled: row.enabled,
    state: row.state as TargetState,
    lastRunAt: iso(row.last_run_at),
    lastSuccessAt: iso(row.last_success_at),
    lastErrorAt: iso(row.last_error_at),
    lastError: row.last_error,
    lastDurationMs: row.last_duration_ms,
    consecutiveFailures: row.consecutive_failures,
    nextRunAt: iso(row.next_run_at),
    serverVersion: row.server_version,
    owner: row.owner,
  };
}
