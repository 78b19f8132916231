import type { TaskInput, TaskType } from '@tessera/contracts';
import { accept, type Decision, refuse, reject } from '@tessera/service-kit';
import { type CheckedPayload, checkPayload } from './payloads.ts';

/** A claim as submissions learned it from tasks' events. */
export interface Claim {
  id: string;
  taskId: string;
  campaignId: string;
  companyId: string;
  contributorId: string;
  status: 'active' | 'released' | 'expired';
  expiresAt: Date;
}

/** A task as submissions learned it from tasks' events. */
export interface TaskView {
  id: string;
  type: TaskType;
  input: TaskInput;
}

/** The submission already made under the claim, if any. */
export interface Earlier {
  id: string;
  status: SubmissionStatus;
  revision: number;
  revisionDeadline: Date | null;
}

export const submissionStatuses = [
  /** In, waiting for pre-validation. */
  'received',
  'in_review',
  'revision_requested',
  'approved',
  'rejected',
] as const;
export type SubmissionStatus = (typeof submissionStatuses)[number];

export interface SubmitState {
  claim: Claim | null;
  task: TaskView | null;
  earlier: Earlier | null;
  now: Date;
}

export interface SubmitCommand {
  contributorId: string;
  payload: unknown;
}

export type SubmitDecision =
  | { kind: 'first'; checked: CheckedPayload }
  | { kind: 'revision'; submissionId: string; revision: number; checked: CheckedPayload };

/**
 * Whether a contributor may hand in this payload under this claim now: the claim must be theirs,
 * open and unexpired, not yet submitted (or asked for its one revision, before the deadline), and
 * the payload must fit the task.
 */
export function decideSubmit(state: SubmitState, command: SubmitCommand): Decision<SubmitDecision> {
  const { claim, task, earlier, now } = state;
  if (!claim || !task) {
    return reject(
      refuse.conflict('ASSIGNMENT_UNKNOWN', 'This claim is not known here yet; retry in a few seconds.'),
    );
  }
  // Someone else's claim is not theirs to know about.
  if (claim.contributorId !== command.contributorId) {
    return reject(refuse.notFound('No such claim of yours.', 'ASSIGNMENT_NOT_FOUND'));
  }
  if (earlier) {
    if (earlier.status !== 'revision_requested') {
      return reject(refuse.conflict('ALREADY_SUBMITTED', 'Work was already handed in under this claim.'));
    }
    if (!earlier.revisionDeadline || earlier.revisionDeadline.getTime() <= now.getTime()) {
      return reject(
        refuse.conflict('REVISION_DEADLINE_PASSED', 'The time to hand in the revision has passed.'),
      );
    }
    const checked = checkPayload(task.type, task.input, command.payload);
    if (!checked.ok) return checked;
    return accept({
      kind: 'revision',
      submissionId: earlier.id,
      revision: earlier.revision + 1,
      checked: checked.value,
    });
  }
  if (claim.status === 'released') {
    return reject(refuse.conflict('ASSIGNMENT_RELEASED', 'This claim was given back; claim the task again.'));
  }
  if (claim.status === 'expired' || claim.expiresAt.getTime() <= now.getTime()) {
    return reject(
      refuse.conflict(
        'ASSIGNMENT_EXPIRED',
        'This claim ran out before the work arrived; claim the task again.',
      ),
    );
  }
  const checked = checkPayload(task.type, task.input, command.payload);
  if (!checked.ok) return checked;
  return accept({ kind: 'first', checked: checked.value });
}

/** Media a payload references must be the caller's own, unattached, and of the task's kind. */
export interface MediaView {
  id: string;
  uploaderId: string;
  kind: 'audio' | 'image';
  submissionId: string | null;
}

export function decideMedia(
  media: readonly (MediaView | undefined)[],
  wanted: readonly string[],
  contributorId: string,
  taskType: TaskType,
  resubmittingId: string | null,
  /** Of the ids not found, those the media sweep removed from this contributor's uploads. */
  expired: ReadonlySet<string>,
): Decision<MediaView[]> {
  const found: MediaView[] = [];
  for (const [index, id] of wanted.entries()) {
    const item = media[index];
    // Another user's media is as unknown as a missing one.
    if (!item || item.uploaderId !== contributorId) {
      if (expired.has(id)) {
        return reject(
          refuse.unprocessable(
            'MEDIA_EXPIRED',
            `Media ${id} was not handed in in time and has been removed; upload it again.`,
          ),
        );
      }
      return reject(
        refuse.unprocessable('MEDIA_NOT_FOUND', `No media ${id} uploaded by you; upload it first.`),
      );
    }
    if (item.submissionId !== null && item.submissionId !== resubmittingId) {
      return reject(
        refuse.conflict('MEDIA_ALREADY_ATTACHED', `Media ${id} already belongs to another submission.`),
      );
    }
    if (item.kind !== taskType) {
      return reject(
        refuse.unprocessable(
          'MEDIA_KIND_MISMATCH',
          `Media ${id} is ${item.kind}; this task takes ${taskType}.`,
        ),
      );
    }
    found.push(item);
  }
  return accept(found);
}
