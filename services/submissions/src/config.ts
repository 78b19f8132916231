import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  developmentSecretMessage,
  knownDevelopmentSecret,
  loadConfig,
  serviceConfigSchema,
} from '@tessera/service-kit';
import { z } from 'zod';

const MiB = 1024 * 1024;
const bytes = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1024)
    .max(5 * 1024 * MiB)
    .default(fallback);
const optionalText = z.string().min(1).optional();

/** Submissions' own variables on top of the kit's, without the checks that span several. */
export const submissionsVariables = serviceConfigSchema.extend({
  /** How long a hand-in waits for a claim tasks has just announced before 409 ASSIGNMENT_UNKNOWN. */
  SUBMISSIONS_CLAIM_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(3_000),
  /** How long a contributor has to hand in the one revision review may ask for. */
  SUBMISSIONS_REVISION_WINDOW_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 24)
    .default(48),
  /** How often the pre-validation worker looks for new hand-ins, and the revision deadlines job runs. */
  SUBMISSIONS_SCREEN_INTERVAL_MS: z.coerce.number().int().min(20).default(500),
  SUBMISSIONS_REVISION_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(50).default(60_000),
  /**
   * How long an upload no submission holds is kept (never handed in, or replaced by a revision)
   * before the media sweep removes it, row and bytes. A hand-in naming it afterwards is 422
   * MEDIA_NOT_FOUND. Longer than the longest claim (7 days: tasks' `claim_ttl_seconds`), so that
   * an upload made early in a claim is still there at its last moment.
   */
  SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 24)
    .default(8 * 24),
  /** How often the media sweep looks for uploads past SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS. */
  SUBMISSIONS_MEDIA_SWEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(50)
    .default(10 * 60_000),
  /** The smallest photo pre-validation accepts (either orientation). */
  SUBMISSIONS_MIN_IMAGE_WIDTH: z.coerce.number().int().min(1).default(640),
  SUBMISSIONS_MIN_IMAGE_HEIGHT: z.coerce.number().int().min(1).default(480),

  /** Where media bytes live: the local filesystem (MEDIA_DIR) or S3-compatible storage. */
  MEDIA_STORAGE: z.enum(['local', 's3']).default('local'),
  /**
   * The media folder for MEDIA_STORAGE=local, relative to the working directory. Unset, it is
   * `.tessera/media` at the root of the pnpm workspace the process runs in (the local runner starts
   * each service in its own folder), else under the working directory.
   */
  MEDIA_DIR: z
    .string()
    .min(1)
    .optional()
    .transform((dir) => (dir ? path.resolve(dir) : defaultMediaDir(process.cwd()))),
  /** The largest audio file and the largest image we take; the upload route's limit is the larger. */
  MEDIA_MAX_AUDIO_BYTES: bytes(50 * MiB),
  MEDIA_MAX_IMAGE_BYTES: bytes(25 * MiB),
  MEDIA_S3_BUCKET: optionalText,
  MEDIA_S3_REGION: z.string().min(1).default('us-east-1'),
  /** An S3-compatible server such as MinIO (`http://minio:9000`); AWS itself when unset. */
  MEDIA_S3_ENDPOINT: z.url().optional(),
  /** The endpoint presigned URLs point at when clients reach the store by another address. */
  MEDIA_S3_PUBLIC_ENDPOINT: z.url().optional(),
  /** Path-style URLs (`endpoint/bucket/key`), as MinIO wants; virtual-hosted style for AWS if false. */
  MEDIA_S3_FORCE_PATH_STYLE: z.union([z.boolean(), z.stringbool()]).default(true),
  /** Required with MEDIA_STORAGE=s3, except in development, where MinIO's default login is used. */
  MEDIA_S3_ACCESS_KEY_ID: optionalText,
  MEDIA_S3_SECRET_ACCESS_KEY: optionalText,
  /** How long connecting to the store may take, and how long a request may see nothing, ms. */
  MEDIA_S3_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  MEDIA_S3_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** How long a presigned media URL (the redirect of GET /media/:id/content in S3 mode) is valid. */
  MEDIA_PRESIGN_TTL_S: z.coerce.number().int().min(10).max(3600).default(300),

  /**
   * The secret contributor pseudonyms in dataset bundles derive from (HMAC-SHA256 per campaign):
   * 32 random bytes in base64 (`openssl rand -base64 32`). Required in production; elsewhere,
   * unset, a fixed development key is used. Changing it changes the pseudonyms of bundles made
   * afterwards (bundles already made keep their manifests).
   */
  SUBMISSIONS_PSEUDONYM_KEY: z
    .string()
    .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32, {
      message: 'must be 32 bytes in base64 (openssl rand -base64 32)',
    })
    .optional(),
});

/** Submissions' environment: the kit's variables plus its own, parsed once at start. */
export const submissionsConfigSchema = submissionsVariables.superRefine((config, context) => {
  if (config.NODE_ENV === 'production' && config.SUBMISSIONS_PSEUDONYM_KEY === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['SUBMISSIONS_PSEUDONYM_KEY'],
      message: 'is required in production (32 bytes in base64: openssl rand -base64 32)',
    });
  }
  if (config.NODE_ENV === 'production') {
    const secrets = ['SUBMISSIONS_PSEUDONYM_KEY', 'MEDIA_S3_SECRET_ACCESS_KEY'] as const;
    for (const variable of secrets) {
      const value = config[variable];
      if (value === undefined) continue;
      const bytes =
        variable === 'SUBMISSIONS_PSEUDONYM_KEY' ? Buffer.from(value, 'base64') : Buffer.from(value);
      const committed = knownDevelopmentSecret(bytes);
      if (committed !== undefined) {
        context.addIssue({ code: 'custom', path: [variable], message: developmentSecretMessage(committed) });
      }
    }
  }
  if (config.MEDIA_STORAGE !== 's3') return;
  const required = (variable: keyof typeof config, why: string) => {
    if (config[variable] === undefined) context.addIssue({ code: 'custom', path: [variable], message: why });
  };
  required('MEDIA_S3_BUCKET', 'is required when MEDIA_STORAGE=s3');
  if ((config.MEDIA_S3_ACCESS_KEY_ID === undefined) !== (config.MEDIA_S3_SECRET_ACCESS_KEY === undefined)) {
    required('MEDIA_S3_ACCESS_KEY_ID', 'goes with MEDIA_S3_SECRET_ACCESS_KEY: set both');
    required('MEDIA_S3_SECRET_ACCESS_KEY', 'goes with MEDIA_S3_ACCESS_KEY_ID: set both');
  } else if (config.NODE_ENV !== 'development') {
    const why = `is required when MEDIA_STORAGE=s3 outside development (NODE_ENV=${config.NODE_ENV})`;
    required('MEDIA_S3_ACCESS_KEY_ID', why);
    required('MEDIA_S3_SECRET_ACCESS_KEY', why);
  }
});

export type SubmissionsConfig = z.infer<typeof submissionsConfigSchema>;

export function loadSubmissionsConfig(env: NodeJS.ProcessEnv = process.env): SubmissionsConfig {
  return loadConfig(submissionsConfigSchema, env);
}

/** MinIO's out-of-the-box login: only ever used in development, when none is configured. */
export const DEVELOPMENT_S3_CREDENTIALS = { accessKeyId: 'minioadmin', secretAccessKey: 'minioadmin' };

/** The pseudonym key outside production when none is configured: public, so never for real data. */
export const DEVELOPMENT_PSEUDONYM_KEY = Buffer.from('tessera-dev-bundle-pseudonym-key').toString('base64');

/** The key contributor pseudonyms derive from (the development key only outside production). */
export function pseudonymKeyOf(config: SubmissionsConfig): Buffer {
  if (config.SUBMISSIONS_PSEUDONYM_KEY !== undefined)
    return Buffer.from(config.SUBMISSIONS_PSEUDONYM_KEY, 'base64');
  if (config.NODE_ENV === 'production')
    throw new Error('SUBMISSIONS_PSEUDONYM_KEY is required in production');
  return Buffer.from(DEVELOPMENT_PSEUDONYM_KEY, 'base64');
}

/** `.tessera/media` at the root of the enclosing pnpm workspace, else under `cwd`. */
export function defaultMediaDir(cwd: string): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return path.join(dir, '.tessera', 'media');
    if (path.dirname(dir) === dir) return path.resolve(cwd, '.tessera', 'media');
  }
}
