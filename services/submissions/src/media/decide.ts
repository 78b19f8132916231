import {
  accept,
  type Decision,
  decideCompanyAccess,
  type Membership,
  type Principal,
  refusal,
  refuse,
  reject,
} from '@tessera/service-kit';
import { submissionsAccess } from '../listing/access.ts';

/**
 * The rules of media, pure: which files we take (by the type their bytes show, never by what the
 * client says), how large each kind may be, which bytes a Range asks for, and who may read a file.
 */

export const mediaKinds = ['audio', 'image'] as const;
export type MediaKind = (typeof mediaKinds)[number];

/** The largest file of each kind, in bytes (MEDIA_MAX_AUDIO_BYTES, MEDIA_MAX_IMAGE_BYTES). */
export type MediaLimits = Record<MediaKind, number>;

/** What file-type recognised in a file's first bytes (`fileTypeFromBuffer`). */
export interface Sniffed {
  ext: string;
  mime: string;
}

/** What we take, by file-type's extension: the kind and the Content-Type we store and serve. */
export const acceptedFormats: Readonly<Record<string, { kind: MediaKind; contentType: string }>> = {
  wav: { kind: 'audio', contentType: 'audio/wav' },
  mp3: { kind: 'audio', contentType: 'audio/mpeg' },
  ogg: { kind: 'audio', contentType: 'audio/ogg' },
  opus: { kind: 'audio', contentType: 'audio/ogg' },
  // file-type names every WebM video/webm: an audio-only one cannot be told apart from its first
  // bytes. We take it as audio; decoding (pre-validation) finds one that is not.
  webm: { kind: 'audio', contentType: 'audio/webm' },
  flac: { kind: 'audio', contentType: 'audio/flac' },
  // Not M4A (AAC): the only AAC decoders for Node without native code are GPL; refused at upload,
  // so a contributor learns at once rather than at pre-validation.
  jpg: { kind: 'image', contentType: 'image/jpeg' },
  png: { kind: 'image', contentType: 'image/png' },
  webp: { kind: 'image', contentType: 'image/webp' },
};

const ACCEPTED_IN_WORDS = 'audio (WAV, MP3, Ogg Vorbis/Opus, WebM Opus, FLAC) or an image (JPEG, PNG, WebP)';

export interface MediaFormat {
  kind: MediaKind;
  contentType: string;
  /** The largest file of this kind, in bytes. */
  limit: number;
}

export interface FirstBytes {
  /** What file-type made of them; undefined when it recognised nothing. */
  sniffed: Sniffed | undefined;
  /** How many there were (fewer than asked for only when the file is that short). */
  length: number;
}

/**
 * What a file is, from its first bytes: one of the accepted formats, with its kind's size limit.
 * Anything else is refused, however it was named or labelled (a ZIP called photo.png included).
 */
export function decideFormat(limits: MediaLimits, first: FirstBytes): Decision<MediaFormat> {
  if (first.length === 0) return reject(refuse.invalid('MEDIA_EMPTY', 'The file is empty.'));
  const format = first.sniffed ? acceptedFormats[first.sniffed.ext] : undefined;
  if (!format) {
    const what = first.sniffed
      ? `This file is ${first.sniffed.ext} (${first.sniffed.mime})`
      : 'The type of this file could not be recognised from its content';
    return reject(
      refusal('unsupported_media', 'MEDIA_TYPE_UNSUPPORTED', `${what}; upload ${ACCEPTED_IN_WORDS}.`, {
        ...(first.sniffed ? { detected: first.sniffed.mime } : {}),
      }),
    );
  }
  return accept({ ...format, limit: limits[format.kind] });
}

/** The largest file of any kind: what an upload may be before its kind is known. */
export function largestLimit(limits: MediaLimits): number {
  return Math.max(...mediaKinds.map((kind) => limits[kind]));
}

/** Room for the multipart envelope around the file (boundaries, part headers, a few small fields). */
export const MULTIPART_ENVELOPE_BYTES = 64 * 1024;

/**
 * An upload whose announced Content-Length cannot fit the largest file is refused before a byte
 * of it is read.
 */
export function decideAnnouncedLength(
  limits: MediaLimits,
  contentLength: number | undefined,
): Decision<void> {
  const most = largestLimit(limits) + MULTIPART_ENVELOPE_BYTES;
  if (contentLength === undefined || contentLength <= most) return accept(undefined);
  return reject(
    refusal('too_large', 'PAYLOAD_TOO_LARGE', `The upload is larger than the largest file we take.`, {
      limit_bytes: largestLimit(limits),
    }),
  );
}

/** A file crossing its kind's limit (or, before its kind is known, the largest) is refused. */
export function decideSize(format: MediaFormat | null, limits: MediaLimits, bytes: number): Decision<void> {
  const limit = format?.limit ?? largestLimit(limits);
  if (bytes <= limit) return accept(undefined);
  const what = format ? `${format.kind === 'audio' ? 'An audio file' : 'An image'}` : 'A file';
  return reject(
    refusal('too_large', 'MEDIA_TOO_LARGE', `${what} may be at most ${limit} bytes.`, {
      limit_bytes: limit,
      ...(format ? { kind: format.kind } : {}),
    }),
  );
}

/** Only contributors upload: media exist to be handed in with their work. */
export function decideUploader(principal: Principal): Decision<string> {
  if (principal.role !== 'contributor' || principal.companyId !== undefined) {
    return reject(refuse.forbidden('Only contributors upload media.'));
  }
  return accept(principal.userId.toLowerCase());
}

export const mediaNotFound = () => refuse.notFound('No such media.', 'MEDIA_NOT_FOUND');

/** Who stands around a media item: its uploader and, once handed in, its submission's readers. */
export interface MediaReaders {
  uploaderId: string;
  /** Set once the media is attached to a submission. */
  submission: { companyId: string; judgeIds: readonly string[] } | null;
  /** The caller's membership of the submission's company (company users only). */
  membership: Membership;
}

/**
 * Who may read a media item: its uploader; once attached to a submission, the members of that
 * submission's company (an API key with `submissions:read`), the judges QC assigned to it; admins.
 * Anyone else learns nothing, not even that it exists.
 */
export function decideReadMedia(readers: MediaReaders, principal: Principal): Decision<void> {
  const userId = principal.userId.toLowerCase();
  if (principal.companyId === undefined) {
    if (userId === readers.uploaderId) return accept(undefined);
    if (principal.role === 'admin') return accept(undefined);
    if (principal.role === 'contributor' && readers.submission?.judgeIds.includes(userId)) {
      return accept(undefined);
    }
  }
  if (!readers.submission) return reject(mediaNotFound());
  return decideCompanyAccess(
    principal,
    readers.submission.companyId,
    readers.membership,
    'read',
    submissionsAccess,
    mediaNotFound(),
  );
}

/** Which bytes to send for a Range header: all, one part, or none (416). */
export type RangeDecision =
  { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) of a file of `size` bytes. A header we do
 * not serve as a part (several ranges, another unit, a malformed one) is ignored and the whole file
 * sent, as RFC 9110 allows; a range that starts past the end is unsatisfiable.
 */
export function decideRange(size: number, header: string | undefined): RangeDecision {
  if (header === undefined) return { kind: 'whole' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  const [, first = '', last = ''] = match;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'part', start, end };
}

const HOUR_MS = 3_600_000;

/**
 * Uploads made before this instant and held by no submission are orphans at `now`: kept
 * `ttlHours` (SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS) for the hand-in they were uploaded for, then swept.
 */
export function orphanedBefore(now: Date, ttlHours: number): Date {
  return new Date(now.getTime() - ttlHours * HOUR_MS);
}

/**
 * Whether a media item is an orphan at `now`: no submission holds it (never handed in, or replaced
 * by a revision) and it was uploaded more than `ttlHours` ago. The sweep asks it of the row it has
 * locked, so a hand-in that attached the item meanwhile keeps it.
 */
export function isOrphaned(
  item: { submissionId: string | null; createdAt: Date },
  now: Date,
  ttlHours: number,
): boolean {
  return item.submissionId === null && item.createdAt.getTime() < orphanedBefore(now, ttlHours).getTime();
}
