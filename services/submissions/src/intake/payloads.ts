import type { TaskInput, TaskType } from '@tessera/contracts';
import { accept, type Decision, oddTextReason, refuse } from '@tessera/service-kit';
import { z } from 'zod';

/**
 * What a contributor hands in, one shape per task type, and the checks of a payload against its
 * task's own input (the label set, the options, the length bounds). Pure: media are referenced by
 * id here; whether they exist and belong to the caller is the use case's to check.
 */

const mediaId = z.uuid().transform((id) => id.toLowerCase());
/** Free text as a contributor writes it: the kit's rule for stored text, line breaks allowed. */
const freeText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => oddTextReason(value, { multiline: true }) === null, {
      error: (issue) => oddTextReason(issue.input as string, { multiline: true }) ?? 'is not acceptable text',
    });

/** A box in normalised image coordinates: 0..1 from the top-left corner, so "inside" is checkable. */
const box = z.strictObject({
  label: z.string().min(1).max(100),
  x: z.number().min(0).max(1),
  y: z.number().min(0).max(1),
  w: z.number().positive().max(1),
  h: z.number().positive().max(1),
});

export const payloadSchemas = {
  audio: z.strictObject({ media_id: mediaId, transcript: freeText(10_000).optional() }),
  imageCapture: z.strictObject({ media_id: mediaId }),
  imageLabels: z.strictObject({
    labels: z.array(z.string().min(1).max(100)).min(1).max(200),
    boxes: z.array(box).max(500).optional(),
  }),
  text: z.strictObject({ text: freeText(100_000) }),
  validation: z.strictObject({
    option: z.string().min(1).max(100),
    confidence: z.number().min(0).max(1).optional(),
  }),
  linguasenseAnswer: z.strictObject({ answer: freeText(4000) }),
  linguasenseOption: z.strictObject({ option: z.string().min(1).max(100) }),
  rlhf: z.strictObject({
    preferred: z.enum(['a', 'b', 'tie']),
    ratings: z.record(z.string().min(1).max(100), z.number().int().min(1).max(7)).optional(),
    rationale: freeText(4000).optional(),
  }),
} as const;

export type AudioPayload = z.infer<typeof payloadSchemas.audio>;
export type ImageCapturePayload = z.infer<typeof payloadSchemas.imageCapture>;
export type ImageLabelsPayload = z.infer<typeof payloadSchemas.imageLabels>;
export type TextPayload = z.infer<typeof payloadSchemas.text>;
export type ValidationPayload = z.infer<typeof payloadSchemas.validation>;
export type LinguasensePayload =
  z.infer<typeof payloadSchemas.linguasenseAnswer> | z.infer<typeof payloadSchemas.linguasenseOption>;
export type RlhfPayload = z.infer<typeof payloadSchemas.rlhf>;

/** A payload checked against its task: what is stored, the media it references, its answer. */
export interface CheckedPayload {
  payload: Record<string, unknown>;
  /** Media the payload references (to be owned by the caller and not yet attached). */
  mediaIds: string[];
  /**
   * The structured answer of the types that have one, shaped like the type's golden answer
   * (`goldenAnswerSchemas`): for golden checks and for aggregating answers in review.
   */
  answer: Record<string, unknown> | null;
  /** Text that must be unique in the campaign and checked for language and gibberish. */
  text: string | null;
}

const INVALID = 'PAYLOAD_INVALID';

function invalid(detail: string, errors: { path: string; message: string }[] = []) {
  return refuse.invalid(INVALID, detail, errors.length > 0 ? { errors } : undefined);
}

function parse<S extends z.ZodType>(schema: S, raw: unknown, what: string): Decision<z.infer<S>> {
  const result = schema.safeParse(raw);
  if (result.success) return accept(result.data);
  const errors = result.error.issues.map((issue) => ({
    path: ['payload', ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return { ok: false, refusal: invalid(`The payload is not ${what}.`, errors) };
}

type AudioInput = TaskInput<'audio'>;
type ImageInput = TaskInput<'image'>;
type TextInput = TaskInput<'text'>;
type ValidationInput = TaskInput<'validation'>;
type LinguasenseInput = TaskInput<'linguasense'>;
type RlhfInput = TaskInput<'rlhf'>;

const codePoints = (text: string) => [...text].length;

/** Checks `raw` against the task's type and input. */
export function checkPayload(type: TaskType, input: TaskInput, raw: unknown): Decision<CheckedPayload> {
  switch (type) {
    case 'audio':
      return checkAudio(input as AudioInput, raw);
    case 'image':
      return checkImage(input as ImageInput, raw);
    case 'text':
      return checkText(input as TextInput, raw);
    case 'validation':
      return checkValidation(input as ValidationInput, raw);
    case 'linguasense':
      return checkLinguasense(input as LinguasenseInput, raw);
    case 'rlhf':
      return checkRlhf(input as RlhfInput, raw);
  }
}

function checkAudio(_input: AudioInput, raw: unknown): Decision<CheckedPayload> {
  const parsed = parse(payloadSchemas.audio, raw, 'an audio hand-in: {media_id, transcript?}');
  if (!parsed.ok) return parsed;
  const payload = parsed.value;
  // The duration comes from the file at pre-validation, never from the client.
  return accept({ payload, mediaIds: [payload.media_id], answer: null, text: null });
}

function checkImage(input: ImageInput, raw: unknown): Decision<CheckedPayload> {
  const labelling = input.labels.length > 0;
  if (!labelling) {
    const parsed = parse(payloadSchemas.imageCapture, raw, 'an image capture: {media_id}');
    if (!parsed.ok) return parsed;
    return accept({ payload: parsed.value, mediaIds: [parsed.value.media_id], answer: null, text: null });
  }
  const parsed = parse(payloadSchemas.imageLabels, raw, 'image labels: {labels, boxes?}');
  if (!parsed.ok) return parsed;
  const { labels, boxes } = parsed.value;
  const allowed = new Set(input.labels);
  const unknown = [...labels, ...(boxes ?? []).map((b) => b.label)].filter((label) => !allowed.has(label));
  if (unknown.length > 0) {
    return {
      ok: false,
      refusal: refuse.invalid(
        'LABEL_NOT_IN_SET',
        `Not in the task's label set: ${[...new Set(unknown)].join(', ')}.`,
      ),
    };
  }
  if (new Set(labels).size !== labels.length)
    return { ok: false, refusal: invalid('Each label may be given once.') };
  if (!input.multi_label && labels.length > 1) {
    return { ok: false, refusal: refuse.invalid('ONE_LABEL_ONLY', 'This task takes exactly one label.') };
  }
  const outside = (boxes ?? []).findIndex((b) => b.x + b.w > 1 + 1e-9 || b.y + b.h > 1 + 1e-9);
  if (outside !== -1) {
    return {
      ok: false,
      refusal: refuse.invalid(
        'BOX_OUTSIDE_IMAGE',
        `Box ${outside} reaches outside the image (x + w and y + h must be at most 1).`,
      ),
    };
  }
  const sorted = [...labels].sort();
  return accept({ payload: parsed.value, mediaIds: [], answer: { labels: sorted }, text: null });
}

function checkText(input: TextInput, raw: unknown): Decision<CheckedPayload> {
  const parsed = parse(payloadSchemas.text, raw, 'a text hand-in: {text}');
  if (!parsed.ok) return parsed;
  const text = parsed.value.text.trim();
  const length = codePoints(text);
  if (length < Math.max(1, input.min_chars) || length > input.max_chars) {
    return {
      ok: false,
      refusal: refuse.invalid(
        'TEXT_LENGTH_OUT_OF_RANGE',
        `The text has ${length} characters; this task takes ${Math.max(1, input.min_chars)} to ${input.max_chars}.`,
      ),
    };
  }
  return accept({ payload: { text }, mediaIds: [], answer: null, text });
}

function checkValidation(input: ValidationInput, raw: unknown): Decision<CheckedPayload> {
  const parsed = parse(payloadSchemas.validation, raw, 'a validation answer: {option, confidence?}');
  if (!parsed.ok) return parsed;
  if (!input.options.includes(parsed.value.option)) return optionRefusal(input.options);
  return accept({ payload: parsed.value, mediaIds: [], answer: { option: parsed.value.option }, text: null });
}

function checkLinguasense(input: LinguasenseInput, raw: unknown): Decision<CheckedPayload> {
  if (input.options) {
    const parsed = parse(payloadSchemas.linguasenseOption, raw, 'a choice: {option}');
    if (!parsed.ok) return parsed;
    if (!input.options.includes(parsed.value.option)) return optionRefusal(input.options);
    return accept({
      payload: parsed.value,
      mediaIds: [],
      answer: { answer: parsed.value.option },
      text: null,
    });
  }
  const parsed = parse(payloadSchemas.linguasenseAnswer, raw, 'a free answer: {answer}');
  if (!parsed.ok) return parsed;
  const answer = parsed.value.answer.trim();
  if (answer.length === 0) return { ok: false, refusal: invalid('The answer is empty.') };
  return accept({ payload: { answer }, mediaIds: [], answer: { answer }, text: answer });
}

function checkRlhf(input: RlhfInput, raw: unknown): Decision<CheckedPayload> {
  const parsed = parse(payloadSchemas.rlhf, raw, 'a comparison: {preferred: a|b|tie, ratings?, rationale?}');
  if (!parsed.ok) return parsed;
  const unknown = Object.keys(parsed.value.ratings ?? {}).filter(
    (criterion) => !input.criteria.includes(criterion),
  );
  if (unknown.length > 0) {
    return {
      ok: false,
      refusal: refuse.invalid(
        'CRITERION_UNKNOWN',
        `This task rates ${input.criteria.join(', ')}; not ${unknown.join(', ')}.`,
      ),
    };
  }
  return accept({
    payload: parsed.value,
    mediaIds: [],
    answer: { preferred: parsed.value.preferred },
    text: null,
  });
}

function optionRefusal(options: readonly string[]) {
  return {
    ok: false as const,
    refusal: refuse.invalid('OPTION_NOT_OFFERED', `Choose one of: ${options.join(', ')}.`),
  };
}
