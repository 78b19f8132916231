import { describe, expect, it } from 'vitest';
import { DEVELOPMENT_PSEUDONYM_KEY, DEVELOPMENT_S3_CREDENTIALS, loadSubmissionsConfig } from './config.ts';

const base = {
  SERVICE_NAME: 'submissions',
  NODE_ENV: 'test',
  PORT: '4003',
  DATABASE_URL: 'postgres://localhost/tessera_submissions',
  NATS_URL: 'nats://localhost:4222',
};

describe('submissions secrets in production', () => {
  it('refuses the pseudonym keys and the MinIO login committed to the repository', () => {
    for (const key of [DEVELOPMENT_PSEUDONYM_KEY, 'pJ4jOUW6Yv2ZkF0l3Qp9yS8mN1cR7tX5bH2dG6wK0eA=']) {
      expect(() =>
        loadSubmissionsConfig({ ...base, NODE_ENV: 'production', SUBMISSIONS_PSEUDONYM_KEY: key }),
      ).toThrow(/SUBMISSIONS_PSEUDONYM_KEY: is a development value committed to the repository/);
    }
    expect(() =>
      loadSubmissionsConfig({
        ...base,
        NODE_ENV: 'production',
        SUBMISSIONS_PSEUDONYM_KEY: Buffer.alloc(32, 7).toString('base64'),
        MEDIA_STORAGE: 's3',
        MEDIA_S3_BUCKET: 'media',
        MEDIA_S3_ACCESS_KEY_ID: DEVELOPMENT_S3_CREDENTIALS.accessKeyId,
        MEDIA_S3_SECRET_ACCESS_KEY: DEVELOPMENT_S3_CREDENTIALS.secretAccessKey,
      }),
    ).toThrow(/MEDIA_S3_SECRET_ACCESS_KEY: is a development value committed to the repository/);
  });
});
