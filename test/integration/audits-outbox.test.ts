/**
 * The store's outbox (src/notify's Outbox contract) on PGlite and PostgreSQL: one row per idempotency
 * key, claims that exclude each other (two store connections on PostgreSQL claim disjoint rows) and
 * expire, retries when due, give-ups never claimed again, per-destination scopes and counts.
 */
import { makeFinding, makeReport } from '../support/report-fixtures.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../src/store/index.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../support/store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const draft = (destination: string, key: string) => ({ destination, idempotencyKey: key, body: { text: `message ${key}` } });

for (const kind of STORE_KINDS) {
  describe(`outbox on ${kind}`, () => {
    let store: Store;
    let other: Store | undefined;
    let opened: TestStore | undefined;
    let auditId = 0;

    beforeAll(async () => {
      opened = await openTestStore(kind);
      store = opened.store;
    });

    afterAll(async () => {
      await other?.close();
      await opened?.close();
    });

    it('writes a message per key once, with the audit in one transaction', async () => {
      const [t] = await store.targets.syncTargets([{ name: 'main', maskedUrl: 'postgres://h/db', intervalMs: 60_000 }]);
      auditId = await store.audits.startAudit(t!.id, { trigger: 'schedule', windowMs: 0 });
      await store.audits.finishAuditWithMessages(auditId, makeReport([makeFinding()]), [draft('a', 'k1'), draft('b', 'k2')]);
      await store.audits.finishAuditWithMessages(auditId, makeReport([]), [draft('a', 'k1')]);
      expect((await store.audits.findAudit(auditId))?.status).toBe('done');
      const rows = await store.outbox.listDeliveries([auditId]);
      expect(rows.map((r) => [r.destination, r.idempotencyKey, r.status, r.attempts])).toEqual([
        ['a', 'k1', 'pending', 0],
        ['b', 'k2', 'pending', 0],
      ]);
      expect(await store.audits.previousFindings(t!.id, auditId + 1)).toEqual([]); // the latest write of the audit's report
      expect(await store.audits.previousFindings(t!.id, auditId)).toBeNull();

      // A failing write rolls the audit back with it: no report without its messages.
      const second = await store.audits.startAudit(t!.id, { trigger: 'schedule', windowMs: 0 });
      await expect(
        store.audits.finishAuditWithMessages(second, makeReport([makeFinding()]), [
          { destination: 'a', idempotencyKey: 'k3', body: undefined as unknown as Record<string, unknown> },
        ]),
      ).rejects.toThrow();
      expect((await store.audits.findAudit(second))?.status).toBe('running');
      expect(await store.outbox.listDeliveries([second])).toEqual([]);
      await store.audits.finishAudit(second, { error: 'test: written off' }); // one running audit per target
    });

    it('claims due messages under a lease, retries when due, never claims a given-up one again', async () => {
      const box = store.outbox.scoped({ only: ['a', 'b'] }, 400);
      const claimed = await box.claimDue(10);
      expect(claimed.map((m) => m.idempotencyKey)).toEqual(['k1', 'k2']);
      expect(claimed[0]).toMatchObject({ destination: 'a', attempts: 0, body: { text: 'message k1' } });
      expect(await box.claimDue(10)).toEqual([]); // leased
      await sleep(500);
      const again = await box.claimDue(10); // the lease of a dead claimer expired
      expect(again.map((m) => m.idempotencyKey)).toEqual(['k1', 'k2']);
      await box.markDelivered(again[0]!.id, 1);
      await box.markFailed(again[1]!.id, 'HTTP 503: busy', new Date(Date.now() + 300), { attempts: 2, httpStatus: 503 });
      expect(await box.claimDue(10)).toEqual([]);
      await sleep(400);
      const retry = await box.claimDue(10);
      expect(retry.map((m) => [m.idempotencyKey, m.attempts])).toEqual([['k2', 2]]);
      await box.markFailed(retry[0]!.id, 'HTTP 404: no_service', null, { attempts: 3, httpStatus: 404 });
      await sleep(500);
      expect(await box.claimDue(10)).toEqual([]);
      const rows = await store.outbox.listDeliveries([auditId]);
      expect(rows.map((r) => [r.idempotencyKey, r.status, r.attempts, r.httpStatus, r.lastError])).toEqual([
        ['k1', 'delivered', 1, null, null],
        ['k2', 'failed', 3, 404, 'HTTP 404: no_service'],
      ]);
      expect(rows[0]!.deliveredAt).not.toBeNull();
      expect(rows[1]!.nextAttemptAt).toBeNull();
      expect(await store.outbox.countByDestination()).toEqual([
        { destination: 'a', status: 'delivered', count: 1 },
        { destination: 'b', status: 'failed', count: 1 },
      ]);
    });

    it('scopes claims by destination and counts retrying messages', async () => {
      await store.outbox.enqueue([draft('c', 'k4'), draft('d', 'k5'), draft('d', 'k6')]);
      expect(await store.outbox.scoped({ only: [] }).claimDue(10)).toEqual([]);
      const others = await store.outbox.scoped({ except: ['a', 'b', 'c'] }, 60_000).claimDue(10);
      expect(others.map((m) => m.idempotencyKey)).toEqual(['k5', 'k6']);
      await store.outbox.markFailed(others[0]!.id, 'timed out waiting for the receiver', new Date(Date.now() + 60_000), { attempts: 1, httpStatus: null });
      const c = await store.outbox.scoped({ only: ['c'] }).claimDue(1);
      expect(c.map((m) => m.idempotencyKey)).toEqual(['k4']);
      const counts = await store.outbox.countByDestination();
      expect(counts.filter((x) => x.destination === 'd').sort((x, y) => x.status.localeCompare(y.status))).toEqual([
        { destination: 'd', status: 'pending', count: 1 },
        { destination: 'd', status: 'retrying', count: 1 },
      ]);
    });

    it('lets one replica claim each scheduled audit run, and marks audits of dead processes failed', async () => {
      // A cron tick of today (relative to the clock, so the test means the same on any date).
      const slot = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
      expect(await store.audits.claimAuditSlot('nightly', 'main', slot, 'replica-1')).toBe(true);
      expect(await store.audits.claimAuditSlot('nightly', 'main', slot, 'replica-2')).toBe(false);
      expect(await store.audits.claimAuditSlot('nightly', 'main', slot, 'replica-1')).toBe(false); // never twice, not even by the winner
      expect(await store.audits.claimAuditSlot('nightly', 'other', slot, 'replica-2')).toBe(true);
      expect(await store.audits.claimAuditSlot('nightly', 'main', new Date(slot.getTime() + 86_400_000), 'replica-2')).toBe(true);
      // A run older than the remembered week is refused for everyone, never claimed once per replica.
      const old = new Date(slot.getTime() - 8 * 86_400_000);
      expect(await store.audits.claimAuditSlot('nightly', 'main', old, 'replica-1')).toBe(false);
      expect(await store.audits.claimAuditSlot('nightly', 'main', old, 'replica-2')).toBe(false);

      const [t] = await store.targets.listTargets();
      const stale = await store.audits.startAudit(t!.id, { trigger: 'schedule', windowMs: 0 });
      expect(await store.audits.abandonStaleAudits(60_000)).toBe(0); // just started: still running
      await sleep(50);
      expect(await store.audits.abandonStaleAudits(10)).toBeGreaterThanOrEqual(1);
      expect(await store.audits.findAudit(stale)).toMatchObject({ status: 'failed', error: expect.stringContaining('abandoned') });
    });

    if (kind === 'postgres') {
      it('two processes claiming at once get disjoint messages (SKIP LOCKED)', async () => {
        other = createStore({ url: opened!.database!.adminUrl });
        await store.outbox.enqueue(Array.from({ length: 40 }, (_, i) => draft('e', `race-${i}`)));
        const a = store.outbox.scoped({ only: ['e'] });
        const b = other.outbox.scoped({ only: ['e'] });
        const rounds = await Promise.all([a.claimDue(15), b.claimDue(15), a.claimDue(15), b.claimDue(15)]);
        const rest = await a.claimDue(100);
        const keys = [...rounds.flat(), ...rest].map((m) => m.idempotencyKey);
        expect(keys).toHaveLength(40);
        expect(new Set(keys).size).toBe(40);
      });
    }
  });
}
