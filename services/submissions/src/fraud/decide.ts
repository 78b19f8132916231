import type { TaskType } from '@tessera/contracts';

export type FraudSignal = 'too_fast' | 'burst' | 'low_approval_rate' | 'shared_content';

/** The thresholds (seeds 000 and 004). */
export interface FraudRules {
  /** Seconds below which a hand-in of each type is too fast to be honest work. */
  minSecondsPerType: Record<TaskType, number>;
  /** More hand-ins than this in the last hour is a burst. */
  maxPerHour: number;
  /** An approval rate under this, over more than `minDecided` decided submissions. */
  minApprovalRate: number;
  minDecided: number;
}

export const defaultFraudRules: FraudRules = {
  minSecondsPerType: { audio: 5, image: 3, text: 20, validation: 2, linguasense: 5, rlhf: 15 },
  maxPerHour: 10,
  minApprovalRate: 0.5,
  minDecided: 10,
};

/** What is known about one hand-in and its contributor when it is screened. */
export interface FraudFacts {
  taskType: TaskType;
  /**
   * The first hand-in under its claim. A revision is looked at for shared content only: how fast and
   * how often its contributor works was told by the first.
   */
  firstHandIn: boolean;
  timeSpentSeconds: number;
  /** Hand-ins by the contributor in the hour before this one, this one included. */
  lastHour: number;
  approved: number;
  rejected: number;
  /** Another contributor handed in the very same content. */
  sharedWithAnother: boolean;
}

export interface RaisedSignal {
  signal: FraudSignal;
  details: Record<string, number | string | boolean>;
}

/** Which signals fire. A flag is information for admins and for the trust score: it never rejects. */
export function decideFlags(facts: FraudFacts, rules: FraudRules = defaultFraudRules): RaisedSignal[] {
  const raised: RaisedSignal[] = [];
  if (!facts.firstHandIn) {
    return facts.sharedWithAnother ? [{ signal: 'shared_content', details: {} }] : [];
  }
  const floor = rules.minSecondsPerType[facts.taskType];
  if (facts.timeSpentSeconds < floor) {
    raised.push({
      signal: 'too_fast',
      details: { time_spent_seconds: facts.timeSpentSeconds, floor_seconds: floor },
    });
  }
  if (facts.lastHour > rules.maxPerHour) {
    raised.push({ signal: 'burst', details: { last_hour: facts.lastHour, limit: rules.maxPerHour } });
  }
  const decided = facts.approved + facts.rejected;
  if (decided > rules.minDecided && facts.approved / decided < rules.minApprovalRate) {
    raised.push({
      signal: 'low_approval_rate',
      details: {
        approved: facts.approved,
        decided,
        rate: Math.round((facts.approved / decided) * 1000) / 1000,
      },
    });
  }
  if (facts.sharedWithAnother) raised.push({ signal: 'shared_content', details: {} });
  return raised;
}

/**
 * What makes a flag the same flag: once per submission for what one hand-in shows, once per
 * contributor and day for what their history shows.
 */
export function dedupeKey(
  signal: FraudSignal,
  ids: { contributorId: string; submissionId: string },
  now: Date,
): string {
  return signal === 'too_fast' || signal === 'shared_content'
    ? `${signal}:${ids.submissionId}`
    : `${signal}:${ids.contributorId}:${now.toISOString().slice(0, 10)}`;
}
