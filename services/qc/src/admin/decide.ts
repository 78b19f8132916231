import { accept, type Decision, refusal, reject } from '@tessera/service-kit';

export const adminRefusals = {
  notFound: () =>
    refusal('not_found', 'QUEUE_ITEM_NOT_FOUND', 'No escalated case or open appeal with this id.'),
  alreadyDecided: () => refusal('conflict', 'ALREADY_DECIDED', 'This case or appeal was already decided.'),
  notSettled: () =>
    refusal(
      'conflict',
      'CASE_NOT_SETTLED',
      'Only a decided case can serve as a honeypot (its verdict is known).',
    ),
  appealVerdict: () =>
    refusal('unprocessable', 'APPEAL_VERDICT', 'An appeal is decided approve (overturn) or reject (uphold).'),
  ownSubmission: () =>
    refusal(
      'forbidden',
      'OWN_SUBMISSION',
      'You may not decide your own submission (nor an appeal of it); another admin will.',
    ),
};

/**
 * Whether the admin may decide this work (an escalated case, or an appeal): never their own
 * submission. Refused, it stays in the queue for another admin.
 */
export function decideNotOwnWork(work: { contributor_id: string }, adminId: string): Decision<void> {
  if (work.contributor_id.toLowerCase() === adminId.toLowerCase())
    return reject(adminRefusals.ownSubmission());
  return accept(undefined);
}
