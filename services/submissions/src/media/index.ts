import type { Logger } from '@tessera/service-kit';
import { DEVELOPMENT_S3_CREDENTIALS, type SubmissionsConfig } from '../config.ts';
import { openLocalMediaStorage } from './local-storage.ts';
import { s3MediaStorage } from './s3-storage.ts';
import type { MediaStorage } from './storage.ts';

export type { MediaStorage } from './storage.ts';
export { MediaObjectMissing } from './storage.ts';
export { mediaRoutes } from './routes.ts';
export { MEDIA_SWEEP_RUN, storageKeyOf, sweepOrphanedMedia, uploadMedia } from './handle.ts';

/** The store MEDIA_STORAGE names: a folder (MEDIA_DIR) or an S3 bucket. */
export async function openMediaStorage(config: SubmissionsConfig, logger: Logger): Promise<MediaStorage> {
  if (config.MEDIA_STORAGE === 'local') {
    logger.info({ dir: config.MEDIA_DIR }, 'media on the local filesystem');
    return openLocalMediaStorage(config.MEDIA_DIR);
  }
  // The config guarantees the bucket, and credentials outside development.
  const credentials =
    config.MEDIA_S3_ACCESS_KEY_ID && config.MEDIA_S3_SECRET_ACCESS_KEY
      ? { accessKeyId: config.MEDIA_S3_ACCESS_KEY_ID, secretAccessKey: config.MEDIA_S3_SECRET_ACCESS_KEY }
      : DEVELOPMENT_S3_CREDENTIALS;
  logger.info(
    { bucket: config.MEDIA_S3_BUCKET, endpoint: config.MEDIA_S3_ENDPOINT ?? 'AWS' },
    'media in S3-compatible storage',
  );
  return s3MediaStorage({
    bucket: config.MEDIA_S3_BUCKET!,
    region: config.MEDIA_S3_REGION,
    endpoint: config.MEDIA_S3_ENDPOINT,
    publicEndpoint: config.MEDIA_S3_PUBLIC_ENDPOINT,
    forcePathStyle: config.MEDIA_S3_FORCE_PATH_STYLE,
    connectTimeoutMs: config.MEDIA_S3_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: config.MEDIA_S3_IDLE_TIMEOUT_MS,
    ...credentials,
  });
}
