import { createHash, randomUUID } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { type Clock, type Logger, orRefuse, Refusal, refuse } from '@tessera/service-kit';
import { fileTypeFromBuffer } from 'file-type';
import type { Kysely } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import { decideFormat, decideSize, type MediaFormat, type MediaLimits } from './decide.ts';
import { insertMedia, type MediaRow } from './repository.ts';
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
