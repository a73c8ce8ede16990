/**
 * Runs the real pipeline over a planted scenario — collector as a pg_monitor-only role, then every rule
 * of the registry — and checks the scenario's expectations: each expected finding present (partial
 * object match), each control silent. On a mismatch the error lists the findings and the snapshot's
 * numbers for the objects involved, so a miss can be reported without re-running.
 */
import { expect } from 'vitest';
import { allRules } from '../../rules/index.js';
import { collectSnapshot, collectWindow, connectTarget } from '../../src/collector/index.js';
import type { ObjectExpectation, Scenario } from '../../src/demo/scenarios/index.js';
import { evaluateRules, type RuleSettings } from '../../src/engine/evaluate.js';
import type { Diagnostic, Finding } from '../../src/engine/types.js';
import type { Snapshot } from '../../src/snapshot/types.js';
import type { Window } from '../../src/snapshot/window-types.js';

export interface Evaluation {
  readonly snapshot: Snapshot;
  readonly window: Window | null;
  readonly findings: readonly Finding[];
  readonly diagnostics: readonly Diagnostic[];
}

export async function collectAndEvaluate(
  url: string,
  options: { windowMs?: number; settings?: Readonly<Record<string, RuleSettings>> } = {},
): Promise<Evaluation> {
  const target = await connectTarget({ url });
  let snapshot: Snapshot;
  let window: Window | null = null;
  try {
    if (options.windowMs) {
      ({ snapshot, window } = await collectWindow(target, { durationMs: options.windowMs }));
    } else {
      snapshot = await collectSnapshot(target);
    }
  } finally {
    await target.close();
  }
  const result = evaluateRules({ rules: allRules, snapshot, window, settings: options.settings });
  return { snapshot, window, findings: result.findings, diagnostics: result.diagnostics };
}

/** Findings of `e.rule` whose object has every key/value of `e.object`. */
export function matching<F extends { rule: string; object: object }>(findings: readonly F[], e: ObjectExpectation): F[] {
  return findings.filter((f) => f.rule === e.rule && Object.entries(e.object).every(([k, v]) => (f.object as Record<string, unknown>)[k] === v));
}

/** The snapshot's numbers about the object an expectation names (tables, indexes, bloat, activity…). */
export function snapshotFacts(snapshot: Snapshot, e: ObjectExpectation): unknown {
  const name = e.object.name;
  const type = e.object.type;
  if (type === 'table') {
    const t = snapshot.tables.find((x) => x.name === name);
    return {
      table: t && {
        relpages: t.relpages,
        reltuples: t.reltuples,
        heapBytes: t.heapBytes,
        nDeadTup: t.nDeadTup,
        nLiveTup: t.nLiveTup,
        reloptions: t.reloptions,
        lastVacuumAgeSeconds: t.lastVacuumAgeSeconds,
        lastAutovacuumAgeSeconds: t.lastAutovacuumAgeSeconds,
        vacuumCount: t.vacuumCount,
        autovacuumCount: t.autovacuumCount,
        xidAge: t.xidAge,
        nModSinceAnalyze: t.nModSinceAnalyze,
      },
      bloat: snapshot.bloat?.tables.find((x) => x.name === name) ?? null,
      horizonHolders: snapshot.vacuum?.horizonHolders.filter((h) => h.kind !== 'backend' || h.xminAge > 0).slice(0, 4),
      vacuumProgress: snapshot.vacuum?.progress,
    };
  }
  if (type === 'index') {
    const i = snapshot.indexes.find((x) => x.name === name);
    return {
      index: i && { relpages: i.relpages, reltuples: i.reltuples, sizeBytes: i.sizeBytes, isUnique: i.isUnique, fillfactor: i.fillfactor },
      bloat: snapshot.bloat?.indexes.find((x) => x.name === name) ?? null,
    };
  }
  if (type === 'database')
    return {
      databases: snapshot.databases.map((d) => ({ name: d.name, backends: d.backends, xidAge: d.xidAge, connLimit: d.connLimit })),
      clientBackends: snapshot.activity.length,
      settings: snapshot.settings && { maxConnections: snapshot.settings.maxConnections, reserved: snapshot.settings.superuserReservedConnections },
    };
  if (type === 'role') return snapshot.roles.find((r) => r.name === name) ?? null;
  if (type === 'application') {
    return snapshot.activity
      .filter((b) => b.applicationName === name)
      .map((b) => ({ pid: b.pid, user: b.userName, state: b.state, stateAgeSeconds: b.stateAgeSeconds, xactAgeSeconds: b.xactAgeSeconds }));
  }
  return null;
}

/** Asserts every expected finding and every silent control of the scenarios, reporting all mismatches at once. */
export function expectScenarios(
  evaluation: Pick<Evaluation, 'findings' | 'diagnostics'> & { readonly snapshot?: Snapshot },
  list: readonly Pick<Scenario, 'id' | 'expected' | 'controls'>[],
): void {
  const facts = (e: ObjectExpectation): string => (evaluation.snapshot ? `\n  snapshot: ${JSON.stringify(snapshotFacts(evaluation.snapshot, e))}` : '');
  const problems: string[] = [];
  for (const scenario of list) {
    for (const e of scenario.expected) {
      if (matching(evaluation.findings, e).length === 0) {
        problems.push(`MISS [${scenario.id}] ${e.rule} ${JSON.stringify(e.object)}${facts(e)}`);
      }
    }
    for (const c of scenario.controls) {
      for (const f of matching(evaluation.findings, c)) {
        problems.push(
          `FALSE POSITIVE [${scenario.id}] ${f.rule} ${JSON.stringify(f.object)}: ${f.summary}\n  evidence: ${JSON.stringify(f.evidence)}${facts(c)}`,
        );
      }
    }
  }
  const rulesInvolved = new Set(list.flatMap((s) => [...s.expected, ...s.controls].map((e) => e.rule)));
  for (const d of evaluation.diagnostics) {
    if (d.rule && rulesInvolved.has(d.rule)) problems.push(`DIAGNOSTIC ${d.status} ${d.rule}: ${d.message}`);
  }
  const context = [
    evaluation.snapshot ? `server ${evaluation.snapshot.meta.serverVersion}, role ${evaluation.snapshot.meta.currentUser}` : '',
    'findings:',
    ...evaluation.findings.map((f) => `  ${f.severity} ${f.rule} ${JSON.stringify(f.object)}: ${f.summary}`),
  ].join('\n');
  expect(problems, `${problems.join('\n')}\n${context}`).toEqual([]);
}
