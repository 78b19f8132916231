import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Archiver, CoreOptions, ZipOptions } from 'archiver';
import { checksumLine } from './decide.ts';
import type { BundleFile } from './repository.ts';

// archiver 7 (installed) exports a factory, `archiver('zip', options)`; @types/archiver 8 describes
// archiver 8's classes instead, so the factory is typed here by hand.
const archiver = createRequire(import.meta.url)('archiver') as (
  format: 'zip',
  options?: CoreOptions & ZipOptions,
) => Archiver;

export class MediaChanged extends Error {
  override readonly name = 'MediaChanged';
  constructor(readonly path: string) {
    super(`the stored bytes of ${path} are not those the bundle recorded`);
  }
}

export interface BundleArchiveSource {
  /** Every entry is dated so, which makes the same bundle yield the same archive. */
  createdAt: Date;
  manifestSha256: string;
  /** The manifest's lines, without their newlines, read a batch at a time. */
  manifest: AsyncIterable<string>;
  media: readonly BundleFile[];
  /** A stored object's bytes (the media storage's `get`). */
  open(storageKey: string): Promise<Readable>;
}

/**
 * One zip archive of a bundle: `manifest.jsonl`, `checksums.sha256` (sha256sum's format, for the
 * manifest and every media file) and `media/<sha256>.<ext>`. Nothing is held whole: the manifest
 * comes from the database a batch at a time, and each media file is opened only when its turn
 * comes, streamed through and checked against the SHA-256 and size the bundle recorded (a file
 * that changed in the store fails the archive rather than shipping bytes the checksums disown).
 * Media are stored uncompressed (they already are); the text is deflated.
 */
export function bundleArchive(source: BundleArchiveSource): Archiver {
  const zip = archiver('zip', { zlib: { level: 6 } });
  const date = source.createdAt;
  const open = new Set<Readable>();
  const lazy = (produce: () => AsyncGenerator<Buffer>): Readable => {
    const stream = Readable.from(produce(), { objectMode: false });
    open.add(stream);
    stream.once('close', () => open.delete(stream));
    // archiver reads a source through a pipe, which does not pass errors on: fail the archive here
    // (the reply then cuts the response off), or the error would go unhandled.
    stream.once('error', (error) => zip.destroy(error));
    return stream;
  };

  zip.append(
    lazy(async function* () {
      for await (const line of source.manifest) yield Buffer.from(`${line}\n`, 'utf8');
    }),
    { name: 'manifest.jsonl', date },
  );
  zip.append(
    lazy(async function* () {
      yield Buffer.from(checksumLine(source.manifestSha256, 'manifest.jsonl'), 'utf8');
      for (const file of source.media) yield Buffer.from(checksumLine(file.sha256, file.path), 'utf8');
    }),
    { name: 'checksums.sha256', date },
  );
  // archiver pipes every appended stream into a buffer at once: media are appended one at a time,
  // each when the entry before it is done, so that a single file is open and read at any moment.
  const waiting = [...source.media];
  let appended = 2;
  let done = 0;
  const feed = () => {
    const file = waiting.shift();
    if (!file) {
      // A failure reaches the reply as the archive's 'error'; the promise would only repeat it.
      zip.finalize().catch(() => undefined);
      return;
    }
    appended++;
    zip.append(
      lazy(async function* () {
        const body = await source.open(file.storageKey);
        const hash = createHash('sha256');
        let bytes = 0;
        for await (const chunk of body as AsyncIterable<Buffer>) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
        if (bytes !== file.bytes || hash.digest('hex') !== file.sha256) throw new MediaChanged(file.path);
      }),
      { name: file.path, date, store: true },
    );
  };
  zip.on('entry', () => {
    done++;
    if (done === appended) feed();
  });
  // The client went away (the reply destroys the archive) or a file failed: stop reading the rest.
  const stop = () => {
    for (const stream of open) stream.destroy();
  };
  zip.once('close', stop);
  zip.once('error', stop);
  return zip;
}
