import type { Selectable, Transaction, Kysely } from 'kysely';
import type { EvidenceValue, FindingObject, Severity } from '../engine/types.js';
import type { Database, FindingEventsTable, FindingsTable } from './schema.js';
import { iso, isoRequired } from './iso.js';
import type { FindingEvent, FindingEventKind, FindingRecord, FindingStatus } from './types.js';

export type FindingRow = Selectable<FindingsTable> & { target_name: string };

export function toFindingRecord(row: FindingRow): FindingRecord {
  return {
    id: Number(row.id),
    target: row.target_name,
    fingerprint: row.fingerprint,
    rule: row.rule,
    severity: row.severity as Severity,
    status: row.status as FindingStatus,
    title: row.title,
    summary: row.summary,
    object: row.object as unknown as FindingObject,
    evidence: row.evidence as Record<string, EvidenceValue>,
    recommendation: row.recommendation,
    impact: row.impact,
    firstSeenAt: isoRequired(row.first_seen_at),
    lastSeenAt: isoRequired(row.last_seen_at),
    resolvedAt: iso(row.resolved_at),
    acknowledgedAt: iso(row.acknowledged_at),
    snoozedUntil: iso(row.snoozed_until),
  };
}

export function toFindingEvent(row: Selectable<FindingEventsTable>): FindingEvent {
  return {
    at: isoRequired(row.at),
    kind: row.kind as FindingEventKind,
    fromStatus: row.from_status as FindingStatus | null,
    toStatus: row.to_status as FindingStatus | null,
    fromSeverity: row.from_severity as Severity | null,
    toSeverity: row.to_severity as Severity | null,
    actor: row.actor,
    note: row.note,
  };
}

export interface EventInput {
  readonly findingId: number;
  readonly at: Date;
  readonly kind: FindingEventKind;
  readonly fromStatus?: FindingStatus | null;
  readonly toStatus?: FindingStatus | null;
  readonly fromSeverity?: Severity | null;
  readonly toSeverity?: Severity | null;
  readonly actor?: string | null;
  readonly note?: string | null;
}

export async function insertEvents(db: Kysely<Database> | Transaction<Database>, events: readonly EventInput[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) await insertEventChunk(db, events.slice(i, i + 500));
}

async function insertEventChunk(db: Kysely<Database> | Transaction<Database>, events: readonly EventInput[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('finding_events')
    .values(
      events.map((e) => ({
        finding_id: e.findingId,
        at: e.at,
        kind: e.kind,
        from_status: e.fromStatus ?? null,
        to_status: e.toStatus ?? null,
        from_severity: e.fromSeverity ?? null,
        to_severity: e.toSeverity ?? null,
        actor: e.actor ?? null,
        note: e.note ?? null,
      })),
    )
    .execute();
}

/** Largest impact number (≥ 0): the secondary sort key after severity, as in the engine's sortFindings. */
export function impactScore(impact: Readonly<Record<string, number>>): number {
  const values = Object.values(impact).filter((v) => Number.isFinite(v));
  return Math.max(0, ...values);
}
