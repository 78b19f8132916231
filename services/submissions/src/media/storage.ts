import { type Readable, Transform, type TransformCallback } from 'node:stream';

/** Bytes `start` to `end` of an object, both inclusive (as in HTTP's Content-Range). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  /** Stored with the object where the store keeps it (S3); served from our own row otherwise. */
  contentType?: string;
}

export interface PresignOptions {
  expiresInSeconds: number;
  /** The Content-Type the store answers with (S3 `ResponseContentType`). */
  contentType?: string;
  /** The Cache-Control the store answers with (S3 `ResponseCacheControl`). */
  cacheControl?: string;
}

/**
 * Where media bytes live. Keys are ours (`media/ab/<uuid>`): lowercase letters, digits, `/`, `.`,
 * `_` and `-`, no empty or dot segments. Every adapter passes `storage.contract.int.spec.ts`.
 */
export interface MediaStorage {
  readonly kind: 'local' | 's3';
  /**
   * Stores `body` under `key` and answers the number of bytes written. The object appears only
   * once the body has ended without error: when `body` fails (or the store does), nothing is left
   * under `key`, not even part of it, and the promise rejects with the body's error.
   */
  put(key: string, body: Readable, options?: PutOptions): Promise<{ bytes: number }>;
  /** The object's bytes (or a range of them). Rejects with `MediaObjectMissing` when there is none. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** The object's size, or null when there is none. */
  stat(key: string): Promise<{ bytes: number } | null>;
  /** Removes the object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  /** A short-lived URL that reads the object without our service in between (S3 only). */
  presignedGetUrl?(key: string, options: PresignOptions): Promise<string>;
  close?(): Promise<void>;
}

export class MediaObjectMissing extends Error {
  override readonly name = 'MediaObjectMissing';
  constructor(readonly key: string) {
    super(`no media object under ${key}`);
  }
}

const KEY = /^[a-z0-9_-][a-z0-9._-]*(\/[a-z0-9_-][a-z0-9._-]*)*$/;

/** Throws unless `key` is one of ours: nothing that could leave the store's root. */
export function assertMediaKey(key: string): void {
  // No segment starts with a dot, so none is `.` or `..`.
  if (key.length > 512 || !KEY.test(key)) {
    throw new Error(`not a media key: ${JSON.stringify(key)}`);
  }
}

/** Passes bytes through and counts them (what an adapter's `put` answers). */
export class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}
