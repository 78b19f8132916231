import { buildEvent, type TaskInput, type TesseraEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  type Clock,
  isDatabaseUnavailable,
  isTransientConflict,
  lockNames,
  type Logger,
} from '@tessera/service-kit';
import { type Kysely, type Selectable, type Transaction } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import { contentHeldBefore, type SubmissionRow } from '../intake/repository.ts';
import type { MediaStorage } from '../media/storage.ts';
import type { FraudRules } from '../fraud/decide.ts';
import { raiseFlags } from '../fraud/handle.ts';
import { rejectSubmission } from '../verdicts/handle.ts';
import { checkAudio, decodeAudio } from './audio.ts';
import { decideAfterFault, decideScreening, MAX_SCREENING_ATTEMPTS, type ScreeningFacts } from './decide.ts';
import { checkImage, decodeImage, perceptualHash } from './image.ts';
import { hasNearCopy, storePhotoHash } from './near-copy.ts';
import type { PrevalidationReason } from './reasons.ts';
import { checkText, normalizedTextHash } from './text.ts';

type Trx = Transaction<SubmissionsDB>;

export interface ScreeningDeps {
  db: Kysely<SubmissionsDB>;
  storage: MediaStorage;
  clock: Clock;
  logger: Logger;
  minImageSide: { width: number; height: number };
  fraud: FraudRules;
}

/** How many waiting hand-ins one transaction screens: one commit, and each campaign's lock taken once. */
export const SCREENING_BATCH = 10;

/**
 * Screens the hand-ins waiting for pre-validation, oldest first, up to `batch` in one transaction
 * (rows are locked with SKIP LOCKED, so several workers share the queue). A pass moves the
 * submission to review and publishes `submissions.submission.validated.v1` (references, not the
 * work); a failure rejects it with reasons the contributor can read. A fault of ours undoes its
 * whole batch, which is then screened again one at a time (what its recordings and photos were
 * found to be is kept, not decoded again): the faulty hand-in has its attempt
 * counted and waits (`decideAfterFault`), and the run goes on with the hand-ins behind it. A run
 * handles at most `limit` hand-ins, faults included, so an outage cannot make it spin. Returns how
 * many it screened.
 */
export async function screenWaiting(
  deps: ScreeningDeps,
  limit = 20,
  batch = SCREENING_BATCH,
): Promise<number> {
  let screened = 0;
  let faults = 0;
  let size = batch;
  // What each recording or photo was found to be, for the run (at most `limit` hand-ins and a batch),
  // so that when a batch is undone, the hand-ins before the faulty one are not read and decoded twice.
  const analysed: AnalysedMedia = new Map();
  while (screened + faults < limit) {
    let count: number;
    try {
      count = await screenBatch(deps, Math.min(size, limit - screened - faults), analysed);
    } catch (error) {
      if (!(error instanceof ScreeningFault)) throw error;
      if (size > 1) {
        size = 1;
        continue;
      }
      await countFailedAttempt(deps, error);
      faults += 1;
      size = batch;
      continue;
    }
    if (count === 0) break;
    screened += count;
  }
  return screened;
}

/**
 * A media item's findings by media id. What a recording or a photo is does not change (media are
 * immutable, content-addressed), and the task's terms do not within a run of seconds.
 */
type AnalysedMedia = Map<string, { reasons: PrevalidationReason[]; hash: string | null }>;

async function screenBatch(deps: ScreeningDeps, size: number, analysed: AnalysedMedia): Promise<number> {
  const now = deps.clock();
  return deps.db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('submissions')
      .selectAll()
      .where('status', '=', 'received')
      .where((eb) => eb.or([eb('screening_retry_at', 'is', null), eb('screening_retry_at', '<=', now)]))
      .orderBy('submitted_at')
      .limit(size)
      .forUpdate()
      .skipLocked()
      .execute();
    await lockBatch(trx, rows);
    const batch = await batchFacts(trx, rows);
    // Campaign by campaign, each campaign's hand-ins oldest first (the sort is stable).
    const ordered = [...rows].sort((a, b) =>
      a.campaign_id < b.campaign_id ? -1 : a.campaign_id > b.campaign_id ? 1 : 0,
    );
    for (const row of ordered) await screenOne(trx, deps, row, batch, analysed);
    // The passes' announcements, in the order screened, in one statement.
    await appendToOutbox(trx, batch.validated);
    return rows.length;
  });
}

type TaskView = Selectable<SubmissionsDB['task_views']>;
type MediaOfHandIn = {
  id: string;
  kind: 'audio' | 'image';
  sha256: string;
  content_type: string;
  storage_key: string;
};

/**
 * What a batch's screening reads of each hand-in's task, media and claim, read for the whole batch
 * at once (three statements, not three per hand-in); and the `validated` events of its passes,
 * written together at the end.
 */
interface BatchFacts {
  tasks: Map<string, TaskView>;
  media: Map<string, MediaOfHandIn[]>;
  judging: Map<string, { judge_fee_amount: string | number; max_judges: number; currency: string }>;
  validated: TesseraEvent[];
}

async function batchFacts(trx: Trx, rows: readonly SubmissionRow[]): Promise<BatchFacts> {
  const facts: BatchFacts = { tasks: new Map(), media: new Map(), judging: new Map(), validated: [] };
  if (rows.length === 0) return facts;
  // One connection: the three reads go one after another.
  const tasks = await trx
    .selectFrom('task_views')
    .selectAll()
    .where('id', 'in', [...new Set(rows.map((row) => row.task_id))])
    .execute();
  const media = await trx
    .selectFrom('media')
    .select(['id', 'kind', 'sha256', 'content_type', 'storage_key', 'submission_id'])
    .where(
      'submission_id',
      'in',
      rows.map((row) => row.id),
    )
    .execute();
  const claims = await trx
    .selectFrom('claims')
    .select(['id', 'judge_fee_amount', 'max_judges', 'currency'])
    .where('id', 'in', [...new Set(rows.map((row) => row.assignment_id))])
    .execute();
  for (const task of tasks) facts.tasks.set(task.id, task);
  for (const { submission_id: submissionId, ...item } of media) {
    const list = facts.media.get(submissionId!) ?? [];
    list.push(item);
    facts.media.set(submissionId!, list);
  }
  for (const { id, ...claim } of claims) facts.judging.set(id, claim);
  return facts;
}

/**
 * Takes every lock the batch's screening needs, at once and in one order (by key), before any of it
 * is screened. Each campaign's: its hand-ins are screened one at a time (across instances too), each
 * comparing itself with the hashes the others committed, so two copies screened at once cannot both
 * pass. And each first hand-in's contributor's: fraud flags of some signals are stored once per
 * contributor and day, and two batches inserting the same flag wait on each other (a revision
 * raises only a flag of its own submission, so takes none). Taken as a batch
 * went, two instances' batches could each hold a campaign and wait crosswise on a contributor's
 * flag: a deadlock.
 */
async function lockBatch(trx: Trx, rows: readonly SubmissionRow[]): Promise<void> {
  await lockNames(trx, [
    ...rows.map((row) => `screening:${row.campaign_id}`),
    ...rows.filter((row) => row.revision === 1).map((row) => `screening-fraud:${row.contributor_id}`),
  ]);
}

async function screenOne(
  trx: Trx,
  deps: ScreeningDeps,
  row: SubmissionRow,
  batch: BatchFacts,
  analysed: AnalysedMedia,
): Promise<void> {
  try {
    await screen(trx, deps, row, batch, analysed);
  } catch (error) {
    // The database going away or rolling us back for a collision is no fault of this hand-in: the
    // run ends, and the next one screens it again without counting an attempt against it.
    if (isDatabaseUnavailable(error) || isTransientConflict(error)) throw error;
    throw new ScreeningFault(row, error);
  }
}

async function screen(
  trx: Trx,
  deps: ScreeningDeps,
  row: SubmissionRow,
  batch: BatchFacts,
  analysed: AnalysedMedia,
): Promise<void> {
  const now = deps.clock();
  // The campaign's and the contributor's locks are held (lockBatch). Every version is looked at for
  // shared content; only the first hand-in under a claim says how fast and how often someone works.
  await raiseFlags(trx, row, deps.fraud, now);
  const task = batch.tasks.get(row.task_id);
  if (!task) throw new Error(`the task ${row.task_id} of submission ${row.id} is not known here`);
  const media = batch.media.get(row.id) ?? [];
  const input = task.input as TaskInput;
  const checkReasons: PrevalidationReason[] = [];
  let hash: string | null = null;
  let textHash: string | null = null;
  let nearDuplicateImage = false;
  let duplicateText = false;

  for (const item of media) {
    let found = analysed.get(item.id);
    if (found === undefined) {
      found = await analyseMedia(deps, item, input);
      analysed.set(item.id, found);
    }
    checkReasons.push(...found.reasons);
    if (found.hash !== null) {
      hash = found.hash;
      nearDuplicateImage = await hasNearCopy(trx, row, hash);
    }
  }
  const payload = row.payload as { text?: unknown };
  if (row.task_type === 'text' && typeof payload.text === 'string') {
    checkReasons.push(...checkText(payload.text, { language: (input as TaskInput<'text'>).language }));
    textHash = normalizedTextHash(payload.text);
    const same = await trx
      .selectFrom('submissions')
      .select('id')
      .where('campaign_id', '=', row.campaign_id)
      .where('text_hash', '=', textHash)
      .where('id', '!=', row.id)
      .where('status', '!=', 'rejected')
      .executeTakeFirst();
    duplicateText = same !== undefined;
  }
  const exact =
    row.content_sha256 === null
      ? undefined
      : await trx
          .selectFrom('submissions')
          .select('id')
          .where('content_sha256', '=', row.content_sha256)
          // Content handed in before this version's (a revision keeps its first hand-in's
          // created_at, so that would let a revision copy anything handed in after it).
          .where(contentHeldBefore(row))
          .executeTakeFirst();
  const facts: ScreeningFacts = {
    checkReasons,
    exactDuplicate: exact !== undefined,
    nearDuplicateImage,
    duplicateText,
  };
  const outcome = decideScreening(facts);
  // A revision may replace (or drop) the hash its first hand-in stored.
  await storePhotoHash(trx, row, hash);
  const hashes = { perceptual_hash: hash, text_hash: textHash };
  if (!outcome.pass) {
    await rejectSubmission(trx, row, outcome.reasons, 'pre_validation', now, null, hashes);
    return;
  }
  await passToReview(trx, row, hashes, now);
  batch.validated.push(validatedEvent(row, task, media, batch.judging.get(row.assignment_id), now));
}

/** Reads and decodes one recording or photo: what the task's terms find wrong with it, and a photo's hash. */
async function analyseMedia(
  deps: ScreeningDeps,
  item: { kind: 'audio' | 'image'; content_type: string; storage_key: string },
  input: TaskInput,
): Promise<{ reasons: PrevalidationReason[]; hash: string | null }> {
  const bytes = await readAll(deps.storage, item.storage_key);
  if (item.kind === 'audio') {
    const { min_duration_s, max_duration_s } = input as TaskInput<'audio'>;
    // Decoding stops once the recording is past the task's maximum: it is too long either way.
    const audio = await decodeAudio(bytes, item.content_type, { maxDurationS: max_duration_s });
    return {
      reasons: checkAudio(audio, { minDurationS: min_duration_s, maxDurationS: max_duration_s }),
      hash: null,
    };
  }
  const image = await decodeImage(bytes);
  return {
    reasons: checkImage(image, { minWidth: deps.minImageSide.width, minHeight: deps.minImageSide.height }),
    hash: image.kind === 'image' ? perceptualHash(image) : null,
  };
}

/** A pass: to review, with the hashes screening found (the caller writes the `validated` event). */
async function passToReview(
  trx: Trx,
  row: SubmissionRow,
  hashes: { perceptual_hash?: string | null; text_hash?: string | null },
  now: Date,
): Promise<void> {
  await trx
    .updateTable('submissions')
    .set({ ...hashes, status: 'in_review', updated_at: now })
    .where('id', '=', row.id)
    .execute();
}

/** `submissions.submission.validated.v1`: references to the work, what judging it takes and pays. */
function validatedEvent(
  row: SubmissionRow,
  task: { company_id: string; judges_required: number; is_golden: boolean },
  media: readonly { id: string; kind: 'audio' | 'image'; sha256: string }[],
  judging: { judge_fee_amount: string | number; max_judges: number; currency: string } | undefined,
  now: Date,
): TesseraEvent {
  return buildEvent(
    'submissions.submission.validated.v1',
    {
      submission_id: row.id,
      assignment_id: row.assignment_id,
      task_id: row.task_id,
      campaign_id: row.campaign_id,
      contributor_id: row.contributor_id,
      company_id: task.company_id,
      task_type: row.task_type as 'text',
      revision: row.revision,
      judges_required: task.judges_required,
      ...(judging
        ? {
            judge_fee: { amount: Number(judging.judge_fee_amount), currency: judging.currency },
            max_judges: Math.max(judging.max_judges, task.judges_required),
          }
        : {}),
      is_golden: task.is_golden,
      answer: (row.answer as Record<string, unknown> | null) ?? null,
      media: media.map((m) => ({ media_id: m.id, kind: m.kind, sha256: m.sha256 })),
      submitted_at: new Date(row.submitted_at).toISOString(),
    },
    { subject: row.id, time: now },
  );
}

/**
 * A fault of ours (storage, decoder) while screening: counted in its own transaction (the
 * screening one was rolled back), and the hand-in waits before its next attempt; after
 * MAX_SCREENING_ATTEMPTS the work goes to people unscreened.
 */
async function countFailedAttempt(deps: ScreeningDeps, fault: ScreeningFault): Promise<void> {
  deps.logger.error({ err: fault.cause, submission_id: fault.row.id }, 'pre-validation failed; will retry');
  await deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('submissions')
      .selectAll()
      .where('id', '=', fault.row.id)
      .where('status', '=', 'received')
      .forUpdate()
      .executeTakeFirst();
    if (!row) return;
    const task = await trx
      .selectFrom('task_views')
      .selectAll()
      .where('id', '=', row.task_id)
      .executeTakeFirst();
    const now = deps.clock();
    const attempts = row.screening_attempts + 1;
    const next = decideAfterFault(attempts, now, task !== undefined);
    await trx
      .updateTable('submissions')
      .set({ screening_attempts: attempts, screening_retry_at: next.retry ? next.at : null })
      .where('id', '=', row.id)
      .execute();
    if (next.retry) {
      if (attempts >= MAX_SCREENING_ATTEMPTS) {
        deps.logger.error(
          { submission_id: row.id, task_id: row.task_id },
          'pre-validation keeps failing and the task is unknown here; the work waits',
        );
      }
      return;
    }
    deps.logger.error(
      { submission_id: row.id },
      'pre-validation keeps failing; passing the work to review unscreened',
    );
    const media = await trx
      .selectFrom('media')
      .select(['id', 'kind', 'sha256'])
      .where('submission_id', '=', row.id)
      .execute();
    const judging = await trx
      .selectFrom('claims')
      .select(['judge_fee_amount', 'max_judges', 'currency'])
      .where('id', '=', row.assignment_id)
      .executeTakeFirst();
    await passToReview(trx, row, {}, now);
    await appendToOutbox(trx, [validatedEvent(row, task!, media, judging, now)]);
  });
}

export class ScreeningFault extends Error {
  constructor(
    readonly row: SubmissionRow,
    cause: unknown,
  ) {
    super(`screening ${row.id} failed`, { cause });
  }
}

async function readAll(storage: MediaStorage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
