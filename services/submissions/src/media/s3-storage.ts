import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertMediaKey, ByteCounter, MediaObjectMissing, type MediaStorage } from './storage.ts';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server (MinIO); AWS itself when unset. */
  endpoint?: string | undefined;
  /** The endpoint clients reach for presigned URLs, when it differs from ours (MinIO behind Docker). */
  publicEndpoint?: string | undefined;
  /** Path-style URLs (`endpoint/bucket/key`), as MinIO and most S3-compatible servers want. */
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  /** How long connecting may take, ms. */
  connectTimeoutMs?: number;
  /** How long a connection may carry nothing either way before the request fails, ms. */
  idleTimeoutMs?: number;
}

/** Without them, a store that accepts a connection and never answers holds the caller for ever. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Parts of a multipart upload: 5 MiB is S3's minimum; at most `QUEUE` parts are in memory at once. */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE = 2;

/**
 * Media in S3-compatible object storage, with the official AWS SDK v3. A body of unknown length is
 * streamed with lib-storage's `Upload` (one PUT when small, a multipart upload otherwise); a failed
 * body aborts it, so no object and no orphaned parts remain.
 */
export function s3MediaStorage(options: S3StorageOptions): MediaStorage {
  const base: S3ClientConfig = {
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    // Checksums only where S3 requires them: S3-compatible servers do not all take the newer
    // streaming checksum trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // An idle limit, not a total one: a large part on a slow link may take long, but never silently.
    // Each attempt fails with a TimeoutError and the SDK retries it (3 attempts in all).
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      socketTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    },
  };
  const client = new S3Client({ ...base, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  // Signing needs no connection: a second client only to sign URLs for the public endpoint.
  const signer = options.publicEndpoint
    ? new S3Client({ ...base, endpoint: options.publicEndpoint })
    : client;
  const Bucket = options.bucket;

  return {
    kind: 's3',

    async put(key, body, putOptions = {}) {
      assertMediaKey(key);
      const counter = new ByteCounter();
      let bodyFailure: unknown;
      const feeding = pipeline(body, counter).catch((error: unknown) => {
        bodyFailure ??= error;
        throw error;
      });
      const upload = new Upload({
        client,
        params: {
          Bucket,
          Key: key,
          Body: counter,
          ...(putOptions.contentType ? { ContentType: putOptions.contentType } : {}),
        },
        partSize: PART_SIZE,
        queueSize: QUEUE,
        leavePartsOnError: false,
      });
      try {
        await Promise.all([upload.done(), feeding]);
        return { bytes: counter.bytes };
      } catch (error) {
        // The body's own failure (a refusal, a broken upload) explains more than the SDK's.
        const cause = bodyFailure ?? error;
        feeding.catch(() => undefined);
        counter.destroy();
        await upload.abort().catch(() => undefined);
        // Should the object have been completed before the body's failure was seen.
        await client.send(new DeleteObjectCommand({ Bucket, Key: key })).catch(() => undefined);
        throw cause;
      }
    },

    async get(key, range) {
      assertMediaKey(key);
      try {
        const object = await client.send(
          new GetObjectCommand({
            Bucket,
            Key: key,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        );
        const body = object.Body as Readable;
        if (!range) return body;
        // A server that answers more than the range asked (some S3-compatible ones ignore a Range,
        // or mis-read `bytes=0-0`) is cut down to it, so a 206 never carries the wrong bytes.
        const served = /^bytes (\d+)-(\d+)\//.exec(object.ContentRange ?? '');
        const from = served ? Number(served[1]) : 0;
        const to = served ? Number(served[2]) : from + (object.ContentLength ?? 0) - 1;
        if (from === range.start && to === range.end) return body;
        if (from > range.start || to < range.end) {
          body.destroy();
          throw new Error(`S3 answered bytes ${from}-${to} for ${range.start}-${range.end} of ${key}`);
        }
        return body.pipe(new Slice(range.start - from, range.end - range.start + 1));
      } catch (error) {
        if (isMissing(error)) throw new MediaObjectMissing(key);
        throw error;
      }
    },

    async stat(key) {
      assertMediaKey(key);
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { bytes: head.ContentLength ?? 0 };
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },

    async delete(key) {
      assertMediaKey(key);
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },

    async presignedGetUrl(key, { expiresInSeconds, contentType, cacheControl }) {
      assertMediaKey(key);
      return getSignedUrl(
        signer,
        new GetObjectCommand({
          Bucket,
          Key: key,
          ...(contentType ? { ResponseContentType: contentType } : {}),
          ...(cacheControl ? { ResponseCacheControl: cacheControl } : {}),
        }),
        { expiresIn: expiresInSeconds },
      );
    },

    async close() {
      client.destroy();
      if (signer !== client) signer.destroy();
    },
  };
}

/** Skips `skip` bytes, passes `take`, and drops the rest. */
class Slice extends Transform {
  constructor(
    private toSkip: number,
    private toPass: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let part = chunk;
    if (this.toSkip > 0) {
      const skipped = Math.min(this.toSkip, part.length);
      this.toSkip -= skipped;
      part = part.subarray(skipped);
    }
    if (this.toPass > 0 && part.length > 0) {
      const taken = part.subarray(0, this.toPass);
      this.toPass -= taken.length;
      callback(null, taken);
      return;
    }
    callback();
  }
}

function isMissing(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}
