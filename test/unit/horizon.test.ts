import { describe, expect, it } from 'vitest';
import { oldestHorizonHolder } from '../../rules/_lib/horizon.js';
import { makeHorizonHolder, makeSnapshot, makeVacuumState } from '../support/builders.js';

describe('oldestHorizonHolder', () => {
  it('picks the largest xmin age', () => {
    const snapshot = makeSnapshot({
      vacuum: makeVacuumState({
        horizonHolders: [makeHorizonHolder({ name: 'a', xminAge: 10 }), makeHorizonHolder({ name: 'b', xminAge: 20 })],
      }),
    });
    expect(oldestHorizonHolder(snapshot, snapshot.meta.database)?.name).toBe('b');
  });

  it('on a tie names the root holder, not the sessions whose snapshots mirror it', () => {
    // Busy READ COMMITTED sessions take snapshots whose xmin is the prepared transaction's xid.
    const snapshot = makeSnapshot({
      vacuum: makeVacuumState({
        horizonHolders: [
          makeHorizonHolder({ kind: 'backend', name: '101', xminAge: 200_008, ageSeconds: 29, ownsXmin: false }),
          makeHorizonHolder({ kind: 'backend', name: '102', xminAge: 200_008, ageSeconds: 0.1, ownsXmin: false }),
          makeHorizonHolder({ kind: 'prepared-transaction', name: 'orders-tm-0042', xminAge: 200_008, ageSeconds: 3, ownsXmin: true }),
        ],
      }),
    });
    expect(oldestHorizonHolder(snapshot, snapshot.meta.database)?.name).toBe('orders-tm-0042');
  });

  it('prefers a holder that owns its xmin over a longer-held mirror of the same age', () => {
    const snapshot = makeSnapshot({
      vacuum: makeVacuumState({
        horizonHolders: [
          makeHorizonHolder({ kind: 'backend', name: 'mirror', xminAge: 500, ageSeconds: 60, ownsXmin: false }),
          makeHorizonHolder({ kind: 'backend', name: 'root', xminAge: 500, ageSeconds: 5, ownsXmin: true }),
        ],
      }),
    });
    expect(oldestHorizonHolder(snapshot, snapshot.meta.database)?.name).toBe('root');
  });

  it('skips backends and prepared transactions of other databases, never slots or standbys', () => {
    const base = makeSnapshot({});
    const snapshot = makeSnapshot({
      vacuum: makeVacuumState({
        horizonHolders: [
          makeHorizonHolder({ kind: 'backend', name: 'elsewhere', xminAge: 900, database: 'other_db' }),
          makeHorizonHolder({ kind: 'prepared-transaction', name: 'gid-elsewhere', xminAge: 800, database: 'other_db' }),
          makeHorizonHolder({ kind: 'backend', name: 'here', xminAge: 100, database: base.meta.database }),
        ],
      }),
    });
    expect(oldestHorizonHolder(snapshot, snapshot.meta.database)?.name).toBe('here');
    expect(oldestHorizonHolder(snapshot, 'other_db')?.name).toBe('elsewhere');
    const withSlot = makeSnapshot({
      vacuum: makeVacuumState({
        horizonHolders: [
          makeHorizonHolder({ kind: 'backend', name: 'here', xminAge: 100, database: base.meta.database }),
          makeHorizonHolder({ kind: 'replication-slot', name: 'cdc', xminAge: 300, database: null }),
        ],
      }),
    });
    expect(oldestHorizonHolder(withSlot, withSlot.meta.database)?.name).toBe('cdc');
  });
});
