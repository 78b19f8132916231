/**
 * Why pre-validation refuses a submission: stable codes for `submissions.submission.rejected.v1`
 * (`reason_code`, `reason_codes`), and a short text per code that tells the contributor what went
 * wrong and what to do next. Order matters: a check lists its reasons in this order, so the first
 * one (the event's `reason_code`) is the most basic failure.
 */
export const prevalidationReasons = [
  'AUDIO_UNDECODABLE',
  'AUDIO_FORMAT_UNSUPPORTED',
  'AUDIO_TOO_SHORT',
  'AUDIO_TOO_LONG',
  'AUDIO_MOSTLY_SILENT',
  'IMAGE_UNDECODABLE',
  'IMAGE_TOO_SMALL',
  'IMAGE_BLURRY',
  'IMAGE_NEAR_DUPLICATE',
  'TEXT_GIBBERISH',
  'TEXT_WRONG_LANGUAGE',
  'TEXT_DUPLICATE',
  'CONTENT_DUPLICATE',
] as const;
export type PrevalidationReason = (typeof prevalidationReasons)[number];

export type AudioReason = Extract<PrevalidationReason, `AUDIO_${string}`>;
export type ImageReason = Extract<PrevalidationReason, `IMAGE_${string}`>;
export type TextReason = Extract<PrevalidationReason, `TEXT_${string}`>;

/** What the contributor reads next to a rejected submission. */
export const reasonTexts: Record<PrevalidationReason, string> = {
  AUDIO_UNDECODABLE:
    'The recording could not be read: the file may be damaged or cut off. Record again and upload the new file.',
  AUDIO_FORMAT_UNSUPPORTED:
    'This audio format is not accepted yet: record again, or export the recording, as WAV, MP3, FLAC, Ogg (Opus or Vorbis) or WebM (Opus).',
  AUDIO_TOO_SHORT:
    'The recording is shorter than the task asks for: record again and keep going until the minimum length shown on the task.',
  AUDIO_TOO_LONG:
    'The recording is longer than the task allows: record again and stop before the maximum length shown on the task.',
  AUDIO_MOSTLY_SILENT:
    'The recording is mostly silence or steady background noise: record again in a quieter place, closer to the microphone, and speak clearly.',
  IMAGE_UNDECODABLE:
    'The image could not be read: the file may be damaged or in a format we do not take. Upload a JPEG, PNG, WebP or HEIF/AVIF photo.',
  IMAGE_TOO_SMALL:
    'The image is smaller than the task asks for: take the photo again at a higher resolution, and upload the original rather than a thumbnail or screenshot.',
  IMAGE_BLURRY:
    'The image is too blurry: hold the camera still, let it focus, make sure there is enough light, then take the photo again.',
  IMAGE_NEAR_DUPLICATE:
    'This image is (nearly) the same as one already handed in for this campaign: take a new photo of your own.',
  TEXT_GIBBERISH:
    'The text does not read as real words (random letters, keyboard runs or repeated characters): write a genuine answer in full sentences.',
  TEXT_WRONG_LANGUAGE:
    'The text is not in the language the task asks for: write your answer again in that language.',
  TEXT_DUPLICATE: 'This text is the same as one already handed in for this campaign: write your own answer.',
  CONTENT_DUPLICATE:
    'This exact file or text was already handed in: each submission must be new work of your own.',
};

/** The given reasons in the canonical order, each once. */
export function orderReasons<R extends PrevalidationReason>(reasons: Iterable<R>): R[] {
  const set = new Set(reasons);
  return prevalidationReasons.filter((reason): reason is R => set.has(reason as R));
}
