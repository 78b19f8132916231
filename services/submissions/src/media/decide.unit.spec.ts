import type { Principal } from '@tessera/service-kit';
import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  decideAnnouncedLength,
  decideFormat,
  decideRange,
  decideReadMedia,
  decideSize,
  decideUploader,
  isOrphaned,
  type MediaLimits,
  type MediaReaders,
  MULTIPART_ENVELOPE_BYTES,
  orphanedBefore,
} from './decide.ts';

const MiB = 1024 * 1024;
const limits: MediaLimits = { audio: 50 * MiB, image: 25 * MiB };

describe('which files we take', () => {
  const spec = decider(decideFormat);
  const first = (ext: string, mime: string) => ({ sniffed: { ext, mime }, length: 4100 });

  it('takes the audio and image formats, by what their bytes are, with their kind’s limit', () => {
    for (const [ext, mime, contentType] of [
      ['wav', 'audio/wav', 'audio/wav'],
      ['mp3', 'audio/mpeg', 'audio/mpeg'],
      ['ogg', 'audio/ogg', 'audio/ogg'],
      ['opus', 'audio/ogg; codecs=opus', 'audio/ogg'],
      ['webm', 'video/webm', 'audio/webm'],
      ['flac', 'audio/flac', 'audio/flac'],
    ]) {
      spec
        .given(limits)
        .when(first(ext!, mime!))
        .then({ kind: 'audio', contentType: contentType!, limit: limits.audio });
    }
    for (const [ext, mime] of [
      ['jpg', 'image/jpeg'],
      ['png', 'image/png'],
      ['webp', 'image/webp'],
    ]) {
      spec
        .given(limits)
        .when(first(ext!, mime!))
        .then({ kind: 'image', contentType: mime!, limit: limits.image });
    }
  });

  it('refuses anything else, a ZIP named .png included, and what it cannot recognise (415)', () => {
    for (const [ext, mime] of [
      ['zip', 'application/zip'],
      ['mp4', 'video/mp4'],
      // AAC in M4A: no decoder we may ship (see acceptedFormats).
      ['m4a', 'audio/x-m4a'],
      ['apng', 'image/apng'],
      ['gif', 'image/gif'],
      ['pdf', 'application/pdf'],
      ['exe', 'application/x-msdownload'],
    ]) {
      const refusal = spec
        .given(limits)
        .when(first(ext!, mime!))
        .thenRefuses('MEDIA_TYPE_UNSUPPORTED', 'unsupported_media');
      expect(refusal.extensions).toEqual({ detected: mime });
    }
    spec.given(limits).when({ sniffed: undefined, length: 4100 }).thenRefuses('MEDIA_TYPE_UNSUPPORTED');
  });

  it('refuses an empty file', () => {
    spec.given(limits).when({ sniffed: undefined, length: 0 }).thenRefuses('MEDIA_EMPTY', 'invalid');
  });
});

describe('how large a file may be', () => {
  const audio = { kind: 'audio' as const, contentType: 'audio/wav', limit: limits.audio };
  const image = { kind: 'image' as const, contentType: 'image/png', limit: limits.image };
  const size = decider((format: typeof audio | typeof image | null, bytes: number) =>
    decideSize(format, limits, bytes),
  );

  it('holds each kind to its own limit, and an unrecognised file to the largest', () => {
    size.given(image).when(limits.image).then(undefined);
    const refused = size
      .given(image)
      .when(limits.image + 1)
      .thenRefuses('MEDIA_TOO_LARGE', 'too_large');
    expect(refused.extensions).toEqual({ limit_bytes: limits.image, kind: 'image' });
    size
      .given(audio)
      .when(limits.image + 1)
      .then(undefined);
    size
      .given(audio)
      .when(limits.audio + 1)
      .thenRefuses('MEDIA_TOO_LARGE');
    size.given(null).when(limits.audio).then(undefined);
    size
      .given(null)
      .when(limits.audio + 1)
      .thenRefuses('MEDIA_TOO_LARGE');
  });

  it('refuses an announced Content-Length past the largest file and its envelope, before reading it', () => {
    const announced = decider(decideAnnouncedLength);
    announced.given(limits).when(undefined).then(undefined);
    announced
      .given(limits)
      .when(limits.audio + MULTIPART_ENVELOPE_BYTES)
      .then(undefined);
    announced
      .given(limits)
      .when(limits.audio + MULTIPART_ENVELOPE_BYTES + 1)
      .thenRefuses('PAYLOAD_TOO_LARGE', 'too_large');
    announced
      .given(limits)
      .when(2 * 1024 * MiB)
      .thenRefuses('PAYLOAD_TOO_LARGE');
  });
});

const uploader = 'c0000000-0000-4000-8000-000000000001';
const judge = 'c0000000-0000-4000-8000-000000000002';
const companyId = 'd0000000-0000-4000-8000-000000000001';
const user = (userId: string, role: Principal['role'] = 'contributor'): Principal => ({
  userId,
  role,
  tokenId: 'j',
});
const key = (company: string, scopes: string[]): Principal => ({
  userId: 'k1',
  role: 'company',
  tokenId: 'j',
  companyId: company,
  scopes,
});

describe('who uploads', () => {
  it('is a contributor, never a company user, an API key or an admin', () => {
    const spec = decider((_: null, principal: Principal) => decideUploader(principal));
    spec.given(null).when(user(uploader.toUpperCase())).then(uploader);
    spec.given(null).when(user(uploader, 'company')).thenRefuses('FORBIDDEN', 'forbidden');
    spec.given(null).when(user(uploader, 'admin')).thenRefuses('FORBIDDEN');
    spec
      .given(null)
      .when(key(companyId, ['submissions:read']))
      .thenRefuses('FORBIDDEN');
  });
});

describe('who may read a media item', () => {
  const spec = decider(decideReadMedia);
  const unattached: MediaReaders = { uploaderId: uploader, submission: null, membership: null };
  const attached: MediaReaders = { ...unattached, submission: { companyId, judgeIds: [judge] } };

  it('its uploader, always', () => {
    spec.given(unattached).when(user(uploader)).then(undefined);
    spec.given(attached).when(user(uploader.toUpperCase())).then(undefined);
  });

  it('admins, always', () => {
    spec.given(unattached).when(user('a1', 'admin')).then(undefined);
    spec.given(attached).when(user('a1', 'admin')).then(undefined);
  });

  it('nobody else before it is handed in, not even the company (404, as if it did not exist)', () => {
    spec.given(unattached).when(user(judge)).thenRefuses('MEDIA_NOT_FOUND', 'not_found');
    spec
      .given({ ...unattached, membership: { role: 'manager' } })
      .when(user('m1', 'company'))
      .thenRefuses('MEDIA_NOT_FOUND', 'not_found');
    spec
      .given(unattached)
      .when(key(companyId, ['submissions:read']))
      .thenRefuses('MEDIA_NOT_FOUND');
  });

  it('once handed in: the submission’s company members and its keys with submissions:read', () => {
    spec
      .given({ ...attached, membership: { role: 'viewer' } })
      .when(user('m1', 'company'))
      .then(undefined);
    spec
      .given(attached)
      .when(key(companyId, ['submissions:read']))
      .then(undefined);
    spec
      .given(attached)
      .when(key(companyId, ['submissions:review']))
      .then(undefined);
    spec
      .given(attached)
      .when(key(companyId, ['campaigns:read']))
      .thenRefuses('MEDIA_NOT_FOUND', 'not_found');
    spec
      .given(attached)
      .when(key('d0000000-0000-4000-8000-000000000009', ['submissions:read']))
      .thenRefuses('MEDIA_NOT_FOUND');
    // A company user who is not (or no longer) a member.
    spec.given(attached).when(user('m2', 'company')).thenRefuses('MEDIA_NOT_FOUND', 'not_found');
  });

  it('once handed in: the judges QC assigned to its submission, and no other contributor', () => {
    spec.given(attached).when(user(judge)).then(undefined);
    spec.given(attached).when(user('c0000000-0000-4000-8000-000000000003')).thenRefuses('MEDIA_NOT_FOUND');
    // A judge's id under a company role or an API key is not the judge.
    spec.given(attached).when(user(judge, 'company')).thenRefuses('MEDIA_NOT_FOUND');
  });
});

describe('which bytes a Range asks for', () => {
  const size = 1000;
  it('serves one range, from the start, open-ended, or a suffix, clipped to the file', () => {
    expect(decideRange(size, undefined)).toEqual({ kind: 'whole' });
    expect(decideRange(size, 'bytes=0-99')).toEqual({ kind: 'part', start: 0, end: 99 });
    expect(decideRange(size, 'bytes=0-0')).toEqual({ kind: 'part', start: 0, end: 0 });
    expect(decideRange(size, 'bytes=900-')).toEqual({ kind: 'part', start: 900, end: 999 });
    expect(decideRange(size, 'bytes=-100')).toEqual({ kind: 'part', start: 900, end: 999 });
    expect(decideRange(size, 'bytes=-5000')).toEqual({ kind: 'part', start: 0, end: 999 });
    expect(decideRange(size, 'bytes=990-5000')).toEqual({ kind: 'part', start: 990, end: 999 });
  });

  it('answers 416 for a range that starts past the end, or an empty suffix', () => {
    expect(decideRange(size, 'bytes=1000-')).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange(size, 'bytes=5000-6000')).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange(size, 'bytes=-0')).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it does not serve as a part, and sends the whole file', () => {
    for (const header of ['bytes=0-9,20-29', 'items=0-9', 'bytes=9-2', 'bytes=-', 'bytes=a-b', '']) {
      expect(decideRange(size, header)).toEqual({ kind: 'whole' });
    }
  });
});

describe('which uploads are orphans the sweep removes', () => {
  const now = new Date('2026-12-06T12:00:00.000Z');
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);

  it('are those no submission holds, uploaded more than the TTL before now', () => {
    expect(orphanedBefore(now, 24)).toEqual(hoursAgo(24));
    expect(isOrphaned({ submissionId: null, createdAt: hoursAgo(25) }, now, 24)).toBe(true);
    expect(isOrphaned({ submissionId: null, createdAt: new Date(hoursAgo(24).getTime() - 1) }, now, 24)).toBe(
      true,
    );
    expect(isOrphaned({ submissionId: null, createdAt: hoursAgo(2) }, now, 1)).toBe(true);
  });

  it('keeps an upload still within the TTL, to the millisecond, and anything a submission holds', () => {
    expect(isOrphaned({ submissionId: null, createdAt: hoursAgo(24) }, now, 24)).toBe(false);
    expect(isOrphaned({ submissionId: null, createdAt: hoursAgo(23) }, now, 24)).toBe(false);
    expect(isOrphaned({ submissionId: null, createdAt: now }, now, 24)).toBe(false);
    const submissionId = 'c0000000-0000-4000-8000-000000000009';
    expect(isOrphaned({ submissionId, createdAt: hoursAgo(24 * 365) }, now, 24)).toBe(false);
  });
});
