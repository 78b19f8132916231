import type { TesseraEvent } from '@tessera/contracts';
import { appendToOutbox, orRefuse } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { QcDB } from '../db/schema.ts';
import { votesOf } from '../reviews/handle.ts';
import { verdictDetails } from '../verdicts/decide.ts';
import { lockCase, settleCase, verdictReached } from '../verdicts/handle.ts';
import { adminRefusals, decideNotOwnWork } from './decide.ts';

type Db = Kysely<QcDB>;

/** A contributor appealed a rejection: it waits in the admin queue. A repeated event changes nothing. */
export async function appealFiled(
  trx: Db,
  event: TesseraEvent<'submissions.appeal.filed.v1'>,
): Promise<void> {
  const data = event.data;
  await trx
    .insertInto('appeals')
    .values({
      id: data.appeal_id,
      submission_id: data.submission_id,
      assignment_id: data.assignment_id,
      campaign_id: data.campaign_id,
      company_id: data.company_id,
      contributor_id: data.contributor_id,
      reason: data.reason,
      rejected_reason_codes: data.rejected_reason_codes,
      status: 'open',
      filed_at: event.time,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export interface AdminDecision {
  id: string;
  adminId: string;
  verdict: 'approve' | 'reject' | 'revision';
  reasonCodes: string[];
  /** The admin's words, kept with the decision (never published). */
  reason: string;
  now: Date;
}

/**
 * An admin decides an escalated case (method `admin`: its judges are paid, and scored against the
 * admin's verdict) or an open appeal (method `appeal`: approve overturns the rejection, reject
 * upholds it). The decision is final and published like any verdict. An appeal's decision is
 * recorded on the appeal (decision, codes, who, why, when, the case it decided); the case keeps its
 * own verdict, method, confidence and reasons, so its history stays. An admin never decides their
 * own submission (`decideNotOwnWork`): refused, it waits for another admin.
 */
export async function decideQueueItem(
  trx: Db,
  decision: AdminDecision,
): Promise<{ kind: 'case' | 'appeal' }> {
  const escalated = await lockCase(trx, decision.id);
  if (escalated) {
    if (escalated.status !== 'escalated') throw adminRefusals.alreadyDecided();
    orRefuse(decideNotOwnWork(escalated, decision.adminId));
    await trx
      .updateTable('cases')
      .set({ decided_by: decision.adminId, decision_reason: decision.reason })
      .where('id', '=', escalated.id)
      .execute();
    const votes = await votesOf(trx, escalated.id);
    const details = verdictDetails(votes, decision.verdict);
    await settleCase(
      trx,
      escalated,
      {
        verdict: decision.verdict,
        method: 'admin',
        confidence: 1,
        details: { ...details, reasonCodes: decision.verdict === 'approve' ? [] : decision.reasonCodes },
      },
      { now: decision.now },
    );
    return { kind: 'case' };
  }
  const appeal = await trx
    .selectFrom('appeals')
    .selectAll()
    .where('id', '=', decision.id)
    .forUpdate()
    .executeTakeFirst();
  if (!appeal) throw adminRefusals.notFound();
  if (appeal.status !== 'open') throw adminRefusals.alreadyDecided();
  orRefuse(decideNotOwnWork(appeal, decision.adminId));
  if (decision.verdict === 'revision') throw adminRefusals.appealVerdict();
  const judged = await trx
    .selectFrom('cases')
    .selectAll()
    .where('submission_id', '=', appeal.submission_id)
    .orderBy('revision', 'desc')
    .forUpdate()
    .executeTakeFirst();
  if (!judged) throw adminRefusals.notFound();
  orRefuse(decideNotOwnWork(judged, decision.adminId));
  const reasonCodes = decision.verdict === 'approve' ? [] : decision.reasonCodes;
  await trx
    .updateTable('appeals')
    .set({
      status: 'decided',
      decision: decision.verdict,
      decided_by: decision.adminId,
      decision_reason: decision.reason,
      decided_at: decision.now,
      case_id: judged.id,
      decision_reason_codes: reasonCodes,
    })
    .where('id', '=', appeal.id)
    .execute();
  const settlement = {
    verdict: decision.verdict,
    method: 'appeal' as const,
    confidence: 1,
    details: {
      qualityScore: judged.quality_score,
      reasonCodes,
      answer: judged.final_answer,
      answerConfidence: judged.answer_confidence,
    },
    appealId: appeal.id,
  };
  if (judged.status === 'decided') {
    // The case keeps the verdict its judges (or admin) reached: the appeal's decision is the
    // appeal's, kept on its row, and published as the submission's verdict now.
    await appendToOutbox(trx, [verdictReached(judged, settlement, { now: decision.now })]);
  } else {
    // Never decided (an appeal arriving for a case still in judging): nothing to keep, and the
    // case must stop waiting for judges.
    await settleCase(trx, judged, settlement, { now: decision.now });
  }
  return { kind: 'appeal' };
}

/** An admin marks a settled case known-good or known-bad: from now on it may serve as a honeypot. */
export async function markHoneypot(
  trx: Db,
  command: { caseId: string; verdict: 'approve' | 'reject' | null },
): Promise<void> {
  const found = await lockCase(trx, command.caseId);
  if (!found) throw adminRefusals.notFound();
  if (found.status !== 'decided') throw adminRefusals.notSettled();
  await trx
    .updateTable('cases')
    .set({ honeypot_verdict: command.verdict })
    .where('id', '=', found.id)
    .execute();
}
