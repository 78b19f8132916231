import { accept, type Decision, refuse, reject } from '@tessera/service-kit';
import type { SubmissionStatus } from '../intake/decide.ts';

/** A contributor may appeal a rejection once, within 7 days of it (MTurk lets requesters overturn). */
export const APPEAL_WINDOW_MS = 7 * 24 * 3600_000;

/** The end of a rejection's appeal window: told to tasks (`appealable_until`), which keeps its campaign open until then. */
export function appealableUntil(decidedAt: Date): Date {
  return new Date(decidedAt.getTime() + APPEAL_WINDOW_MS);
}

export interface AppealState {
  status: SubmissionStatus;
  decidedAt: Date | null;
  /** An appeal was filed before (whatever became of it). */
  appealed: boolean;
  now: Date;
}

/** Whether the rejection may be appealed now; the deadline it had. */
export function decideAppeal(state: AppealState): Decision<{ deadline: Date }> {
  if (state.status !== 'rejected' || !state.decidedAt) {
    return reject(refuse.conflict('NOT_REJECTED', 'Only a rejected submission can be appealed.'));
  }
  if (state.appealed)
    return reject(refuse.conflict('ALREADY_APPEALED', 'This rejection was already appealed once.'));
  const deadline = appealableUntil(state.decidedAt);
  if (state.now.getTime() > deadline.getTime()) {
    return reject(
      refuse.conflict('APPEAL_WINDOW_CLOSED', `Appeals were open until ${deadline.toISOString()}.`),
    );
  }
  return accept({ deadline });
}
