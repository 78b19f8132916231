import { z } from 'zod';

/**
 * What a task asks for, one shape per task type, and the known answer a golden task carries.
 * Tasks validates them when a company publishes a task; submissions checks payloads against the
 * input; QC scores golden answers. They are shared here because all three read them from events.
 */
export const taskTypes = ['audio', 'image', 'text', 'validation', 'linguasense', 'rlhf'] as const;
export type TaskType = (typeof taskTypes)[number];

export const taskDifficulties = ['easy', 'medium', 'hard'] as const;
export type TaskDifficulty = (typeof taskDifficulties)[number];

/** A BCP 47 language tag such as `en`, `es-MX` or `zh-Hant`. */
export const languageTag = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a BCP 47 language tag such as "en" or "es-MX"');

/** ISO 3166-1 alpha-2, upper case. */
export const countryCode = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as "NG"');

const text = (max: number) => z.string().trim().min(1).max(max);
const mediaUrl = z.url({ protocol: /^https?$/ }).max(2048);
const label = text(100);
const options = z
  .array(label)
  .min(2)
  .max(20)
  .refine((list) => new Set(list).size === list.length, 'options must be distinct');

export const audioInput = z
  .object({
    /** What to say or read aloud. */
    prompt: text(2000),
    language: languageTag,
    min_duration_s: z.number().int().min(1).max(600).default(5),
    max_duration_s: z.number().int().min(1).max(600).default(120),
  })
  .strict()
  .refine((input) => input.min_duration_s <= input.max_duration_s, {
    message: 'min_duration_s must not exceed max_duration_s',
    path: ['min_duration_s'],
  });

export const imageInput = z
  .object({
    /** What to photograph, or what to look for in `image_url`. */
    prompt: text(2000),
    /** The image to label; absent for a capture task (the contributor takes the photo). */
    image_url: mediaUrl.nullable().default(null),
    /** The label set to choose from; empty for a plain capture. */
    labels: z
      .array(label)
      .max(200)
      .default([])
      .refine((list) => new Set(list).size === list.length, 'labels must be distinct'),
    multi_label: z.boolean().default(false),
  })
  .strict();

export const textInput = z
  .object({
    prompt: text(4000),
    language: languageTag,
    min_chars: z.number().int().min(0).max(100_000).default(1),
    max_chars: z.number().int().min(1).max(100_000).default(5000),
  })
  .strict()
  .refine((input) => input.min_chars <= input.max_chars, {
    message: 'min_chars must not exceed max_chars',
    path: ['min_chars'],
  });

export const validationInput = z
  .object({
    /** The item to judge (a recording, an image, a text) and what kind it is. */
    item_url: mediaUrl,
    item_kind: z.enum(['audio', 'image', 'text']),
    question: text(1000),
    options,
  })
  .strict();

export const linguasenseInput = z
  .object({
    /** A passage and a question about its meaning, usage or translation. */
    text: text(4000),
    language: languageTag,
    question: text(1000),
    /** Choices for a closed question; absent for a free answer. */
    options: options.nullable().default(null),
  })
  .strict();

export const rlhfInput = z
  .object({
    prompt: text(8000),
    response_a: text(16_000),
    response_b: text(16_000),
    /** What to judge the pair on (helpfulness, honesty, ...). */
    criteria: z.array(label).min(1).max(10).default(['overall']),
  })
  .strict();

export const taskInputSchemas = {
  audio: audioInput,
  image: imageInput,
  text: textInput,
  validation: validationInput,
  linguasense: linguasenseInput,
  rlhf: rlhfInput,
} as const satisfies Record<TaskType, z.ZodType>;

export type TaskInput<T extends TaskType = TaskType> = z.infer<(typeof taskInputSchemas)[T]>;

/** The known answer of a golden task, per type; audio and text captures have no single answer. */
export const goldenAnswerSchemas = {
  audio: null,
  text: null,
  image: z.object({ labels: z.array(label).min(1).max(200) }).strict(),
  validation: z.object({ option: label }).strict(),
  linguasense: z.object({ answer: text(4000) }).strict(),
  rlhf: z.object({ preferred: z.enum(['a', 'b', 'tie']) }).strict(),
} as const satisfies Record<TaskType, z.ZodType | null>;

export type GoldenAnswer = z.infer<
  NonNullable<(typeof goldenAnswerSchemas)[Exclude<TaskType, 'audio' | 'text'>]>
>;

/** Any task type's input, as events carry it (validated per type by `taskInputSchemas`). */
export const anyTaskInput = z.record(z.string(), z.unknown());
