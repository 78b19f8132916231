import { createHash, randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  claimIdempotencyKey,
  type Clock,
  isUniqueViolation,
  orRefuse,
  recordIdempotentResponse,
  refuse,
} from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { ClaimArrivals } from '../claims/arrivals.ts';
import type { SubmissionsDB } from '../db/schema.ts';
import { decideMedia, decideSubmit } from './decide.ts';
import {
  attachMedia,
  contentSinceOf,
  earlierOf,
  expiredMedia,
  findClaimAndTask,
  findSubmission,
  lockMedia,
  lockSubmissionOfClaim,
  type SubmissionRow,
} from './repository.ts';

export interface IntakeDeps {
  db: Kysely<SubmissionsDB>;
  clock: Clock;
  /** How long a hand-in waits for a claim whose event has not arrived yet. */
  claimWaitMs: number;
  /** Wakes a waiting hand-in when its claim (or the claim's task) is stored here. */
  arrivals: ClaimArrivals;
  /** The pauses between looks while waiting (200 ms, then 400); tests lengthen them to see the wake-ups alone. */
  pausesMs?: { first: number; max: number };
}

export interface SubmitRequest {
  contributorId: string;
  assignmentId: string;
  payload: unknown;
  timeSpentSeconds: number;
  idempotencyKey?: string | undefined;
}

const OPERATION = 'submit';

/**
 * Hands in work under a claim: waits briefly for a claim tasks has just announced, decides, and
 * stores the submission (or its one revision), attaches its media and writes
 * `submissions.submission.received.v1` in one transaction. A replay of the same Idempotency-Key
 * answers the same submission.
 */
export async function submitWork(deps: IntakeDeps, request: SubmitRequest): Promise<SubmissionRow> {
  await waitForClaim(deps, request.assignmentId);
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const now = deps.clock();
      const key = request.idempotencyKey
        ? { principalId: request.contributorId, operation: OPERATION, key: request.idempotencyKey }
        : undefined;
      if (key) {
        const earlier = await claimIdempotencyKey(
          trx,
          {
            ...key,
            body: {
              assignment_id: request.assignmentId,
              payload: request.payload,
              t: request.timeSpentSeconds,
            },
          },
          now,
        );
        if (earlier) return replayed(trx, earlier.body);
      }
      const submission = await handIn(trx, request, now);
      if (key)
        await recordIdempotentResponse(trx, key, { status: 202, body: { submission_id: submission.id } });
      return submission;
    });
  } catch (error) {
    // Two first hand-ins racing under one claim: the loser finds the winner's row.
    if (isUniqueViolation(error, 'submissions_assignment_id_key')) {
      throw refuse.conflict('ALREADY_SUBMITTED', 'Work was already handed in under this claim.');
    }
    throw error;
  }
}

async function handIn(
  trx: Transaction<SubmissionsDB>,
  request: SubmitRequest,
  now: Date,
): Promise<SubmissionRow> {
  const { claim, task } = await findClaimAndTask(trx, request.assignmentId);
  const earlierRow = await lockSubmissionOfClaim(trx, request.assignmentId);
  const decision = orRefuse(
    decideSubmit(
      { claim, task, earlier: earlierOf(earlierRow), now },
      { contributorId: request.contributorId, payload: request.payload },
    ),
  );
  // decideSubmit accepted, so the claim and the task are known.
  const { reward, xpReward, campaignId, companyId, taskId } = claim!;
  const { type } = task!;
  const { checked } = decision;
  const resubmitting = decision.kind === 'revision' ? decision.submissionId : null;
  const media = await lockMedia(trx, checked.mediaIds);
  const byId = new Map(media.map((item) => [item.id, item]));
  // Only a hand-in about to be refused for media it cannot find asks whether the sweep removed it.
  const missing = checked.mediaIds.filter((id) => byId.get(id)?.uploaderId !== request.contributorId);
  const owned = orRefuse(
    decideMedia(
      checked.mediaIds.map((id) => byId.get(id)),
      checked.mediaIds,
      request.contributorId,
      type,
      resubmitting,
      await expiredMedia(trx, missing, request.contributorId),
    ),
  );
  const contentSha256 = contentHashOf(owned[0] ? byId.get(owned[0].id)?.sha256 : undefined, checked.text);

  const fields = {
    status: 'received' as const,
    payload: JSON.stringify(checked.payload),
    answer: checked.answer === null ? null : JSON.stringify(checked.answer),
    content_sha256: contentSha256,
    time_spent_seconds: request.timeSpentSeconds,
    submitted_at: now,
    updated_at: now,
  };
  if (decision.kind === 'revision') {
    // decideSubmit took it as a revision, so the first hand-in is there.
    const first = earlierRow!;
    const row = await trx
      .updateTable('submissions')
      .set({
        ...fields,
        revision: decision.revision,
        revision_deadline: null,
        // Copies are judged by when this content came: the revision's hand-in, unless it hands in
        // what the submission already held (created_at stays the first hand-in's).
        content_since:
          contentSha256 !== null && contentSha256 === first.content_sha256 ? contentSinceOf(first) : now,
        // A new version, screened afresh: the first one's faults leave it every attempt.
        screening_attempts: 0,
        screening_retry_at: null,
      })
      .where('id', '=', decision.submissionId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.updateTable('media').set({ submission_id: null }).where('submission_id', '=', row.id).execute();
    await attachMedia(trx, checked.mediaIds, row.id);
    return row;
  }
  const id = randomUUID();
  const row = await trx
    .insertInto('submissions')
    .values({
      id,
      assignment_id: request.assignmentId,
      task_id: taskId,
      campaign_id: campaignId,
      company_id: companyId,
      contributor_id: request.contributorId,
      task_type: type,
      revision: 1,
      reward_amount: reward.amount,
      currency: reward.currency,
      xp_reward: xpReward,
      reason_codes: [],
      revision_deadline: null,
      decided_at: null,
      created_at: now,
      content_since: now,
      ...fields,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await attachMedia(trx, checked.mediaIds, id);
  await appendToOutbox(trx, [
    buildEvent(
      'submissions.submission.received.v1',
      {
        submission_id: id,
        assignment_id: request.assignmentId,
        task_id: taskId,
        campaign_id: campaignId,
        contributor_id: request.contributorId,
      },
      { subject: id },
    ),
  ]);
  return row;
}

/** What duplicates are found by: the media file's hash, or the text's; choices have none. */
function contentHashOf(mediaSha256: string | undefined, text: string | null): string | null {
  if (mediaSha256) return mediaSha256;
  return text === null ? null : createHash('sha256').update(text, 'utf8').digest('hex');
}

async function replayed(trx: Transaction<SubmissionsDB>, body: unknown): Promise<SubmissionRow> {
  const { submission_id } = body as { submission_id?: string };
  const row = submission_id ? await findSubmission(trx, submission_id) : null;
  // The first request with this key is still running (its row is locked until it ends).
  if (!row)
    throw refuse.conflict(
      'IDEMPOTENCY_KEY_IN_USE',
      'A request with this Idempotency-Key is still being handled; retry.',
    );
  return row;
}

/**
 * A claim tasks has just announced may not have reached us yet: wait a little for it, and for its
 * task. The tasks consumer of whichever instance stores either wakes us (`ClaimArrivals`); the looks
 * between (200 ms, then every 400 ms) find what a lost signal did not tell us.
 */
async function waitForClaim(deps: IntakeDeps, assignmentId: string): Promise<void> {
  const deadline = Date.now() + deps.claimWaitMs;
  const pauses = deps.pausesMs ?? PAUSES_MS;
  const delays = claimPollDelays(deps.claimWaitMs, pauses);
  const done = new AbortController();
  let awaited = assignmentId;
  try {
    for (let look = 0; ; look += 1) {
      // Listening before looking: what is stored while we read still wakes us.
      const pause = Math.min(delays[look] ?? pauses.max, deadline - Date.now());
      const arrival = deps.arrivals.waitFor(awaited, pause, done.signal);
      const { claim, task } = await findClaimAndTask(deps.db, assignmentId);
      if (claim && task) return;
      if (Date.now() >= deadline) return;
      // The claim came before its task (another instance has the task's event): listen for the task.
      if (claim && awaited !== claim.taskId) awaited = claim.taskId;
      else await arrival;
    }
  } finally {
    done.abort();
  }
}

const PAUSES_MS = { first: 200, max: 400 };

/**
 * The longest pauses between looks for a claim not stored here yet: 200 ms, then 400 ms, within
 * `waitMs`. A claim any instance stores ends a pause at once (`ClaimArrivals`); these looks are for
 * a signal lost on the way, and an id that never comes (an unknown or made-up one, which anyone may
 * send) costs nine reads over 3 s.
 */
export function claimPollDelays(waitMs: number, pauses = PAUSES_MS): number[] {
  const delays: number[] = [];
  let total = 0;
  for (let delay = pauses.first; total < waitMs; delay = Math.min(pauses.max, delay * 2)) {
    const pause = Math.min(delay, waitMs - total);
    delays.push(pause);
    total += pause;
  }
  return delays;
}
