import { randomBytes, randomInt } from 'node:crypto';
import type { TaskType } from '../../packages/contracts/src/task-inputs.ts';
import {
  images,
  random,
  rgbPng,
  sentences,
} from '../../services/submissions/src/prevalidation/testing/fixtures.ts';

// The kinds of work the journey and the demo publish beyond recordings: one per task type, each
// with what a company publishes and what a contributor hands in. Media are generated here (PNG
// photos of a synthetic scene, a new layout per seed), never read from disk.

export type { TaskType };

/** What a task of this kind publishes, besides its campaign, money and eligibility. */
export interface TaskContent {
  task_type: TaskType;
  title: string;
  description: string;
  input: Record<string, unknown>;
  is_golden?: boolean;
  golden_answer?: Record<string, unknown>;
}

export type WorkKind =
  'photo' | 'labels' | 'writing' | 'meaning' | 'comparison' | 'golden' | 'private-writing';

export const workContent: Record<WorkKind, TaskContent> = {
  photo: {
    task_type: 'image',
    title: 'Photograph a street sign',
    description: 'A sharp photo of one street sign in daylight, the whole sign in the frame.',
    input: { prompt: 'Take a photo of a street sign near you.' },
  },
  labels: {
    task_type: 'image',
    title: 'Which animal is in the picture?',
    description: 'Pick the one animal the picture shows.',
    input: {
      prompt: 'Which animal does the picture show?',
      image_url: 'https://example.org/journey/animal-17.jpg',
      labels: ['cat', 'dog', 'bird'],
    },
  },
  writing: {
    task_type: 'text',
    title: 'Describe your library',
    description: 'Two or three sentences in English about a library you know.',
    input: { prompt: 'Describe a library you know, in English.', language: 'en', min_chars: 80 },
  },
  meaning: {
    task_type: 'linguasense',
    title: 'What does the phrase mean?',
    description: 'Read the sentence and choose what the phrase means in it.',
    input: {
      text: 'Before the concert her friends told her: break a leg!',
      language: 'en',
      question: 'What does "break a leg" mean here?',
      options: ['good luck', 'get hurt', 'run away'],
    },
  },
  comparison: {
    task_type: 'rlhf',
    title: 'Which answer explains rain better?',
    description: 'Compare two answers to a child’s question and say which is more helpful.',
    input: {
      prompt: 'Why does it rain?',
      response_a:
        'Water from seas and lakes warms up and rises as vapour. High up it cools into tiny drops that make clouds; when the drops grow heavy, they fall as rain.',
      response_b: 'Because clouds are sad.',
      criteria: ['helpfulness', 'honesty'],
    },
  },
  /** Golden: its known answer decides at once, without judges (and without judge fees). */
  golden: {
    task_type: 'validation',
    title: 'Is this a greeting?',
    description: 'Listen to the clip and answer the question.',
    input: {
      item_url: 'https://example.org/journey/clip-greeting.wav',
      item_kind: 'audio',
      question: 'Is the speaker greeting someone?',
      options: ['yes', 'no'],
    },
    is_golden: true,
    golden_answer: { option: 'yes' },
  },
  'private-writing': {
    task_type: 'text',
    title: 'Describe your library (invited writers)',
    description: 'For invited writers only: a few sentences in English about a library you know.',
    input: { prompt: 'Describe a library you know, in English.', language: 'en', min_chars: 80 },
  },
};

/** A review's `type` filter for a kind of work. */
export const reviewType = (kind: WorkKind): TaskType => workContent[kind].task_type;

/** English of its own (`seed` picks the details): the same text twice in a campaign is refused. */
export function writing(seed = randomInt(1_000_000)): string {
  const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
  return `${sentences.en} I usually go there on ${days[seed % 7]} with a friend from class, and we stay until the lights dim; my locker number is ${seed}.`;
}

/**
 * A 640x480 PNG "photo" of its own: a grid of large patches of random colour (what a perceptual hash
 * sees: two photos' hashes are as far apart as random ones, so a campaign of them has no near copy),
 * a few discs, and sensor noise (sharp enough for the blur check).
 */
export function photo(seed = randomBytes(4).readUInt32BE()): Promise<Buffer> {
  const [width, height] = [640, 480];
  const rand = random(seed);
  const [columns, rows] = [4, 3];
  const patches = Array.from({ length: columns * rows }, () => [rand() * 255, rand() * 255, rand() * 255]);
  const discs = Array.from({ length: 3 }, () => ({
    x: rand() * width,
    y: rand() * height,
    r: 40 + rand() * 80,
    colour: [rand() * 255, rand() * 255, rand() * 255],
  }));
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = discs.find((d) => (x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2);
      const colour =
        disc?.colour ??
        patches[Math.floor((y * rows) / height) * columns + Math.floor((x * columns) / width)]!;
      for (let c = 0; c < 3; c++) {
        pixels[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, colour[c]! + (rand() - 0.5) * 24));
      }
    }
  }
  return rgbPng(pixels, width, height);
}

/** A thumbnail, 64x48: pre-validation refuses it as too small. */
export function thumbnail(): Promise<Buffer> {
  return images.tiny();
}
