import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import poolExhaustion from '../../rules/pool-exhaustion/index.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../../src/daemon/checkpoint.js';
import { lightSample, MAX_HISTORY_SAMPLES, SampleHistory } from '../../src/daemon/history.js';
import { evaluateRules } from '../../src/engine/evaluate.js';
import type { Backend } from '../../src/snapshot/types.js';
import type { Sample } from '../../src/snapshot/window-types.js';
import { makeBackend, makeBackends, makeDatabase, makeMeta, makeSample, makeSnapshot, makeStatement, makeTable } from '../support/builders.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
/** A sample at `seconds` whose one statement has made `calls` calls so far. */
const sampleAt = (seconds: number, calls = seconds * 10): Sample =>
  makeSample({ collectedAt: at(seconds), statements: [makeStatement({ queryId: '42', calls, rows: calls, totalExecTimeMs: calls / 10 })] });

/** Feeds samples through a history as the sampler does (view, then commit once stored); returns each view. */
function feed(history: SampleHistory, samples: readonly Sample[]) {
  return samples.map((s) => {
    const view = history.view(s);
    history.commit(s);
    return view;
  });
}

describe('SampleHistory', () => {
  it('gives rules every sample within the horizon and the store only the last interval', () => {
    const history = new SampleHistory({ horizonMs: 300_000, intervalMs: 60_000 });
    const views = feed(
      history,
      [0, 60, 120, 180].map((t) => sampleAt(t)),
    );
    expect(views[0]).toEqual({ step: null, window: null, intervalSeconds: null }); // first sample: gauges only
    const last = views[3]!;
    expect(last.intervalSeconds).toBe(60);
    expect(last.window?.samples.map((s) => s.elapsedSeconds)).toEqual([0, 60, 120, 180]);
    expect(last.window?.statements[0]).toMatchObject({ queryId: '42', calls: 1800, callsSeries: [600, 600, 600] });
    expect(last.step?.samples).toHaveLength(2);
    expect(last.step?.statements[0]).toMatchObject({ calls: 600, callsSeries: [600] });
    // Stored deltas (the steps) add up to the counters' growth: nothing counted twice.
    expect(views.slice(1).reduce((n, v) => n + (v.step?.statements[0]?.calls ?? 0), 0)).toBe(1800);
  });

  it('drops samples past the horizon and beyond the cap', () => {
    const history = new SampleHistory({ horizonMs: 120_000, intervalMs: 30_000 });
    const views = feed(
      history,
      [0, 30, 60, 90, 120, 150, 180].map((t) => sampleAt(t)),
    );
    expect(views[6]!.window?.samples.map((s) => s.collectedAt)).toEqual([60, 90, 120, 150, 180].map(at));
    expect(history.size).toBe(5);

    const capped = new SampleHistory({ horizonMs: 3_600_000, intervalMs: 1000 });
    const many = feed(
      capped,
      Array.from({ length: 50 }, (_, i) => sampleAt(i)),
    );
    expect(many[49]!.window?.samples).toHaveLength(MAX_HISTORY_SAMPLES);
    expect(capped.size).toBe(MAX_HISTORY_SAMPLES);
  });

  it('keeps the previous sample for a late tick even without history, but not across a long gap', () => {
    const history = new SampleHistory({ horizonMs: 0, intervalMs: 60_000 });
    const views = feed(history, [sampleAt(0), sampleAt(60), sampleAt(200), sampleAt(400)]);
    expect(views[1]!.window?.samples).toHaveLength(2); // only the previous sample
    expect(views[2]!.intervalSeconds).toBe(140); // ≤ 2.5 intervals: still a delta
    expect(views[3]).toEqual({ step: null, window: null, intervalSeconds: null }); // 200 s > 150 s: starts over
  });

  it('never diffs against a sample that is not older (a clock step back, a repeated reading)', () => {
    const history = new SampleHistory({ horizonMs: 300_000, intervalMs: 60_000 });
    history.seed(sampleAt(120));
    expect(history.view(sampleAt(60)).window).toBeNull();
    expect(history.view(sampleAt(120)).window).toBeNull();
    expect(history.view(sampleAt(180)).intervalSeconds).toBe(60);
  });

  it('does not keep a sample that was viewed but not committed (a failed store write)', () => {
    const history = new SampleHistory({ horizonMs: 300_000, intervalMs: 60_000 });
    feed(history, [sampleAt(0)]);
    history.view(sampleAt(60)); // stored? no: the write failed
    const next = history.view(sampleAt(120));
    expect(next.step?.statements[0]).toMatchObject({ calls: 1200 }); // covers both intervals
  });
});

describe('rules on history', () => {
  const self = (): Backend => makeBackend({ applicationName: 'pg-advisor', userName: 'advisor', state: 'active', isSelf: true });
  const pool = () => makeBackends(8, { applicationName: 'worker-pool', userName: 'app', clientAddr: '10.0.0.9', state: 'active', waitEventType: 'Lock' });
  const snapshotAt = (seconds: number, activity: Backend[]) =>
    makeSnapshot({
      meta: makeMeta({ collectedAt: at(seconds) }),
      activity: [self(), ...activity],
      settings: { maxConnections: 60 },
      databases: [makeDatabase()],
    });
  const poolFindings = (horizonMs: number, activity: (i: number) => Backend[]) => {
    const history = new SampleHistory({ horizonMs, intervalMs: 15_000 });
    let findings: string[] = [];
    for (let i = 0; i < 5; i++) {
      const snapshot = snapshotAt(i * 15, activity(i));
      const { window } = history.view(lightSample(snapshot));
      findings = evaluateRules({ rules: [poolExhaustion], snapshot, window }).findings.map((f) => `${f.object.type}:${f.object.name}`);
      history.commit(lightSample(snapshot));
    }
    return findings;
  };

  it('judge an application pool over the history (≥ 3 samples), which one previous sample cannot', () => {
    expect(poolFindings(300_000, pool)).toEqual(['application:worker-pool']);
    expect(poolFindings(0, pool)).toEqual([]);
    // Control: the same pool busy in only 2 of 5 samples stays silent with history.
    expect(
      poolFindings(300_000, (i) =>
        i < 2 ? pool() : makeBackends(8, { applicationName: 'worker-pool', userName: 'app', clientAddr: '10.0.0.9', state: 'idle' }),
      ),
    ).toEqual([]);
  });
});

describe('sample checkpoint', () => {
  const sample = lightSample(
    makeSnapshot({
      meta: makeMeta({ collectedAt: at(0), pgssDealloc: 3 }),
      statements: [makeStatement({ queryId: '-9223372036854775808', userName: 'app', calls: 7, totalExecTimeMs: 1.25, statsSince: at(-60) })],
      tables: [makeTable({ schema: 'Sales Ü', name: 'Weird "Table"', nDeadTup: 12 })],
      activity: [makeBackend({ applicationName: 'web', state: 'idle' })],
    }),
  );
  const identity = { database: 'shop', serverVersionNum: 170010 };

  it('round-trips a light sample without query texts', () => {
    const decoded = decodeCheckpoint(encodeCheckpoint(sample, identity));
    expect(decoded.identity).toEqual(identity);
    expect(decoded.sample).toEqual({ ...sample, statements: sample.statements.map((s) => ({ ...s, query: null })) });
  });

  it('refuses bytes that are not a checkpoint of this format', () => {
    expect(() => decodeCheckpoint(Buffer.from('not gzip'))).toThrow(CheckpointError);
    const other = encodeCheckpoint(sample, identity);
    const json = JSON.parse(gunzipSync(other).toString()) as Record<string, unknown>;
    const reencode = (o: unknown) => gzipSync(JSON.stringify(o));
    expect(() => decodeCheckpoint(reencode({ ...json, format: 2 }))).toThrow(/format 2/);
    expect(() => decodeCheckpoint(reencode({ ...json, statementKeys: ['userId'] }))).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(reencode({ ...json, statements: [[1, 2]] }))).toThrow(/wrong width/);
  });

  it('is small: 5,000 statements and 1,000 tables in under 300 kB', () => {
    const big = lightSample(
      makeSnapshot({
        statements: Array.from({ length: 5000 }, (_, i) =>
          makeStatement({ queryId: String(-4_000_000_000_000 + i * 7919), calls: i * 13, totalExecTimeMs: i * 1.7 }),
        ),
        tables: Array.from({ length: 1000 }, (_, i) => makeTable({ oid: 20_000 + i, name: `t${i}`, nDeadTup: i })),
      }),
    );
    expect(encodeCheckpoint(big, identity).length).toBeLessThan(300_000);
  });
});
