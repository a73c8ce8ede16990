import type { Insertable, Kysely } from 'kysely';
import { severityRank, type Finding, type Severity } from '../engine/types.js';
import type { Database, FindingsTable } from './schema.js';
import { impactScore, insertEvents, type EventInput } from './finding-rows.js';
import type { FindingStatus } from './types.js';

export interface LifecycleOptions {
  /** A finding not detected in this many consecutive samples (of rules that ran) is resolved (default 3). */
  readonly resolveAfterMisses?: number;
}

export interface LifecycleChanges {
  /** Finding ids per transition, for notifiers and logs. */
  readonly opened: readonly number[];
  readonly reopened: readonly number[];
  readonly escalated: readonly number[];
  readonly resolved: readonly number[];
}

/**
 * Applies one sample's findings to the lifecycle of a target, in one transaction:
 * new fingerprint → `open`; seen again → last_seen_at, evidence and severity updated (a severity change
 * is an event); a resolved finding seen again reopens; a snoozed finding whose snooze expired, or whose
 * severity escalated, reopens; acknowledged stays acknowledged. A finding of a rule that ran but did not
 * report it counts a miss; `resolveAfterMisses` misses in a row resolve it. Findings of rules that did
 * not run (skipped, crashed) are left alone: a skipped rule is never a clean result.
 */
export async function applyFindings(
  db: Kysely<Database>,
  targetId: number,
  at: Date,
  findings: readonly Finding[],
  evaluatedRules: readonly string[],
  options: LifecycleOptions = {},
): Promise<LifecycleChanges> {
  const resolveAfter = Math.max(1, options.resolveAfterMisses ?? 3);
  const opened: number[] = [];
  const reopened: number[] = [];
  const escalated: number[] = [];
  const resolved: number[] = [];
  await db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('findings')
      .select(['id', 'fingerprint', 'rule', 'status', 'severity', 'snoozed_until', 'missed_samples'])
      .where('target_id', '=', targetId)
      .where((eb) =>
        eb.or([
          eb('status', '!=', 'resolved'),
          ...(findings.length > 0
            ? [
                eb(
                  'fingerprint',
                  'in',
                  findings.map((f) => f.fingerprint),
                ),
              ]
            : []),
        ]),
      )
      .forUpdate()
      .execute();
    const byFingerprint = new Map(existing.map((r) => [r.fingerprint, r]));
    const events: EventInput[] = [];
    const seen = new Set<string>();
    const fresh: Insertable<FindingsTable>[] = [];

    for (const f of findings) {
      seen.add(f.fingerprint);
      const row = byFingerprint.get(f.fingerprint);
      const content = {
        rule: f.rule,
        severity: f.severity,
        severity_rank: severityRank(f.severity),
        impact_score: impactScore(f.impact),
        title: f.title,
        summary: f.summary,
        object: JSON.stringify(f.object),
        evidence: JSON.stringify(f.evidence),
        recommendation: JSON.stringify(f.recommendation),
        impact: JSON.stringify(f.impact),
        last_seen_at: at,
        missed_samples: 0,
        updated_at: at,
      };
      if (!row) {
        fresh.push({ ...content, target_id: targetId, fingerprint: f.fingerprint, status: 'open', first_seen_at: at });
        continue;
      }
      const id = Number(row.id);
      const from = row.status as FindingStatus;
      const fromSeverity = row.severity as Severity;
      const rose = severityRank(f.severity) > severityRank(fromSeverity);
      let status: FindingStatus = from;
      if (fromSeverity !== f.severity) {
        events.push({ findingId: id, at, kind: 'severity-changed', fromSeverity, toSeverity: f.severity });
        if (rose) escalated.push(id);
      }
      const snoozeOver = from === 'snoozed' && (row.snoozed_until === null || new Date(row.snoozed_until) <= at);
      if (from === 'resolved') {
        status = 'open';
        reopened.push(id);
        events.push({ findingId: id, at, kind: 'reopened', fromStatus: from, toStatus: status, note: 'detected again' });
      } else if (from === 'snoozed' && (rose || snoozeOver)) {
        status = 'open';
        if (rose) reopened.push(id);
        events.push({
          findingId: id,
          at,
          kind: rose ? 'reopened' : 'unsnoozed',
          fromStatus: from,
          toStatus: status,
          note: rose ? `severity escalated to ${f.severity} while snoozed` : 'snooze expired',
        });
      }
      await trx
        .updateTable('findings')
        .set({
          ...content,
          status,
          ...(status !== from ? { resolved_at: null, snoozed_until: null } : {}),
        })
        .where('id', '=', row.id)
        .execute();
    }

    // New findings in one statement per chunk (a first sample may bring hundreds).
    for (let i = 0; i < fresh.length; i += 500) {
      const chunk = fresh.slice(i, i + 500);
      const inserted = await trx.insertInto('findings').values(chunk).returning(['id', 'fingerprint', 'severity']).execute();
      for (const r of inserted) {
        const id = Number(r.id);
        opened.push(id);
        events.push({ findingId: id, at, kind: 'opened', toStatus: 'open', toSeverity: r.severity as Severity });
      }
    }

    const ran = new Set(evaluatedRules);
    for (const row of existing) {
      if (seen.has(row.fingerprint) || row.status === 'resolved' || !ran.has(row.rule)) continue;
      const id = Number(row.id);
      const misses = row.missed_samples + 1;
      if (misses >= resolveAfter) {
        resolved.push(id);
        events.push({
          findingId: id,
          at,
          kind: 'resolved',
          fromStatus: row.status as FindingStatus,
          toStatus: 'resolved',
          note: `not detected in ${misses} consecutive samples`,
        });
        await trx
          .updateTable('findings')
          .set({ status: 'resolved', resolved_at: at, missed_samples: misses, snoozed_until: null, updated_at: at })
          .where('id', '=', row.id)
          .execute();
      } else {
        await trx.updateTable('findings').set({ missed_samples: misses }).where('id', '=', row.id).execute();
      }
    }
    await insertEvents(trx, events);
  });
  return { opened, reopened, escalated, resolved };
}
