import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { applyTransition, reconcileCampaign } from '../db/campaign-money.ts';
import type { TasksDB } from '../db/schema.ts';

/**
 * Frees the slots of claims past their expiry time, oldest first, up to `limit` per run. Each
 * campaign's expired claims are settled in one short transaction that locks the due assignments
 * (`for update skip locked`: a release, a submission or another instance of this job holding one
 * simply wins it), frees what each held, announces it and re-decides the campaign once. One
 * campaign per transaction keeps claims on other campaigns flowing and means two instances can
 * never wait on each other's campaign locks in opposite orders. Returns how many expired.
 */
export async function expireDueAssignments(
  db: Kysely<TasksDB>,
  options: { now?: Date; limit?: number } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const limit = options.limit ?? 500;
  const due = await db
    .selectFrom('assignments')
    .select(['id', 'campaign_id'])
    .where('status', '=', 'active')
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  const byCampaign = new Map<string, string[]>();
  for (const row of due) {
    const ids = byCampaign.get(row.campaign_id) ?? [];
    ids.push(row.id);
    byCampaign.set(row.campaign_id, ids);
  }

  let expired = 0;
  for (const [campaignId, ids] of byCampaign) {
    expired += await db.transaction().execute(async (trx) => {
      const locked = await trx
        .selectFrom('assignments')
        .selectAll()
        .where('id', 'in', ids)
        // Re-checked under the lock: it may have been released or submitted since the scan.
        .where('status', '=', 'active')
        .where('expires_at', '<=', now)
        // Tasks are locked in one order by every instance.
        .orderBy('task_id')
        .orderBy('id')
        .forUpdate()
        .skipLocked()
        .execute();
      if (locked.length === 0) return 0;
      // Claims of suspended or erased contributors were made due by the identity consumer.
      const inactive = new Set(
        (
          await trx
            .selectFrom('contributors')
            .select('user_id')
            .where('user_id', 'in', [...new Set(locked.map((a) => a.contributor_id))])
            .where('status', '!=', 'active')
            .execute()
        ).map((row) => row.user_id),
      );
      const settledAt = new Date();
      const events: TesseraEvent[] = [];
      for (const assignment of locked) {
        await trx
          .updateTable('assignments')
          .set({ status: 'expired', ended_at: settledAt, settled_at: settledAt })
          .where('id', '=', assignment.id)
          .execute();
        await applyTransition(trx, assignment, { kind: 'freed' });
        events.push(
          buildEvent(
            'tasks.assignment.expired.v1',
            {
              assignment_id: assignment.id,
              task_id: assignment.task_id,
              campaign_id: assignment.campaign_id,
              contributor_id: assignment.contributor_id,
              reason_code: inactive.has(assignment.contributor_id) ? 'account_not_active' : 'timeout',
            },
            { subject: assignment.id },
          ),
        );
      }
      await appendToOutbox(trx, events);
      await reconcileCampaign(trx, campaignId, events[0]);
      return locked.length;
    });
  }
  return expired;
}
