import { randomUUID } from 'node:crypto';
import { createLogger, PARK_AFTER_FAILURES, type PeriodicJob } from '@tessera/service-kit';
import { failRowWrites, waitFor } from '@tessera/service-kit/testing';
import { type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submissionsWorkers } from '../service.ts';
import { type ClaimFixture, startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { wav } from '../testing/media.ts';
import { storageKeyOf, type SweepDeps, sweepOrphanedMedia } from './handle.ts';
import type { MediaStorage } from './storage.ts';

let t: TestSubmissions;

beforeAll(async () => {
  // The sweep's worker runs, but only when a test asks (runNow): its interval is an hour.
  t = await startTestSubmissions(
    { SUBMISSIONS_MEDIA_SWEEP_INTERVAL_MS: 3_600_000 },
    { workers: { [submissionsWorkers.prevalidation]: false } },
  );
});

afterAll(async () => {
  await t?.stop();
});

const silent = createLogger({ name: 'media-sweep-test', level: 'silent', pretty: false });
const HOUR_MS = 3_600_000;

function deps(overrides: Partial<SweepDeps> = {}): SweepDeps {
  return {
    db: t.service.db,
    storage: t.service.resources.storage,
    orphanTtlHours: 24,
    logger: silent,
    ...overrides,
  };
}

function submit(claim: Pick<ClaimFixture, 'assignmentId' | 'token'>, mediaId: string) {
  return t.inject({
    method: 'POST',
    url: '/api/v1/submissions',
    token: claim.token,
    body: { assignment_id: claim.assignmentId, payload: { media_id: mediaId }, time_spent_seconds: 30 },
  });
}

/** A recording uploaded by `token`'s contributor `hoursAgo` hours ago. */
async function uploaded(token: string, hoursAgo: number): Promise<string> {
  const id = await t.upload(token, wav(1));
  await t.service.db
    .updateTable('media')
    .set({ created_at: new Date(Date.now() - hoursAgo * HOUR_MS) })
    .where('id', '=', id)
    .execute();
  return id;
}

async function contributorToken(): Promise<string> {
  return t.token({ sub: randomUUID(), role: 'contributor' });
}

/** What is left of a media item: its row (and whom it belongs to), its object, its pending removal. */
async function leftOf(id: string) {
  const row = await t.service.db
    .selectFrom('media')
    .select('submission_id')
    .where('id', '=', id)
    .executeTakeFirst();
  const pending = await t.service.db
    .selectFrom('media_deletions')
    .select('media_id')
    .where('media_id', '=', id)
    .executeTakeFirst();
  return {
    row: row !== undefined,
    submissionId: row?.submission_id ?? null,
    object: (await t.service.resources.storage.stat(storageKeyOf(id))) !== null,
    pendingRemoval: pending !== undefined,
  };
}

const kept = { row: true, submissionId: null, object: true, pendingRemoval: false };
const gone = { row: false, submissionId: null, object: false, pendingRemoval: false };

/** Sessions of this test's database waiting for a lock, whose statement matches `pattern` (ilike). */
async function waitingAt(pattern: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and query ilike ${pattern}`.execute(
    t.service.db,
  );
  return rows[0]!.n > 0;
}

/** Statements on the media table (`"media_deletions"` does not match). */
const ON_MEDIA = '%"media"%';

/** Resolves once `work` has settled ('settled') or waits for a lock at `pattern` ('waiting'). */
async function settledOrWaiting(work: Promise<unknown>, pattern: string): Promise<'settled' | 'waiting'> {
  let settled = false;
  void work.then(
    () => (settled = true),
    () => (settled = true),
  );
  return waitFor(
    async () => {
      if (settled) return 'settled' as const;
      return (await waitingAt(pattern)) ? ('waiting' as const) : false;
    },
    { what: 'the work to settle or wait for a lock' },
  );
}

/**
 * Runs `body` while a transaction of the test holds the lock `lock` takes; lets it go when `body`
 * has returned (or thrown). What `body` started and did not await finishes after: return its
 * promises inside an object (a promise returned bare would be awaited under the lock).
 */
async function whileHolding<T>(lock: RawBuilder<unknown>, body: () => Promise<T>): Promise<T> {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = () => {};
  const isHeld = new Promise<void>((resolve) => (held = resolve));
  const holder = t.service.db.transaction().execute(async (trx) => {
    await lock.execute(trx);
    held();
    await released;
  });
  await Promise.race([isHeld, holder]);
  try {
    return await body();
  } finally {
    release();
    await holder;
  }
}

describe('the media sweep', () => {
  it('removes uploads no submission holds past the TTL, row and object; keeps younger ones and those handed in', async () => {
    const claim = await t.fixtures.claimed('audio');
    // Either side of the default TTL, 8 days (192 hours).
    const orphan = await uploaded(claim.token, 193);
    const young = await uploaded(claim.token, 191);
    const handedIn = await t.upload(claim.token, wav(1));
    expect((await submit(claim, handedIn)).status).toBe(202);
    await t.service.db
      .updateTable('media')
      .set({ created_at: new Date(Date.now() - 400 * HOUR_MS) })
      .where('id', '=', handedIn)
      .execute();

    // The service's own job, as configured (SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS, 192 by default).
    const job = t.service.workers.get(submissionsWorkers.mediaSweep) as PeriodicJob;
    expect(await job.runNow()).toBe(1);

    expect(await leftOf(orphan)).toEqual(gone);
    expect(await leftOf(young)).toEqual(kept);
    expect((await leftOf(handedIn)).object).toBe(true);
    expect((await leftOf(handedIn)).submissionId).not.toBeNull();
    // Its uploader no longer finds it, nor can hand it in: told it expired, not that it never was.
    const read = await t.inject({ method: 'GET', url: `/api/v1/media/${orphan}`, token: claim.token });
    expect([read.status, read.body.code]).toEqual([404, 'MEDIA_NOT_FOUND']);
    const again = await t.fixtures.claim(await t.fixtures.task('audio'), {
      contributorId: claim.contributorId,
    });
    const refused = await submit(again, orphan);
    expect([refused.status, refused.body.code]).toEqual([422, 'MEDIA_EXPIRED']);
    expect(refused.body.detail).toContain('upload it again');
    // Someone else naming it learns nothing of it.
    const stranger = await t.fixtures.claimed('audio');
    const unknown = await submit(stranger, orphan);
    expect([unknown.status, unknown.body.code]).toEqual([422, 'MEDIA_NOT_FOUND']);
    // Nothing more to remove.
    expect(await job.runNow()).toBe(0);

    // The removal is remembered 30 days, then forgotten by a later run.
    await t.service.db
      .updateTable('media_expired')
      .set({ expired_at: new Date(Date.now() - 31 * 24 * HOUR_MS) })
      .where('media_id', '=', orphan)
      .execute();
    expect(await job.runNow()).toBe(0);
    const forgotten = await submit(again, orphan);
    expect([forgotten.status, forgotten.body.code]).toEqual([422, 'MEDIA_NOT_FOUND']);
  });

  it("removes a first version's recording that its revision replaced, and keeps the revision's", async () => {
    const claim = await t.fixtures.claimed('audio');
    const first = await uploaded(claim.token, 30);
    const handedIn = await submit(claim, first);
    expect(handedIn.status).toBe(202);
    const id = handedIn.body.submission.id as string;
    // Review asked for a revision (as a QC verdict would).
    await t.service.db
      .updateTable('submissions')
      .set({ status: 'revision_requested', revision_deadline: new Date(Date.now() + HOUR_MS) })
      .where('id', '=', id)
      .execute();
    const second = await uploaded(claim.token, 26);
    expect((await submit(claim, second)).status).toBe(202);
    expect((await leftOf(first)).submissionId).toBeNull();

    await sweepOrphanedMedia(deps(), new Date());
    expect(await leftOf(first)).toEqual(gone);
    expect(await leftOf(second)).toEqual({ ...kept, submissionId: id });
  });

  describe('racing a hand-in of the same upload', () => {
    it('leaves an upload to the hand-in holding it, without waiting for it', async () => {
      const claim = await t.fixtures.claimed('audio');
      const mediaId = await uploaded(claim.token, 25);
      // The hand-in stops at its outbox write, the media row locked and attached (not committed).
      const { handIn, sweep, sweepWas } = await whileHolding(
        sql`lock table outbox in exclusive mode`,
        async () => {
          const handIn = submit(claim, mediaId);
          await waitFor(() => waitingAt('%insert into outbox%'), { what: 'the hand-in at its outbox write' });
          const sweep = sweepOrphanedMedia(deps(), new Date());
          return { handIn, sweep, sweepWas: await settledOrWaiting(sweep, ON_MEDIA) };
        },
      );
      // The sweep went past it while the hand-in still held it.
      expect(sweepWas).toBe('settled');
      await sweep;
      const response = await handIn;
      expect(response.status).toBe(202);
      expect(await leftOf(mediaId)).toEqual({ ...kept, submissionId: response.body.submission.id });
      // Handed in, it is no orphan at the next sweep either.
      await sweepOrphanedMedia(deps(), new Date());
      expect(await leftOf(mediaId)).toEqual({ ...kept, submissionId: response.body.submission.id });
    });

    it('keeps an upload a hand-in attached after the sweep listed it, by looking again under the lock', async () => {
      const claim = await t.fixtures.claimed('audio');
      const other = await contributorToken();
      // The sweep takes the older first, and is held at its removal record while the hand-in commits.
      const older = await uploaded(other, 101);
      const attached = await uploaded(claim.token, 100);
      const { sweep } = await whileHolding(sql`lock table media_deletions in exclusive mode`, async () => {
        const sweep = sweepOrphanedMedia(deps({ orphanTtlHours: 99 }), new Date());
        await waitFor(() => waitingAt('%insert into "media_deletions"%'), {
          what: 'the sweep at its first item, both listed',
        });
        expect((await submit(claim, attached)).status).toBe(202);
        return { sweep };
      });
      expect(await sweep).toBe(1);
      expect(await leftOf(older)).toEqual(gone);
      const left = await leftOf(attached);
      expect([left.row, left.object, left.pendingRemoval]).toEqual([true, true, false]);
      expect(left.submissionId).not.toBeNull();
    });

    it('refuses the hand-in with 422 MEDIA_EXPIRED when the sweep holds the upload first; nothing is handed in', async () => {
      const claim = await t.fixtures.claimed('audio');
      const mediaId = await uploaded(claim.token, 100);
      // The sweep stops at its removal record, the media row locked (and deleted, not committed).
      const { sweep, handIn } = await whileHolding(
        sql`lock table media_deletions in exclusive mode`,
        async () => {
          const sweep = sweepOrphanedMedia(deps({ orphanTtlHours: 99 }), new Date());
          await waitFor(() => waitingAt('%insert into "media_deletions"%'), {
            what: 'the sweep at its item',
          });
          const handIn = submit(claim, mediaId);
          await waitFor(() => waitingAt(ON_MEDIA), { what: 'the hand-in at the media row' });
          return { sweep, handIn };
        },
      );
      expect(await sweep).toBe(1);
      const response = await handIn;
      expect([response.status, response.body.code]).toEqual([422, 'MEDIA_EXPIRED']);
      expect(await leftOf(mediaId)).toEqual(gone);
      const submissions = await t.service.db
        .selectFrom('submissions')
        .select('id')
        .where('assignment_id', '=', claim.assignmentId)
        .execute();
      expect(submissions).toEqual([]);
      // The contributor uploads again and hands in.
      const fresh = await t.upload(claim.token, wav(1));
      expect((await submit(claim, fresh)).status).toBe(202);
    });
  });

  describe('when removing fails', () => {
    it("parks an upload whose object keeps failing to be removed after the kit's threshold; the others go on", async () => {
      const token = await contributorToken();
      const bad = await uploaded(token, 30);
      const others = [await uploaded(token, 29), await uploaded(token, 28)];
      const store = t.service.resources.storage;
      let badAttempts = 0;
      const failing: MediaStorage = {
        ...store,
        async delete(key) {
          if (key !== storageKeyOf(bad)) return store.delete(key);
          badAttempts += 1;
          throw new Error('injected: the store would not remove it');
        },
      };
      const failures: string[] = [];
      const parked: string[] = [];
      const counted = {
        job: submissionsWorkers.mediaSweep,
        metrics: {
          itemFailed: (job: string) => failures.push(job),
          itemParked: (job: string) => parked.push(job),
        },
      };
      const run = () => sweepOrphanedMedia(deps({ storage: failing, counted }), new Date());

      expect(await run()).toBe(2);
      for (const id of others) expect(await leftOf(id)).toEqual(gone);
      // Its row is gone (no hand-in can use it), its object waits to be removed.
      expect(await leftOf(bad)).toEqual({
        row: false,
        submissionId: null,
        object: true,
        pendingRemoval: true,
      });

      for (let attempt = 2; attempt <= PARK_AFTER_FAILURES; attempt++) await run();
      expect(badAttempts).toBe(PARK_AFTER_FAILURES);
      expect(failures).toHaveLength(PARK_AFTER_FAILURES);
      expect(parked).toEqual([submissionsWorkers.mediaSweep]);
      const admin = await t.token({ sub: randomUUID(), role: 'admin' });
      const listed = await t.inject({
        method: 'GET',
        url: `/api/v1/admin/submissions/parked-items?job=${submissionsWorkers.mediaSweep}`,
        token: admin,
      });
      expect(listed.body.parked_items.map((item: { item: string }) => item.item)).toEqual([bad]);

      // Parked, it is left alone; a later orphan is swept.
      const later = await uploaded(token, 27);
      expect(await run()).toBe(1);
      expect(badAttempts).toBe(PARK_AFTER_FAILURES);
      expect(await leftOf(later)).toEqual(gone);

      // The store had removed it after all (it only failed to say so); an admin retries it.
      await store.delete(storageKeyOf(bad));
      const retried = await t.inject({
        method: 'POST',
        url: `/api/v1/admin/submissions/parked-items/${submissionsWorkers.mediaSweep}/${bad}/retry`,
        token: admin,
      });
      expect(retried.status).toBe(200);
      expect(await sweepOrphanedMedia(deps({ counted }), new Date())).toBe(1);
      expect(await leftOf(bad)).toEqual(gone);
    });

    it('leaves the row and the object when the row cannot be deleted: the upload can still be handed in', async () => {
      const claim = await t.fixtures.claimed('audio');
      const stuck = await uploaded(claim.token, 30);
      const other = await uploaded(await contributorToken(), 29);
      const restore = await failRowWrites(t.service.db, {
        table: 'media_deletions',
        column: 'media_id',
        value: stuck,
        on: 'insert',
      });
      try {
        expect(await sweepOrphanedMedia(deps(), new Date())).toBe(1);
      } finally {
        await restore();
      }
      expect(await leftOf(other)).toEqual(gone);
      expect(await leftOf(stuck)).toEqual(kept);
      const response = await submit(claim, stuck);
      expect(response.status).toBe(202);
      expect((await leftOf(stuck)).submissionId).toBe(response.body.submission.id);
    });

    it('stops a run when the store fails on every object, and removes them at a later run', async () => {
      const token = await contributorToken();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await uploaded(token, 40 - i));
      const store = t.service.resources.storage;
      const attempts: string[] = [];
      const down: MediaStorage = {
        ...store,
        async delete(key) {
          attempts.push(key);
          throw Object.assign(new Error('injected: 503 Service Unavailable'), { name: 'ServiceUnavailable' });
        },
      };
      expect(await sweepOrphanedMedia(deps({ storage: down }), new Date())).toBe(0);
      // Three failures in a row, then nothing more: the other uploads are untouched.
      expect(attempts).toEqual(ids.slice(0, 3).map(storageKeyOf));
      for (const id of ids.slice(0, 3)) {
        expect(await leftOf(id)).toEqual({
          row: false,
          submissionId: null,
          object: true,
          pendingRemoval: true,
        });
      }
      for (const id of ids.slice(3)) expect(await leftOf(id)).toEqual(kept);

      expect(await sweepOrphanedMedia(deps(), new Date())).toBe(6);
      for (const id of ids) expect(await leftOf(id)).toEqual(gone);
    });
  });
});
