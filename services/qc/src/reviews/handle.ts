import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, eachOnItsOwn, eventMeta, type Logger, orRefuse } from '@tessera/service-kit';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Random } from '../consensus/prng.ts';
import type { QcDB, ReviewsTable, VerdictValue } from '../db/schema.ts';
import { accuracyOf, decideJudge, type JudgingRules } from '../judges/decide.ts';
import {
  ensureJudge,
  lockJudge,
  noRecord,
  recordsOf,
  scoreJudge,
  standingOf,
  tryLockJudge,
} from '../judges/repository.ts';
import { decideCase, verdictDetails, type CastVote } from '../verdicts/decide.ts';
import { type CaseRecord, lockCase, settleCase } from '../verdicts/handle.ts';
import { decideAnswer, decideHoneypotTurn, decideLeaseHeld, decidePick, reviewRefusals } from './decide.ts';
import { type HoneypotFeeRules, honeypotFeeDueAt } from './honeypot-fees.ts';

type Db = Kysely<QcDB>;
export type ReviewRecord = Selectable<ReviewsTable>;

export interface Judge {
  userId: string;
  role: string;
  isCompanyKey: boolean;
}

export interface LeaseRules extends JudgingRules {
  leaseMs: number;
  /** A lease is a honeypot with probability 1 / this, when one is available (0: never). */
  honeypotEvery: number;
  /** A lease takes a case at random among this many of the oldest it may take (1: the oldest). */
  amongOldest: number;
  /** Where honeypot turns and picks are drawn from: uniform in [0, 1), unknown to the judge. */
  random: Random;
}

export interface Leased {
  review: ReviewRecord;
  case: CaseRecord;
  input: Record<string, unknown>;
}

/**
 * Leases the caller one review: their open lease if they hold one (under the judge's lock, so two
 * parallel requests get the same one); else, on a honeypot turn (`decideHoneypotTurn`: at random,
 * one lease in `honeypotEvery` on average, and always after a honeypot the judge gave back), a
 * honeypot (a settled case with a known verdict, indistinguishable from real work); else one drawn at
 * random (`decidePick`) among the `amongOldest` oldest open cases that still want a vote and that
 * the caller may judge: not their own work, not their company's campaign, not a case they already
 * reviewed. Judges leasing back to back thus do not all get the same fresh case. The candidate rows
 * are locked (`skip locked`: two judges never wait on each other) and the picked case's live
 * reviews counted under that lock, so two judges
 * racing for a case's last open vote never both get it. The lease is announced
 * (`qc.review.assigned.v1`): submissions then lets the judge read the work.
 */
export async function leaseNext(
  trx: Db,
  judge: Judge,
  filter: { type?: string | undefined },
  rules: LeaseRules,
  now: Date,
): Promise<Leased> {
  await lockJudge(trx, judge.userId);
  orRefuse(decideJudge(judge, await standingOf(trx, judge.userId), rules));
  await ensureJudge(trx, judge.userId);
  const held = await trx
    .selectFrom('reviews')
    .selectAll()
    .where('judge_id', '=', judge.userId)
    .where('status', '=', 'leased')
    .where('lease_expires_at', '>', now)
    .orderBy('leased_at')
    .executeTakeFirst();
  if (held) return present(trx, held);

  const lastHoneypot = await trx
    .selectFrom('reviews')
    .select(['status', 'lease_expires_at'])
    .where('judge_id', '=', judge.userId)
    .where('kind', '=', 'honeypot')
    .orderBy('leased_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const honeypotTurn = decideHoneypotTurn(lastHoneypot, {
    every: rules.honeypotEvery,
    draw: rules.random(),
    now,
  });
  const picked =
    (honeypotTurn ? await pickHoneypot(trx, judge.userId, filter) : undefined) ??
    (await pickOpenCase(trx, judge.userId, filter, rules, now));
  if (!picked) throw reviewRefusals.nothingToReview();

  const review = await trx
    .insertInto('reviews')
    .values({
      id: randomUUID(),
      case_id: picked.case.id,
      judge_id: judge.userId,
      kind: picked.kind,
      status: 'leased',
      leased_at: now,
      lease_expires_at: new Date(now.getTime() + rules.leaseMs),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await appendToOutbox(trx, [
    buildEvent(
      'qc.review.assigned.v1',
      {
        review_id: review.id,
        submission_id: picked.case.submission_id,
        judge_id: judge.userId,
        lease_expires_at: review.lease_expires_at.toISOString(),
      },
      eventMeta(review.id, now),
    ),
  ]);
  return present(trx, review, picked.case);
}

async function present(trx: Db, review: ReviewRecord, known?: CaseRecord): Promise<Leased> {
  const found =
    known ??
    (await trx.selectFrom('cases').selectAll().where('id', '=', review.case_id).executeTakeFirstOrThrow());
  const task = await trx
    .selectFrom('tasks')
    .select('input')
    .where('id', '=', found.task_id)
    .executeTakeFirst();
  return { review, case: found, input: task?.input ?? {} };
}

/** What the caller may never judge: their own work, their company's, or a case they reviewed. */
function judgeable(judgeId: string) {
  return sql<boolean>`c.contributor_id <> ${judgeId}::uuid
    and not exists (
      select from company_members m
      where m.company_id = c.company_id and m.user_id = ${judgeId}::uuid and not m.removed)
    and not exists (select from reviews r where r.case_id = c.id and r.judge_id = ${judgeId}::uuid)`;
}

const liveVotes = (now: Date) => sql<number>`(
  select count(*)::int from reviews r
  where r.case_id = c.id and r.kind = 'consensus'
    and (r.status = 'submitted' or (r.status = 'leased' and r.lease_expires_at > ${now})))`;

async function pickOpenCase(
  trx: Db,
  judgeId: string,
  filter: { type?: string | undefined },
  rules: Pick<LeaseRules, 'amongOldest' | 'random'>,
  now: Date,
): Promise<{ case: CaseRecord; kind: 'consensus' } | undefined> {
  // The oldest candidates, locked without waiting; one is drawn, and its count taken again under
  // the lock (a vote committed meanwhile: the next attempt's query no longer sees the case).
  for (let attempt = 0; attempt < 5; attempt++) {
    let query = trx
      .selectFrom('cases as c')
      .selectAll('c')
      .where('c.status', '=', 'open')
      .where(judgeable(judgeId))
      .where(sql<boolean>`${liveVotes(now)} < c.votes_wanted`)
      .orderBy('c.created_at')
      .orderBy('c.id')
      .limit(rules.amongOldest)
      .forUpdate()
      .skipLocked();
    if (filter.type) query = query.where('c.task_type', '=', filter.type);
    const candidates = await query.execute();
    if (candidates.length === 0) return undefined;
    const candidate =
      candidates[candidates.length === 1 ? 0 : decidePick(candidates.length, rules.random())]!;
    const live = await trx
      .selectFrom('reviews as r')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('r.case_id', '=', candidate.id)
      .where('r.kind', '=', 'consensus')
      .where((eb) =>
        eb.or([
          eb('r.status', '=', 'submitted'),
          eb.and([eb('r.status', '=', 'leased'), eb('r.lease_expires_at', '>', now)]),
        ]),
      )
      .executeTakeFirstOrThrow();
    if (candidate.status === 'open' && live.n < candidate.votes_wanted)
      return { case: candidate, kind: 'consensus' };
  }
  return undefined;
}

async function pickHoneypot(
  trx: Db,
  judgeId: string,
  filter: { type?: string | undefined },
): Promise<{ case: CaseRecord; kind: 'honeypot' } | undefined> {
  let query = trx
    .selectFrom('cases as c')
    .selectAll('c')
    .where('c.honeypot_verdict', 'is not', null)
    // Only settled work: a case reopened by re-judging is real work again.
    .where('c.status', '=', 'decided')
    .where(judgeable(judgeId))
    .orderBy(sql`random()`)
    .limit(1);
  if (filter.type) query = query.where('c.task_type', '=', filter.type);
  const found = await query.executeTakeFirst();
  return found ? { case: found, kind: 'honeypot' } : undefined;
}

export interface ReviewCommand {
  reviewId: string;
  judgeId: string;
  /** Who the judge is, for their standing (`decideJudge`). */
  role: string;
  isCompanyKey: boolean;
  verdict: VerdictValue;
  qualityScore: number;
  reasonCodes: string[];
  answer: Record<string, unknown> | undefined;
  now: Date;
}

export interface ReviewRules extends JudgingRules {
  threshold: number;
  onHoneypot: (trx: Db, judgeId: string, now: Date) => Promise<void>;
  /** When a honeypot review is counted and paid (`honeypotFeeDueAt`). */
  honeypotFees: HoneypotFeeRules;
}

/**
 * Records a judge's review, if they still may judge (`decideJudge`, read under the judge's lock: a
 * judge removed, suspended or no longer appointed since they leased it is refused, and their review
 * neither counts nor earns). A honeypot's is scored against its known verdict at once (and may cost
 * the judge their judging: `onHoneypot`), but counted and paid later, as long after it as a real case
 * takes to settle (`honeypotFeeDueAt`; the honeypot-fees worker, `payDueHoneypotFees`): nothing is
 * published now. A real one is weighed with the case's other votes: the case is decided
 * (`settleCase`), asks for one more judge, escalates to the admin queue, or waits.
 */
export async function submitReview(trx: Db, command: ReviewCommand, rules: ReviewRules, log: Logger) {
  await lockJudge(trx, command.judgeId);
  const review = await lockReview(trx, command.reviewId);
  // Another's review does not exist for the caller, judge or not: hidden before anything else.
  if (!review || review.judge_id !== command.judgeId) throw reviewRefusals.notFound();
  orRefuse(decideJudge(command, await standingOf(trx, command.judgeId), rules));
  orRefuse(decideLeaseHeld(review, command));
  const reviewed = await lockCase(trx, review.case_id);
  if (!reviewed) throw reviewRefusals.notFound();
  const task = await trx
    .selectFrom('tasks')
    .select('input')
    .where('id', '=', reviewed.task_id)
    .executeTakeFirst();
  const answer = orRefuse(decideAnswer(reviewed.task_type, task?.input ?? {}, command.answer));
  // A honeypot's review, scored or not (withdrawn while leased: the judge did the work all the
  // same), is counted and paid when it falls due; whether it agreed is kept until then (with the
  // known verdict, or a withdrawn honeypot's case's own).
  const honeypotTerms =
    review.kind === 'honeypot'
      ? {
          fee_due_at: await honeypotFeeDueAt(trx, command.now, rules.honeypotFees),
          honeypot_agreed: command.verdict === (reviewed.honeypot_verdict ?? reviewed.verdict),
        }
      : {};
  const submitted = await trx
    .updateTable('reviews')
    .set({
      status: 'submitted',
      submitted_at: command.now,
      verdict: command.verdict,
      quality_score: command.qualityScore,
      reason_codes: command.reasonCodes,
      answer: answer === null ? null : JSON.stringify(answer),
      ...honeypotTerms,
    })
    .where('id', '=', review.id)
    .returningAll()
    .executeTakeFirstOrThrow();

  if (review.kind === 'honeypot') {
    // An admin withdrew the honeypot while it was leased: no known verdict to score against.
    if (reviewed.honeypot_verdict === null) {
      log.info(
        { case_id: reviewed.id, review_id: review.id },
        'a review of a withdrawn honeypot: kept, not scored (counted and paid when due)',
      );
      return submitted;
    }
    const right = command.verdict === reviewed.honeypot_verdict ? 1 : 0;
    await scoreJudge(trx, command.judgeId, { correct: right, answered: 1, honeypot: true }, command.now);
    await rules.onHoneypot(trx, command.judgeId, command.now);
    return submitted;
  }
  if (reviewed.status !== 'open') {
    log.info(
      { case_id: reviewed.id, review_id: review.id },
      'a review of a case already settled: kept, not counted',
    );
    return submitted;
  }
  await weighCase(trx, reviewed, { threshold: rules.threshold, now: command.now });
  return submitted;
}

/**
 * Weighs a case's submitted votes with the judges' accuracies now, and acts on what that decides.
 * Also used after a judge was removed: the case is weighed again without their votes.
 */
export async function weighCase(
  trx: Db,
  open: CaseRecord,
  context: { threshold: number; now: Date },
): Promise<'wait' | 'decided' | 'more' | 'escalate'> {
  const votes = await votesOf(trx, open.id);
  const decision = decideCase(votes, {
    judgesRequired: open.judges_required,
    maxJudges: open.max_judges,
    threshold: context.threshold,
  });
  // Back in the pool after re-judging: its wait (cases/escalation.ts) counts from now.
  const reopened = open.status === 'open' ? {} : { reopened_at: context.now };
  switch (decision.kind) {
    case 'wait':
      // Fewer votes than required (only after a removed judge's votes were set aside): reopen.
      if (open.status !== 'open' || open.votes_wanted !== open.judges_required) {
        await trx
          .updateTable('cases')
          .set({ status: 'open', votes_wanted: open.judges_required, ...reopened })
          .where('id', '=', open.id)
          .execute();
      }
      return 'wait';
    case 'more':
      await trx
        .updateTable('cases')
        .set({ status: 'open', votes_wanted: votes.length + 1, ...reopened })
        .where('id', '=', open.id)
        .execute();
      return 'more';
    case 'escalate':
      await trx
        .updateTable('cases')
        .set({ status: 'escalated', escalated_reason: 'NO_CONSENSUS' })
        .where('id', '=', open.id)
        .execute();
      return 'escalate';
    case 'decided':
      await settleCase(
        trx,
        open,
        {
          verdict: decision.option,
          method: 'consensus',
          confidence: decision.confidence,
          details: verdictDetails(votes, decision.option),
        },
        { now: context.now },
      );
      return 'decided';
  }
}

/** A case's submitted real votes, each weighed by its judge's accuracy now. */
export async function votesOf(trx: Db, caseId: string): Promise<CastVote[]> {
  const rows = await trx
    .selectFrom('reviews')
    .select(['judge_id', 'verdict', 'quality_score', 'reason_codes', 'answer'])
    .where('case_id', '=', caseId)
    .where('kind', '=', 'consensus')
    .where('status', '=', 'submitted')
    .orderBy('submitted_at')
    .execute();
  const records = await recordsOf(
    trx,
    rows.map((row) => row.judge_id),
  );
  return rows.map((row) => ({
    judgeId: row.judge_id,
    verdict: row.verdict!,
    accuracy: accuracyOf(records.get(row.judge_id) ?? noRecord),
    qualityScore: row.quality_score,
    reasonCodes: row.reason_codes,
    answer: row.answer,
  }));
}

/**
 * The judge gives a leased review back before submitting it; it returns to the pool at once. A
 * honeypot given back is owed: the judge's next lease is a honeypot turn (`decideHoneypotTurn`).
 */
export async function releaseReview(trx: Db, command: { reviewId: string; judgeId: string; now: Date }) {
  await lockJudge(trx, command.judgeId);
  const review = await lockReview(trx, command.reviewId);
  if (!review) throw reviewRefusals.notFound();
  orRefuse(decideLeaseHeld(review, command));
  return trx
    .updateTable('reviews')
    .set({ status: 'released' })
    .where('id', '=', review.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Marks leases that ran out as expired (they already stopped counting as live votes when their
 * time passed, so the case was back in the pool at once; this keeps the table honest). One judge at
 * a time, each in its own transaction under the judge's lock, taken before any row lock as every
 * other writer of a judge's leases does (leasing, submitting, releasing, and pruning, which ends a
 * removed judge's leases). One UPDATE over every judge's run-out leases locked rows across judges
 * in scan order, and could cross pruning (the judge's lock, the honeypot's row, then the judge's
 * other leases) into a deadlock. The lock is tried, never waited for (`tryLockJudge`): a judge busy
 * with their leases is left to the next run, and holds up no other judge. A judge that fails is
 * logged; the others go on.
 */
export async function expireLeases(
  db: Db,
  now: Date,
  options: { limit?: number; logger?: Logger } = {},
): Promise<number> {
  const due = await db
    .selectFrom('reviews')
    .select('judge_id')
    .distinct()
    .where('status', '=', 'leased')
    .where('lease_expires_at', '<=', now)
    .orderBy('judge_id')
    .limit(options.limit ?? 500)
    .execute();
  const expired = await eachOnItsOwn(
    due,
    ({ judge_id }) =>
      db.transaction().execute(async (trx) => {
        if (!(await tryLockJudge(trx, judge_id))) return 0;
        const updated = await trx
          .updateTable('reviews')
          .set({ status: 'expired' })
          .where('judge_id', '=', judge_id)
          .where('status', '=', 'leased')
          .where('lease_expires_at', '<=', now)
          .executeTakeFirst();
        return Number(updated.numUpdatedRows);
      }),
    {
      logger: options.logger,
      message: "expiring a judge's run-out leases failed; the others go on",
      describe: ({ judge_id }) => ({ judge_id }),
    },
  );
  return expired.reduce((sum, count) => sum + count, 0);
}

async function lockReview(trx: Db, id: string): Promise<ReviewRecord | undefined> {
  return trx.selectFrom('reviews').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}
