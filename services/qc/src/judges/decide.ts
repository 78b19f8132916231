import { accept, type Decision, refusal, reject } from '@tessera/service-kit';
import { judgeAccuracy } from '../consensus/index.ts';

/** What QC knows of a would-be judge (the `judges` read model), or the defaults. */
export interface JudgeStanding {
  role: string | null;
  status: 'active' | 'suspended' | 'erased';
  level: number;
  trust_score: number;
  appointed: boolean;
  removed: boolean;
}

export const defaultStanding: JudgeStanding = {
  role: null,
  status: 'active',
  level: 1,
  trust_score: 5,
  appointed: false,
  removed: false,
};

export interface JudgingRules {
  minLevel: number;
  minTrust: number;
}

export const judgeRefusals = {
  notAJudge: (why: string) => refusal('forbidden', 'NOT_A_JUDGE', `You may not judge: ${why}.`),
};

/**
 * Who may judge: admins always; anyone else with an active account who was appointed by an admin,
 * or who stands at or above the level and trust score the rules ask, and was not removed for poor
 * accuracy. Company accounts (API keys) never judge. Which submissions a judge may take (not their
 * own, not their company's, not twice) is decided per case when leasing.
 */
export function decideJudge(
  caller: { role: string; isCompanyKey: boolean },
  standing: JudgeStanding,
  rules: JudgingRules,
): Decision<void> {
  if (caller.role === 'admin') return accept(undefined);
  if (caller.role !== 'contributor' || caller.isCompanyKey)
    return reject(judgeRefusals.notAJudge('only contributors and admins judge'));
  if (standing.status !== 'active')
    return reject(judgeRefusals.notAJudge(`your account is ${standing.status}`));
  if (standing.removed)
    return reject(judgeRefusals.notAJudge('your judging was withdrawn after honeypot checks'));
  if (standing.appointed) return accept(undefined);
  if (standing.level < rules.minLevel || standing.trust_score < rules.minTrust) {
    return reject(
      judgeRefusals.notAJudge(
        `judges need level ${rules.minLevel} and trust ${rules.minTrust.toFixed(1)} (you have level ${standing.level}, trust ${standing.trust_score.toFixed(1)}), or an appointment`,
      ),
    );
  }
  return accept(undefined);
}

/** A judge's track record, as the consensus weighs it. */
export interface JudgeRecord {
  correct: number;
  answered: number;
  honeypot_correct: number;
  honeypot_answered: number;
}

/** The one-coin accuracy q = (3 + correct) / (4 + answered). */
export const accuracyOf = (record: Pick<JudgeRecord, 'correct' | 'answered'>): number =>
  judgeAccuracy({ correct: record.correct, answered: record.answered });

export interface PruningRules {
  floor: number;
  minHoneypots: number;
}

/** A judge's honeypot counters when an admin last restored them (zero: never restored). */
export interface RestoredAt {
  restored_honeypot_correct: number;
  restored_honeypot_answered: number;
}

/**
 * The honeypot record the removal rule reads: the honeypots since the judge was last restored after
 * a removal (all of them when never restored). The lifetime counters stay as they are (history,
 * accuracy); a restored judge starts afresh, so they can only be removed again once
 * `minHoneypots` new honeypots are in, not at their next miss.
 */
export function honeypotsSinceRestored(record: JudgeRecord, restored: RestoredAt): JudgeRecord {
  return {
    correct: record.correct,
    answered: record.answered,
    honeypot_correct: Math.max(0, record.honeypot_correct - restored.restored_honeypot_correct),
    honeypot_answered: Math.max(0, record.honeypot_answered - restored.restored_honeypot_answered),
  };
}

/**
 * Whether a judge loses judging: after at least `minHoneypots` honeypots, an accuracy on them below
 * the floor. Judged on honeypots alone (known answers), so agreeing with a bad majority cannot
 * save a judge, and disagreeing with one cannot sink a good judge.
 */
export function shouldPrune(record: JudgeRecord, rules: PruningRules): boolean {
  if (record.honeypot_answered < rules.minHoneypots) return false;
  return record.honeypot_correct / record.honeypot_answered < rules.floor;
}
