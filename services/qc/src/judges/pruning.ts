import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, eventMeta, type Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { QcDB } from '../db/schema.ts';
import { votesOf, weighCase } from '../reviews/handle.ts';
import { decideCase } from '../verdicts/decide.ts';
import { type CaseRecord, lockCase } from '../verdicts/handle.ts';
import { honeypotsSinceRestored, type PruningRules, shouldPrune } from './decide.ts';

type Db = Kysely<QcDB>;

export interface PruneContext extends PruningRules {
  rejudgeDays: number;
  threshold: number;
  log: Logger;
}

/**
 * After a honeypot: a judge whose honeypot accuracy (since an admin last restored them, if ever:
 * `honeypotsSinceRestored`) fell below the floor loses judging (once); their
 * live leases end (`expired`: the cases are back in the pool at once, and a lease taken before the
 * removal can no longer be submitted); and every consensus verdict their votes counted toward in
 * the last `rejudgeDays` days is judged again without them: their votes are set aside, and the case
 * is weighed anew. If the other votes still reach the same verdict nothing changes; if they reach
 * another it is published (submissions overturns a rejection; it never un-approves paid work); if
 * they no longer decide, the case goes back to the pool for more judges. Fees already earned stay
 * paid: the work was done.
 */
export async function pruneIfInaccurate(
  trx: Db,
  judgeId: string,
  now: Date,
  context: PruneContext,
): Promise<boolean> {
  const row = await trx
    .selectFrom('judges')
    .select([
      'honeypot_correct',
      'honeypot_answered',
      'correct',
      'answered',
      'removed_at',
      'restored_honeypot_correct',
      'restored_honeypot_answered',
    ])
    .where('user_id', '=', judgeId)
    .forUpdate()
    .executeTakeFirst();
  if (!row || row.removed_at !== null) return false;
  // A judge an admin restored is judged on the honeypots since (history kept in the lifetime counters).
  const judge = honeypotsSinceRestored(row, row);
  if (!shouldPrune(judge, context)) return false;
  await trx
    .updateTable('judges')
    .set({ removed_at: now, removed_reason: 'HONEYPOT_ACCURACY_BELOW_FLOOR' })
    .where('user_id', '=', judgeId)
    .execute();
  await trx
    .updateTable('reviews')
    .set({ status: 'expired' })
    .where('judge_id', '=', judgeId)
    .where('status', '=', 'leased')
    .execute();

  const since = new Date(now.getTime() - context.rejudgeDays * 86_400_000);
  const affected = await trx
    .selectFrom('reviews as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .select('c.id')
    .where('r.judge_id', '=', judgeId)
    .where('r.kind', '=', 'consensus')
    .where('r.status', '=', 'submitted')
    .where((eb) =>
      eb.or([
        eb.and([
          eb('c.status', '=', 'decided'),
          eb('c.method', '=', 'consensus'),
          eb('c.decided_at', '>=', since),
        ]),
        eb('c.status', 'in', ['open', 'escalated']),
      ]),
    )
    // A verdict an admin decided on appeal is final: the case keeps the judges' verdict as history,
    // but judging it again would publish over the admin's decision.
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('appeals as a')
            .select('a.id')
            .whereRef('a.case_id', '=', 'c.id')
            .where('a.status', '=', 'decided'),
        ),
      ),
    )
    .orderBy('c.id')
    .execute();
  if (affected.length > 0) {
    await trx
      .updateTable('reviews')
      .set({ status: 'discarded' })
      .where('judge_id', '=', judgeId)
      .where('kind', '=', 'consensus')
      .where('status', '=', 'submitted')
      .where(
        'case_id',
        'in',
        affected.map((row) => row.id),
      )
      .execute();
  }
  let rejudged = 0;
  for (const { id } of affected) {
    const found = await lockCase(trx, id);
    if (!found) continue;
    if (await rejudge(trx, found, { threshold: context.threshold, now })) rejudged++;
  }
  const accuracy = judge.honeypot_answered === 0 ? 0 : judge.honeypot_correct / judge.honeypot_answered;
  await appendToOutbox(trx, [
    buildEvent(
      'qc.judge.removed.v1',
      {
        judge_id: judgeId,
        reason_code: 'HONEYPOT_ACCURACY_BELOW_FLOOR',
        honeypot_accuracy: accuracy,
        honeypots: judge.honeypot_answered,
        rejudged,
      },
      eventMeta(judgeId, now),
    ),
  ]);
  context.log.warn(
    { judge_id: judgeId, honeypot_accuracy: accuracy, rejudged },
    'judge removed after honeypot checks',
  );
  return true;
}

/**
 * Weighs a case again without the votes set aside. A decided case whose remaining votes reach the
 * verdict it has keeps it untouched (no second announcement); anything else is acted on as a
 * fresh weighing would. True when the case was reopened or its verdict changed.
 */
async function rejudge(
  trx: Db,
  found: CaseRecord,
  context: { threshold: number; now: Date },
): Promise<boolean> {
  if (found.status !== 'decided') {
    await weighCase(trx, found, context);
    return true;
  }
  const decision = decideCase(await votesOf(trx, found.id), {
    judgesRequired: found.judges_required,
    maxJudges: found.max_judges,
    threshold: context.threshold,
  });
  if (decision.kind === 'decided' && decision.option === found.verdict) return false;
  await weighCase(trx, found, context);
  return true;
}
