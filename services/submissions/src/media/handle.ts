import { createHash, randomUUID } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import {
  type Clock,
  countedAndParked,
  eachOnItsOwn,
  type JobMetrics,
  type Logger,
  orRefuse,
  Refusal,
  refuse,
} from '@tessera/service-kit';
import { fileTypeFromBuffer } from 'file-type';
import type { Kysely } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import {
  decideFormat,
  decideSize,
  isOrphaned,
  type MediaFormat,
  type MediaLimits,
  orphanedBefore,
} from './decide.ts';
import {
  deleteMediaRow,
  forgetExpiredMedia,
  forgetMediaDeletion,
  insertMedia,
  lockMediaUnlessHeld,
  type MediaDeletion,
  type MediaRow,
  orphanedMedia,
  pendingMediaDeletions,
} from './repository.ts';
import type { MediaStorage } from './storage.ts';

export interface MediaDeps {
  db: Kysely<SubmissionsDB>;
  clock: Clock;
  storage: MediaStorage;
  limits: MediaLimits;
  logger: Logger;
}

export interface UploadRequest {
  uploaderId: string;
  /** The file's bytes as they arrive (a multipart part's stream). */
  file: Readable;
}

/** Where a media item's bytes live in the store: spread over 256 folders by the id's first byte. */
export const storageKeyOf = (id: string) => `media/${id.slice(0, 2)}/${id}`;

/**
 * Takes an upload: streams the file through an inspection (its type sniffed from the first bytes,
 * its SHA-256 and size counted, its kind's limit enforced) into the store, then records the row.
 * The file is never held whole in memory. On any failure (a refused type, a file over its limit,
 * a body that breaks off, the store or the database failing) nothing is left: no file, no row.
 */
export async function uploadMedia(deps: MediaDeps, request: UploadRequest): Promise<MediaRow> {
  const id = randomUUID();
  const key = storageKeyOf(id);
  const inspection = new Inspection(deps.limits);
  const source = watch(request.file, inspection);
  try {
    const stored = await deps.storage.put(key, inspection);
    const format = inspection.format;
    if (!format || stored.bytes !== inspection.bytes) {
      throw new Error(`the store wrote ${stored.bytes} of ${inspection.bytes} bytes of ${key}`);
    }
    return await insertMedia(deps.db, {
      id,
      uploader_id: request.uploaderId,
      kind: format.kind,
      content_type: format.contentType,
      bytes: inspection.bytes,
      sha256: inspection.sha256(),
      storage_key: key,
      submission_id: null,
      created_at: deps.clock(),
    });
  } catch (error) {
    source.stop();
    inspection.destroy();
    await deps.storage.delete(key).catch((cleanup: unknown) => {
      deps.logger.error({ err: cleanup, key }, 'could not remove the file of a failed upload');
    });
    if (inspection.refusal) throw inspection.refusal;
    if (source.failure) {
      throw refuse.invalid(
        'MALFORMED_MULTIPART',
        'The upload ended before the file did (a truncated or malformed multipart body); send it again.',
      );
    }
    throw error;
  }
}

/**
 * Pipes the upload into the inspection and tells a failure of the upload itself (a body cut short,
 * a client gone) from ours: the upload's own error or early close is the client's doing, while
 * `stop()` (after the inspection or the store failed) ends it without blaming anyone.
 */
function watch(file: Readable, into: Transform): { readonly failure: unknown; stop(): void } {
  let failure: unknown;
  let stopped = false;
  // The store reads the inspection and sees its failure; this only keeps one that comes before the
  // store has started reading from being unhandled.
  into.on('error', () => undefined);
  file.on('error', (error) => {
    if (!stopped) failure ??= error;
    into.destroy(error);
  });
  file.on('close', () => {
    if (file.readableEnded || stopped) return;
    failure ??= new Error('the upload broke off');
    into.destroy(failure as Error);
  });
  file.pipe(into);
  return {
    get failure() {
      return failure;
    },
    stop() {
      stopped = true;
      file.unpipe(into);
      // The rest of the body is not read: the route closes the connection after answering.
      file.destroy();
    },
  };
}

/** file-type's own figure: most formats show themselves in this many first bytes. */
const SNIFF_BYTES = 4100;

/**
 * Passes a file through unchanged while it learns what it is: holds back the first bytes until
 * file-type has recognised them (and refuses what we do not take), hashes and counts every byte,
 * and fails the stream with a refusal as soon as the file crosses its kind's limit.
 */
class Inspection extends Transform {
  bytes = 0;
  format: MediaFormat | null = null;
  refusal: Refusal | null = null;
  private readonly hash = createHash('sha256');
  private head: Buffer[] = [];
  private headBytes = 0;

  constructor(private readonly limits: MediaLimits) {
    super();
  }

  sha256(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.absorb(chunk).then(
      () => callback(),
      (error: Error) => callback(this.failed(error)),
    );
  }

  override _flush(callback: TransformCallback): void {
    (this.format ? Promise.resolve() : this.recognise()).then(
      () => callback(),
      (error: Error) => callback(this.failed(error)),
    );
  }

  private async absorb(chunk: Buffer): Promise<void> {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    if (this.format) {
      orRefuse(decideSize(this.format, this.limits, this.bytes));
      this.push(chunk);
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes >= SNIFF_BYTES) await this.recognise();
    else orRefuse(decideSize(null, this.limits, this.bytes));
  }

  private async recognise(): Promise<void> {
    const head = Buffer.concat(this.head);
    this.head = [];
    const sniffed = head.length > 0 ? await fileTypeFromBuffer(head.subarray(0, SNIFF_BYTES)) : undefined;
    this.format = orRefuse(decideFormat(this.limits, { sniffed, length: head.length }));
    orRefuse(decideSize(this.format, this.limits, this.bytes));
    this.push(head);
  }

  private failed(error: Error): Error {
    if (error instanceof Refusal) this.refusal ??= error;
    return error;
  }
}

export interface SweepDeps {
  db: Kysely<SubmissionsDB>;
  storage: MediaStorage;
  /** How long an upload no submission holds is kept (SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS). */
  orphanTtlHours: number;
  logger?: Logger | undefined;
  /** The job's metrics and parking (`counted`); without it (a test, a script) nothing is parked. */
  counted?: { job: string; metrics: JobMetrics } | undefined;
  /** Items of each kind taken per run (objects left to remove, then new orphans). */
  limit?: number;
}

/** Media items each run takes of each kind; a run that removed as many is followed by another. */
export const MEDIA_SWEEP_RUN = 100;

/**
 * Store failures in a row after which a run stops touching the store: the store is failing, not an
 * item (S3 answering 5xx or refusing our credentials), and going on would only count (and park) a
 * failure against every item. The next run tries again. An unreachable store already ends a run (the
 * kit's `eachOnItsOwn` takes a refused or reset connection for the database's).
 */
const STORE_FAILING_AFTER = 3;

/** How long a removed upload is remembered, to tell a late hand-in it expired (MEDIA_EXPIRED). */
const EXPIRED_REMEMBERED_DAYS = 30;

/**
 * The media sweep: removes the uploads no submission holds, made more than `orphanTtlHours` before
 * `now` (`isOrphaned`), row and stored object, and answers how many it removed.
 *
 * Each item on its own (`eachOnItsOwn`: one that fails is logged, counted, and parked after the
 * kit's threshold; the others go on). In one transaction the row is locked, skipped when a hand-in
 * holds it (`skip locked`), looked at again under the lock (a hand-in may have attached it since it
 * was listed), deleted, and its object recorded in `media_deletions`; only once that has committed is
 * the object removed, then the record. So a row never points to a removed object: a hand-in either
 * locked the row first (it keeps the item) or finds no row (422 MEDIA_NOT_FOUND). An object whose
 * removal fails is retried from its record at the next runs (first in each run), and parked by its
 * media id like an item that keeps failing.
 */
export async function sweepOrphanedMedia(deps: SweepDeps, now: Date): Promise<number> {
  const { db, counted } = deps;
  const limit = deps.limit ?? MEDIA_SWEEP_RUN;
  const failed = {
    logger: deps.logger,
    message: 'sweeping an orphaned media item failed; the others go on',
    describe: (item: { media_id: string }) => ({ media_id: item.media_id }),
    ...countedAndParked(counted, db, (item: { media_id: string }) => item.media_id),
  };
  let storeFailures = 0;
  const storeFailing = () => storeFailures >= STORE_FAILING_AFTER;
  const removeObject = async (deletion: MediaDeletion): Promise<boolean> => {
    try {
      // Idempotent: an object already gone (a run that failed after removing it) is no error.
      await deps.storage.delete(deletion.storage_key);
    } catch (error) {
      storeFailures += 1;
      throw error;
    }
    storeFailures = 0;
    await forgetMediaDeletion(db, deletion.media_id);
    return true;
  };

  // Objects a run before could not remove; their rows are already gone.
  const pending = await pendingMediaDeletions(db, { limit, parkedBy: counted?.job });
  const retried = await eachOnItsOwn(
    pending,
    (deletion) => (storeFailing() ? Promise.resolve(false) : removeObject(deletion)),
    failed,
  );

  const before = orphanedBefore(now, deps.orphanTtlHours);
  const due = await orphanedMedia(db, before, { limit, parkedBy: counted?.job });
  const swept = await eachOnItsOwn(
    due.map(({ id }) => ({ media_id: id })),
    async ({ media_id }) => {
      if (storeFailing()) return false;
      const deletion = await db.transaction().execute(async (trx) => {
        const row = await lockMediaUnlessHeld(trx, media_id);
        // The rule again, on the row as it is now: a hand-in may have attached it since it was listed.
        const orphan = row !== null && isOrphaned(mediaState(row), now, deps.orphanTtlHours);
        return orphan ? deleteMediaRow(trx, row, now) : null;
      });
      return deletion ? removeObject(deletion) : false;
    },
    failed,
  );
  await forgetExpiredMedia(db, new Date(now.getTime() - EXPIRED_REMEMBERED_DAYS * 86_400_000), limit);
  if (storeFailing()) {
    deps.logger?.warn(
      { failures: storeFailures },
      'the media store keeps failing to remove objects; this sweep stops, the next one tries again',
    );
  }
  return [...retried, ...swept].filter(Boolean).length;
}

const mediaState = (row: MediaRow) => ({
  submissionId: row.submission_id,
  createdAt: new Date(row.created_at),
});
