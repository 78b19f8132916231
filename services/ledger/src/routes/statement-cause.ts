import { z } from 'zod';

/**
 * Why a statement line moved money, in the words of the person reading the statement: the
 * submission and how its verdict was reached, the review, the withdrawal and where it stands, the
 * bonus and its reason. Derived from the transfer's code, its metadata (the ids the flows record)
 * and the line's phase; nothing is stored twice.
 */
export const statementCauseSchema = z.object({
  kind: z.enum([
    'reward',
    'judge_fee',
    'withdrawal',
    'bonus',
    'badge_bonus',
    'referral_bonus',
    'penalty',
    'topup',
    'campaign_funding',
    'platform_fee',
    'refund',
    'honeypot_funding',
    'other',
  ]),
  /** One sentence: what the line is for. */
  description: z.string(),
  submission_id: z.string().optional(),
  review_id: z.string().optional(),
  withdrawal_id: z.string().optional(),
  campaign_id: z.string().optional(),
  /** How an approved submission's verdict was reached (rewards paid before it was recorded lack it). */
  verdict: z.enum(['consensus', 'golden', 'admin', 'appeal']).optional(),
  reason: z.string().optional(),
});

export type StatementCause = z.infer<typeof statementCauseSchema>;

const verdictWords: Record<NonNullable<StatementCause['verdict']>, string> = {
  consensus: 'the judges agreed',
  golden: 'it matched the known answer',
  admin: 'an admin decided the split',
  appeal: 'approved on appeal',
};

const withdrawalWords: Record<string, string> = {
  pending: 'held until it is paid out',
  posted: 'paid out',
  voided: 'cancelled, the amount is back',
  expired: 'expired, the amount is back',
};

const short = (id: string | undefined) => (id ? id.slice(0, 8) : 'unknown');

export function statementCause(
  code: string,
  metadata: Readonly<Record<string, string>>,
  phase: string,
): StatementCause {
  const ids = {
    ...(metadata.submission_id ? { submission_id: metadata.submission_id } : {}),
    ...(metadata.campaign_id ? { campaign_id: metadata.campaign_id } : {}),
  };
  switch (code) {
    case 'reward': {
      const parsed = statementCauseSchema.shape.verdict.safeParse(metadata.verdict);
      const verdict = parsed.success ? parsed.data : undefined;
      return {
        kind: 'reward',
        description: `Reward for your approved submission ${short(metadata.submission_id)}${verdict ? ` (${verdictWords[verdict]})` : ''}`,
        ...ids,
        ...(verdict ? { verdict } : {}),
      };
    }
    case 'judge_fee':
      return {
        kind: 'judge_fee',
        description: `Fee for your review ${short(metadata.review_id)} of submission ${short(metadata.submission_id)}`,
        ...ids,
        ...(metadata.review_id ? { review_id: metadata.review_id } : {}),
      };
    case 'withdrawal':
      return {
        kind: 'withdrawal',
        description: `Withdrawal ${short(metadata.withdrawal_id)}: ${withdrawalWords[phase] ?? phase}`,
        ...(metadata.withdrawal_id ? { withdrawal_id: metadata.withdrawal_id } : {}),
      };
    case 'bonus':
      if (metadata.origin === 'adjustment')
        return {
          kind: 'bonus',
          description: `Bonus: ${metadata.reason ?? 'no reason given'}`,
          ...(metadata.reason ? { reason: metadata.reason } : {}),
        };
      if (metadata.kind === 'referral')
        return { kind: 'referral_bonus', description: 'Bonus for a friend you referred' };
      if (metadata.reason_code === 'BADGE_UNLOCKED')
        return {
          kind: 'badge_bonus',
          description: 'Bonus for a badge you unlocked',
          reason: 'BADGE_UNLOCKED',
        };
      return {
        kind: 'bonus',
        description: `Bonus${metadata.reason_code ? `: ${metadata.reason_code}` : ''}`,
        ...(metadata.reason_code ? { reason: metadata.reason_code } : {}),
      };
    case 'penalty':
      return {
        kind: 'penalty',
        description: `Penalty: ${metadata.reason ?? 'no reason given'}`,
        ...(metadata.reason ? { reason: metadata.reason } : {}),
      };
    case 'topup':
      return { kind: 'topup', description: 'Credits topped up' };
    case 'campaign_funding':
      return {
        kind: 'campaign_funding',
        description: `Budget for campaign ${short(metadata.campaign_id)}`,
        ...ids,
      };
    case 'platform_fee':
      return {
        kind: 'platform_fee',
        description: `Platform fee for campaign ${short(metadata.campaign_id)}`,
        ...ids,
      };
    case 'refund':
      return {
        kind: 'refund',
        description: `Budget returned from campaign ${short(metadata.campaign_id)}`,
        ...ids,
      };
    case 'honeypot_funding':
      // On the campaign's statement only (the judge's line is the fee, as for any review): the
      // platform paid a judge's fee for re-checking one of the campaign's decided cases, and the
      // fee went out again at once, so the campaign's balance did not change.
      return {
        kind: 'honeypot_funding',
        description: `Platform-funded fee for a judge's check review of submission ${short(metadata.submission_id)}: paid on to the judge, your budget is unchanged`,
        ...ids,
        ...(metadata.review_id ? { review_id: metadata.review_id } : {}),
      };
    default:
      return { kind: 'other', description: code };
  }
}
