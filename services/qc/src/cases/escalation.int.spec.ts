import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQc, type TestQc } from '../testing/harness.ts';
import { escalateWaitingCases } from './escalation.ts';

let t: TestQc;
const HOUR = 3_600_000;

beforeAll(async () => {
  t = await startTestQc();
});

afterAll(async () => {
  await t?.stop();
});

const rules = () => ({
  escalateAfterMs: t.config.QC_CASE_ESCALATE_AFTER_HOURS * HOUR,
  minLevel: t.config.QC_JUDGE_MIN_LEVEL,
  minTrust: t.config.QC_JUDGE_MIN_TRUST,
});
const escalate = (now = new Date()) => escalateWaitingCases(t.service.db, now, rules());
const caseOf = (submissionId: string) =>
  t.service.db
    .selectFrom('cases')
    .selectAll()
    .where('submission_id', '=', submissionId)
    .executeTakeFirstOrThrow();
type QueueItem = { id: string; escalated_reason: string | null };
const adminQueue = async (query: string) => {
  const admin = await t.token({ sub: randomUUID(), role: 'admin' });
  return t.inject({ url: `/api/v1/admin/reviews?${query}`, token: admin });
};
const backdate = (id: string, hours: number) =>
  t.service.db
    .updateTable('cases')
    .set({ created_at: new Date(Date.now() - hours * HOUR) })
    .where('id', '=', id)
    .execute();

describe('case escalation: an open case waiting in vain goes to the admin queue', () => {
  it('escalates a case no judge could take (none left), at once', async () => {
    expect(t.config.QC_CASE_ESCALATE_AFTER_HOURS).toBe(48);
    // Nobody may judge yet in this database.
    const submission = await t.fixtures.submission(await t.fixtures.task('text'));
    expect((await caseOf(submission.submissionId)).status).toBe('open');
    expect(await escalate()).toBe(1);
    expect(await caseOf(submission.submissionId)).toMatchObject({
      status: 'escalated',
      escalated_reason: 'NO_ELIGIBLE_JUDGES',
    });
  });

  it('lets a fresh case with judges enough wait; escalates it after QC_CASE_ESCALATE_AFTER_HOURS, and an admin decides it (method admin)', async () => {
    const judges = [await t.fixtures.judge(), await t.fixtures.judge(), await t.fixtures.judge()];
    expect(judges).toHaveLength(3);
    const submission = await t.fixtures.submission(await t.fixtures.task('text'));
    const found = await caseOf(submission.submissionId);
    expect(await escalate()).toBe(0);

    await backdate(found.id, 47);
    expect(await escalate()).toBe(0);
    await backdate(found.id, 48);
    expect(await escalate()).toBe(1);
    expect(await caseOf(submission.submissionId)).toMatchObject({
      status: 'escalated',
      escalated_reason: 'WAITED_TOO_LONG',
    });

    const admin = await t.token({ sub: randomUUID(), role: 'admin' });
    const queue = await t.inject({ url: '/api/v1/admin/reviews?status=escalated&limit=100', token: admin });
    expect(queue.body.items).toContainEqual(
      expect.objectContaining({ id: found.id, escalated_reason: 'WAITED_TOO_LONG' }),
    );
    const decided = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/reviews/${found.id}/decision`,
      token: admin,
      body: { verdict: 'approve', reason: 'Judges never came; looks fine.' },
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    const [verdict] = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      submission.submissionId,
    );
    expect(verdict!.data).toMatchObject({ verdict: 'approve', method: 'admin', confidence: 1 });
  });

  it('never escalates a case a judge holds a lease on, however old', async () => {
    const judge = await t.fixtures.judge();
    await t.service.db.updateTable('cases').set({ status: 'decided' }).where('status', '=', 'open').execute();
    const submission = await t.fixtures.submission(await t.fixtures.task('text'));
    const found = await caseOf(submission.submissionId);
    await backdate(found.id, 100);
    const leased = await t.inject({ url: '/api/v1/reviews/next', token: judge.token });
    expect(leased.status, JSON.stringify(leased.body)).toBe(200);
    expect(leased.body.review.submission_id).toBe(submission.submissionId);
    expect(await escalate()).toBe(0);
    expect((await caseOf(submission.submissionId)).status).toBe('open');
    // Once the lease ran out, it is waiting again.
    expect(await escalate(new Date(Date.now() + t.config.QC_LEASE_MINUTES * 60_000 + 1000))).toBe(1);
  });

  it('counts the wait of a case re-judging put back in the pool from its reopening', async () => {
    await t.fixtures.judge();
    await t.fixtures.judge();
    await t.fixtures.judge();
    const submission = await t.fixtures.submission(await t.fixtures.task('text'));
    const found = await caseOf(submission.submissionId);
    await backdate(found.id, 24 * 7);
    await t.service.db
      .updateTable('cases')
      .set({ reopened_at: new Date(Date.now() - HOUR) })
      .where('id', '=', found.id)
      .execute();
    expect(await escalate()).toBe(0);
    expect(await escalate(new Date(Date.now() + 48 * HOUR))).toBe(1);
  });

  it('shows the admin why each case escalated, and filters the queue by that reason', async () => {
    await t.fixtures.judge();
    await t.fixtures.judge();
    await t.fixtures.judge();
    const task = await t.fixtures.task('text');
    // Wants more votes than there are judges: nobody could ever settle it.
    const unjudgeable = await t.fixtures.submission(task, { judges_required: 15, max_judges: 15 });
    const waited = await t.fixtures.submission(task);
    await backdate((await caseOf(waited.submissionId)).id, 49);
    expect(await escalate()).toBeGreaterThanOrEqual(2);
    // A case escalated before the reason was kept (migration 0008).
    const legacy = await t.fixtures.submission(task);
    await t.service.db
      .updateTable('cases')
      .set({ status: 'escalated', escalated_reason: null })
      .where('submission_id', '=', legacy.submissionId)
      .execute();
    const ids = {
      unjudgeable: (await caseOf(unjudgeable.submissionId)).id,
      waited: (await caseOf(waited.submissionId)).id,
      legacy: (await caseOf(legacy.submissionId)).id,
    };

    const all = await adminQueue('status=escalated&limit=100');
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(all.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: ids.unjudgeable, escalated_reason: 'NO_ELIGIBLE_JUDGES' }),
        expect.objectContaining({ id: ids.waited, escalated_reason: 'WAITED_TOO_LONG' }),
        expect.objectContaining({ id: ids.legacy, escalated_reason: null }),
      ]),
    );

    for (const [reason, id] of [
      ['NO_ELIGIBLE_JUDGES', ids.unjudgeable],
      ['WAITED_TOO_LONG', ids.waited],
    ] as const) {
      const filtered = await adminQueue(`status=escalated&reason=${reason}&limit=100`);
      expect(filtered.status, JSON.stringify(filtered.body)).toBe(200);
      const items: QueueItem[] = filtered.body.items;
      expect(items.map((item) => item.id)).toContain(id);
      expect(items.every((item) => item.escalated_reason === reason)).toBe(true);
      expect(items.map((item) => item.id)).not.toContain(ids.legacy);
    }
    const splits = await adminQueue('status=escalated&reason=NO_CONSENSUS&limit=100');
    expect([splits.status, splits.body.items]).toEqual([200, []]);

    // An unknown reason, or a reason for appeals (which have none), is a bad request.
    for (const query of [
      'status=escalated&reason=BORED',
      'reason=no_consensus',
      'status=appealed&reason=NO_CONSENSUS',
    ]) {
      const refused = await adminQueue(query);
      expect([refused.status, refused.body.code], query).toEqual([400, 'VALIDATION_FAILED']);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
  });
});
