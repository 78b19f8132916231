import multipart from '@fastify/multipart';
import {
  companyMembershipOf,
  type HttpApp,
  idParams,
  orRefuse,
  type Principal,
  principalOf,
  Refusal,
  refusal,
  refuse,
  timestamp,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { SubmissionsContext } from '../context.ts';
import {
  decideAnnouncedLength,
  decideRange,
  decideReadMedia,
  decideUploader,
  largestLimit,
  type MediaLimits,
  mediaKinds,
  mediaNotFound,
} from './decide.ts';
import { uploadMedia } from './handle.ts';
import { findMedia, type MediaRow, submissionReaders } from './repository.ts';
import { MediaObjectMissing } from './storage.ts';

const tags = ['media'];
const security = [{ bearerAuth: [] }];

export const mediaSchema = z.object({
  id: z.uuid(),
  kind: z.enum(mediaKinds),
  /** From the file's bytes, never from what the client said. */
  content_type: z.string(),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The submission it was handed in with, once it was. */
  submission_id: z.uuid().nullable(),
  created_at: timestamp,
});

export function presentMedia(row: MediaRow): z.infer<typeof mediaSchema> {
  return {
    id: row.id,
    kind: row.kind,
    content_type: row.content_type,
    bytes: Number(row.bytes),
    sha256: row.sha256,
    submission_id: row.submission_id,
    created_at: new Date(row.created_at).toISOString(),
  };
}

export function mediaLimitsOf(config: SubmissionsContext['config']): MediaLimits {
  return { audio: config.MEDIA_MAX_AUDIO_BYTES, image: config.MEDIA_MAX_IMAGE_BYTES };
}

/** An unread request body up to this is drained after a refusal, and the connection kept. */
export const DRAIN_LIMIT_BYTES = 64 * 1024;

function drainable(contentLength: string | undefined): boolean {
  if (contentLength === undefined) return false;
  const n = Number(contentLength);
  return Number.isSafeInteger(n) && n >= 0 && n <= DRAIN_LIMIT_BYTES;
}

export async function mediaRoutes(app: HttpApp, context: SubmissionsContext): Promise<void> {
  const { db, clock, config, logger } = context;
  const { storage } = context.resources;
  const limits = mediaLimitsOf(config);
  // One byte more than the largest file, so that the inspection (not busboy's silent truncation)
  // sees a file that is too large and refuses it.
  const busboyLimits = {
    fileSize: largestLimit(limits) + 1,
    files: 1,
    fields: 10,
    fieldSize: 1024,
    parts: 12,
  };

  /** The media item, if the caller may read it; otherwise 404 whether it exists or not. */
  const readable = async (principal: Principal, id: string): Promise<MediaRow> => {
    const media = await findMedia(db, id);
    if (!media) throw mediaNotFound();
    const submission = media.submission_id ? await submissionReaders(db, media.submission_id, clock()) : null;
    const membership = submission ? await companyMembershipOf(db, principal, submission.companyId) : null;
    orRefuse(decideReadMedia({ uploaderId: media.uploader_id, submission, membership }, principal));
    return media;
  };

  // Multipart only here: the other routes keep taking JSON alone.
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: busboyLimits, throwFileSizeLimit: false });

    scope.post(
      '/api/v1/media',
      {
        // Before a byte of the body is read: an upload announced larger than any file we take.
        onRequest: async (request) => {
          const announced = request.headers['content-length'];
          orRefuse(decideAnnouncedLength(limits, announced === undefined ? undefined : Number(announced)));
        },
        preHandler: scope.authenticate,
        // A refused upload (or one followed by parts we do not read) leaves part of its body
        // unread. A small rest that nothing started reading (a refusal before the body) is read and
        // thrown away by node once the answer is sent, and the connection kept: closing it would
        // reset a proxy still writing those few bytes, which then loses our answer (the gateway saw
        // a 403 become a 502). A body the multipart parser started on is never drained by node (it
        // is piped, and the parser stalls once we stop reading), nor is a large or unknown rest
        // worth reading: close the connection after answering.
        onSend: async (request, reply) => {
          const untouched = !request.raw.readableDidRead && drainable(request.headers['content-length']);
          if (!request.raw.complete && !untouched) void reply.header('connection', 'close');
        },
        schema: {
          tags,
          summary: 'Upload an audio file or an image (multipart field "file"), to hand in with your work',
          description:
            'The type is recognised from the bytes (WAV, MP3, Ogg Vorbis/Opus, WebM, FLAC, M4A; JPEG, PNG, ' +
            "WebP), never from the client's Content-Type; each kind has its own size limit.",
          security,
          consumes: ['multipart/form-data'],
          response: { 201: z.object({ media: mediaSchema }) },
        },
      },
      async (request, reply) => {
        const uploaderId = orRefuse(decideUploader(principalOf(request)));
        if (!request.isMultipart()) {
          throw refusal(
            'unsupported_media',
            'UNSUPPORTED_MEDIA_TYPE',
            'Send the file as multipart/form-data, in a field named "file".',
          );
        }
        let part;
        try {
          part = await request.file({ limits: busboyLimits, throwFileSizeLimit: false });
        } catch (error) {
          throw malformedOr413(error);
        }
        if (!part || part.fieldname !== 'file') {
          throw refuse.invalid('MEDIA_FILE_MISSING', 'Send the file in a multipart field named "file".');
        }
        const media = await uploadMedia(
          { db, clock, storage, limits, logger },
          { uploaderId, file: part.file },
        );
        return reply.code(201).send({ media: presentMedia(media) });
      },
    );
  });

  app.get(
    '/api/v1/media/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'A media item: its kind, type, size and SHA-256',
        description:
          'Its uploader, and once it was handed in the members of the submission’s company, the judges ' +
          'assigned to that submission, and admins, may read it; anyone else gets 404.',
        security,
        params: idParams,
        response: { 200: z.object({ media: mediaSchema }) },
      },
    },
    async (request) => ({ media: presentMedia(await readable(principalOf(request), request.params.id)) }),
  );

  app.get(
    '/api/v1/media/:id/content',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A media item's bytes (Range supported), or in S3 mode a redirect to a presigned URL",
        security,
        params: idParams,
      },
    },
    async (request, reply) => {
      const media = await readable(principalOf(request), request.params.id);
      if (storage.presignedGetUrl) {
        const url = await storage.presignedGetUrl(media.storage_key, {
          expiresInSeconds: config.MEDIA_PRESIGN_TTL_S,
          contentType: media.content_type,
          cacheControl: NO_STORE,
        });
        return reply.header('cache-control', 'no-store').redirect(url, 302);
      }
      const size = Number(media.bytes);
      const range = decideRange(size, request.headers.range);
      void reply
        .header('accept-ranges', 'bytes')
        .header('etag', `"${media.sha256}"`)
        .header('cache-control', NO_STORE);
      if (range.kind === 'unsatisfiable') {
        void reply.header('content-range', `bytes */${size}`);
        throw refusal(
          'range_not_satisfiable',
          'RANGE_NOT_SATISFIABLE',
          `The range is outside the file (${size} bytes); ask for bytes 0-${size - 1} at most.`,
        );
      }
      let body;
      try {
        body = await storage.get(media.storage_key, range.kind === 'part' ? range : undefined);
      } catch (error) {
        if (!(error instanceof MediaObjectMissing)) throw error;
        request.log.error({ media: media.id, key: media.storage_key }, 'media row without its file');
        throw mediaNotFound();
      }
      void reply.type(media.content_type).header('content-disposition', 'inline');
      if (range.kind === 'part') {
        return reply
          .code(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
          .header('content-length', range.end - range.start + 1)
          .send(body);
      }
      return reply.header('content-length', size).send(body);
    },
  );
}

/**
 * Media bytes are kept by no cache, the browser's included, whichever store serves them: who may
 * read an item changes (a judge's access ends with their lease, `review_access.access_until`), so
 * each read is checked here. A max-age bounded by a judge's remaining access would still leave the
 * recording on their disk, and would differ by reader; re-reading a recording costs little.
 */
const NO_STORE = 'private, no-store';

/** What busboy says of a body it cannot read: a limit it set (413) or a malformed body (400). */
function malformedOr413(error: unknown): unknown {
  if (error instanceof Refusal) return error;
  if ((error as { statusCode?: number }).statusCode === 413) {
    return refusal(
      'too_large',
      'PAYLOAD_TOO_LARGE',
      'The upload has more parts than a file and a few fields.',
    );
  }
  return refuse.invalid('MALFORMED_MULTIPART', 'The body is not a well-formed multipart/form-data upload.');
}
