import { eachOnItsOwn, type Logger } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { QcDB } from '../db/schema.ts';
import type { JudgingRules } from '../judges/decide.ts';
import { decideWaitingCase, type EscalationRules } from './decide.ts';

type Db = Kysely<QcDB>;

/** The most judges a case can want (QC_MAX_OVERLAP's bound): eligible judges are counted up to it. */
const MOST_JUDGES = 15;

export interface WaitingRules extends EscalationRules, JudgingRules {}

/** Judges who could still take case `c` (as `reviews/handle.ts` leases): counted up to MOST_JUDGES. */
const eligibleJudges = (rules: JudgingRules) => sql<number>`(
  select count(*)::int from (
    select 1 from judges j
    where j.status = 'active' and j.removed_at is null
      and (j.role = 'admin'
           or ((j.role is null or j.role = 'contributor')
               and (j.appointed or (j.level >= ${rules.minLevel} and j.trust_score >= ${rules.minTrust}))))
      and j.user_id <> c.contributor_id
      and not exists (
        select from company_members m
        where m.company_id = c.company_id and m.user_id = j.user_id and not m.removed)
      and not exists (select from reviews r where r.case_id = c.id and r.judge_id = j.user_id)
    limit ${MOST_JUDGES}) as eligible)`;

const liveLeases = (now: Date) => sql<number>`(
  select count(*)::int from reviews r
  where r.case_id = c.id and r.status = 'leased' and r.lease_expires_at > ${now})`;

const votesSubmitted = sql<number>`(
  select count(*)::int from reviews r
  where r.case_id = c.id and r.kind = 'consensus' and r.status = 'submitted')`;

const waitingSince = sql<Date>`coalesce(c.reopened_at, c.created_at)`;

/**
 * Sends the open cases that wait in vain to the admin queue (`decideWaitingCase`): no judge on them,
 * and too few judges left who could take them, or waiting longer than the rules allow. Each case in
 * its own transaction, locked without waiting (a judge leasing it holds it: it is not waiting) and
 * looked at again under the lock. An escalated case is decided by an admin like any other (method
 * admin: its judges paid and scored against the admin's verdict).
 */
export async function escalateWaitingCases(
  db: Db,
  now: Date,
  rules: WaitingRules,
  options: { limit?: number; logger?: Logger } = {},
): Promise<number> {
  const cutoff = new Date(now.getTime() - rules.escalateAfterMs);
  const due = await db
    .selectFrom('cases as c')
    .select('c.id')
    .where('c.status', '=', 'open')
    .where(sql<boolean>`${liveLeases(now)} = 0`)
    .where((eb) =>
      eb.or([
        eb(waitingSince, '<=', cutoff),
        eb(eligibleJudges(rules), '<', sql<number>`c.votes_wanted - ${votesSubmitted}`),
      ]),
    )
    .orderBy('c.created_at')
    .orderBy('c.id')
    .limit(options.limit ?? 200)
    .execute();
  const escalated = await eachOnItsOwn(
    due,
    ({ id }) =>
      db.transaction().execute(async (trx) => {
        const found = await trx
          .selectFrom('cases as c')
          .select([
            'c.id',
            'c.votes_wanted',
            waitingSince.as('waiting_since'),
            liveLeases(now).as('live_leases'),
            votesSubmitted.as('votes_submitted'),
            eligibleJudges(rules).as('eligible_judges'),
          ])
          .where('c.id', '=', id)
          .where('c.status', '=', 'open')
          .forUpdate()
          .skipLocked()
          .executeTakeFirst();
        if (!found) return false;
        const decision = decideWaitingCase(
          {
            waitingSince: found.waiting_since,
            liveLeases: found.live_leases,
            votesSubmitted: found.votes_submitted,
            votesWanted: found.votes_wanted,
            eligibleJudges: found.eligible_judges,
          },
          now,
          rules,
        );
        if (decision.kind === 'wait') return false;
        await trx
          .updateTable('cases')
          .set({ status: 'escalated', escalated_reason: decision.reason })
          .where('id', '=', id)
          .execute();
        options.logger?.info(
          { case_id: id, reason: decision.reason },
          'a waiting case went to the admin queue',
        );
        return true;
      }),
    {
      logger: options.logger,
      message: 'escalating a waiting case failed; the others go on',
      describe: ({ id }) => ({ case_id: id }),
    },
  );
  return escalated.filter(Boolean).length;
}
