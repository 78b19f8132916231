import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta, type Logger } from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { derivedId } from '../ids.ts';
import { newReferralCode, normalizeCode } from './code.ts';
import { decideReferral, decideSecondLevel, qualifies, type ReferralRules, rewardFor } from './decide.ts';
import {
  addApproval,
  codeOf,
  countApprovalOnce,
  deleteCode,
  forgetCountedApprovals,
  hasPendingReferral,
  insertCode,
  insertReferral,
  ownerOfCode,
  party,
  qualifyOnce,
  referrerOf,
  rejectPending,
} from './repository.ts';

type Db = Kysely<EngagementDB>;

const CODE_ATTEMPTS = 10;

/**
 * The user's referral code, created when they have none: random, retried when it collides with
 * another user's (1 in 2^40 per pair, so a retry is rare and ten are never all needed).
 */
export async function ensureCode(db: Db, userId: string, now: Date): Promise<string> {
  for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
    const existing = await codeOf(db, userId);
    if (existing) return existing;
    const code = newReferralCode();
    if (await insertCode(db, userId, code, now)) return code;
  }
  throw new Error(`no free referral code after ${CODE_ATTEMPTS} attempts`);
}

/**
 * A user registered: they get their own code (unless a company user), and a signup with a
 * referral code records who referred them (`decideReferral`), plus the referrer's own referrer
 * at level 2 when configured. A referral is recorded once per (user, level): identity
 * redelivering the signup under a new event id changes nothing that is already there.
 */
export async function userRegistered(
  trx: Transaction<EngagementDB>,
  event: TesseraEvent<'identity.user.registered.v1'>,
  context: { rules: ReferralRules; logger: Logger },
): Promise<void> {
  const userId = event.data.user_id.toLowerCase();
  const at = new Date(event.time);
  const referred = { id: userId, role: event.data.role, status: 'active' as const };
  if (event.data.role !== 'company') await ensureCode(trx, userId, at);
  if (event.data.referral_code === undefined) return;

  const owner = await ownerOfCode(trx, normalizeCode(event.data.referral_code));
  const decision = decideReferral(referred, owner);
  if (decision.outcome === 'none') {
    context.logger.info({ event_id: event.id, why: decision.why }, 'signup referral code not taken');
    return;
  }
  if (decision.outcome === 'rejected') {
    await insertReferral(trx, {
      id: derivedId('referral', userId, '1'),
      referrer_id: owner!.id,
      referred_user_id: userId,
      level: 1,
      status: 'rejected',
      reason_code: decision.reason_code,
      created_at: at,
    });
    return;
  }
  const created = await insertReferral(trx, {
    id: derivedId('referral', userId, '1'),
    referrer_id: decision.referrerId,
    referred_user_id: userId,
    level: 1,
    status: 'pending',
    reason_code: null,
    created_at: at,
  });
  if (!created) return;

  const grandReferrerId = await referrerOf(trx, decision.referrerId);
  const secondLevel = decideSecondLevel(context.rules, {
    referredId: userId,
    referrerId: decision.referrerId,
    grandReferrer: grandReferrerId ? await party(trx, grandReferrerId) : undefined,
  });
  if (secondLevel) {
    await insertReferral(trx, {
      id: derivedId('referral', userId, '2'),
      referrer_id: secondLevel,
      referred_user_id: userId,
      level: 2,
      status: 'pending',
      reason_code: null,
      created_at: at,
    });
  }
}

/**
 * A referred user's submission was approved: each submission counts once toward their pending
 * referrals, and the delivery that brings one to the qualifying count marks it qualified and
 * writes `engagement.referral.rewarded.v1` (the ledger pays the referrer from promotions, once
 * per referral id).
 */
export async function submissionApproved(
  trx: Transaction<EngagementDB>,
  approval: { userId: string; submissionId: string; at: Date; cause: Cause },
  rules: ReferralRules,
): Promise<void> {
  const { userId, submissionId, at, cause } = approval;
  if (!(await hasPendingReferral(trx, userId))) return;
  if (!(await countApprovalOnce(trx, userId, submissionId))) return;
  for (const referral of await addApproval(trx, userId)) {
    if (!qualifies(referral, rules)) continue;
    if (!(await qualifyOnce(trx, referral.id, at))) continue;
    const amount = rewardFor(referral.level, rules);
    if (amount.amount === 0) continue;
    await appendToOutbox(trx, [
      buildEvent(
        'engagement.referral.rewarded.v1',
        { referral_id: referral.id, referrer_id: referral.referrer_id, referred_user_id: userId, amount },
        eventMeta(referral.id, at, cause),
      ),
    ]);
  }
}

/**
 * Erasure: a pending referral of the erased user will never qualify, and one they would have been
 * paid for is not paid to an erased account; their code goes, so nobody can sign up with it.
 */
export async function userErased(trx: Transaction<EngagementDB>, userId: string): Promise<void> {
  await rejectPending(trx, 'referred_user_id', userId, 'REFERRED_ERASED');
  await rejectPending(trx, 'referrer_id', userId, 'REFERRER_ERASED');
  await forgetCountedApprovals(trx, userId);
  await deleteCode(trx, userId);
}
