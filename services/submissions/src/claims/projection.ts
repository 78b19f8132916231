import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';

type Trx = Transaction<SubmissionsDB>;

/** Thrown when an event arrives ahead of the one it follows; the consumer retries it later. */
export class ArrivedEarly extends Error {
  override readonly name = 'ArrivedEarly';
}

/**
 * Tasks' claims and tasks, as submissions needs them to accept work: whose claim it is, until
 * when, what it promised (reward and XP, fixed at claim time), and the task's type and input.
 * Each row remembers the time of the event it reflects, so a late event never undoes a newer one.
 */
export function claimHandlers(): HandlerMap<SubmissionsDB> {
  return {
    'tasks.task.published.v1': (event, trx) => saveTask(trx, event.data, event.time),
    'tasks.task.updated.v1': (event, trx) => saveTask(trx, event.data, event.time),
    'tasks.assignment.claimed.v1': async (event, trx) => {
      const data = event.data;
      // A claim ends once; a claimed event handled after its end changes nothing.
      await trx
        .insertInto('claims')
        .values({
          id: data.assignment_id,
          task_id: data.task_id,
          campaign_id: data.campaign_id,
          company_id: data.company_id,
          contributor_id: data.contributor_id,
          reward_amount: data.reward.amount,
          currency: data.reward.currency,
          xp_reward: data.xp_reward,
          judge_fee_amount: data.judge_fee?.amount ?? 0,
          max_judges: data.max_judges ?? 5,
          expires_at: data.expires_at,
          status: 'active',
          changed_at: event.time,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
    'tasks.assignment.released.v1': (event, trx) =>
      endClaim(trx, event.data.assignment_id, 'released', event.time),
    'tasks.assignment.expired.v1': (event, trx) =>
      endClaim(trx, event.data.assignment_id, 'expired', event.time),
  };
}

async function endClaim(trx: Trx, id: string, status: 'released' | 'expired', at: string): Promise<void> {
  const ended = await trx
    .updateTable('claims')
    .set({ status, changed_at: at })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .returning('id')
    .executeTakeFirst();
  if (ended) return;
  const known = await trx.selectFrom('claims').select('id').where('id', '=', id).executeTakeFirst();
  if (!known) throw new ArrivedEarly(`claim ${id} ended before its claimed event arrived`);
}

interface TaskSnapshot {
  task_id: string;
  campaign_id: string;
  company_id: string;
  task_type: string;
  input: Record<string, unknown>;
  judges_required: number;
  is_golden: boolean;
}

async function saveTask(trx: Trx, task: TaskSnapshot, at: string): Promise<void> {
  const row = {
    id: task.task_id,
    campaign_id: task.campaign_id,
    company_id: task.company_id,
    task_type: task.task_type,
    input: JSON.stringify(task.input),
    judges_required: task.judges_required,
    is_golden: task.is_golden,
    changed_at: at,
  };
  await trx
    .insertInto('task_views')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({
          input: (eb) => eb.ref('excluded.input'),
          judges_required: (eb) => eb.ref('excluded.judges_required'),
          is_golden: (eb) => eb.ref('excluded.is_golden'),
          changed_at: (eb) => eb.ref('excluded.changed_at'),
        })
        .whereRef('task_views.changed_at', '<=', 'excluded.changed_at'),
    )
    .execute();
}
