import path from 'node:path';
import { ConfigError } from '@tessera/service-kit';
import { describe, expect, it } from 'vitest';
import { defaultMediaDir, loadSubmissionsConfig } from './config.ts';

const base = {
  SERVICE_NAME: 'submissions',
  NODE_ENV: 'development',
  PORT: '4005',
  DATABASE_URL: 'postgres://localhost/tessera_submissions',
  NATS_URL: 'nats://localhost:4222',
};

describe('submissions configuration', () => {
  it('keeps media on the local filesystem by default, under the workspace’s .tessera, with 50 and 25 MB limits', () => {
    const config = loadSubmissionsConfig(base);
    expect(config.MEDIA_STORAGE).toBe('local');
    expect(config.MEDIA_DIR).toBe(defaultMediaDir(process.cwd()));
    expect([config.MEDIA_MAX_AUDIO_BYTES, config.MEDIA_MAX_IMAGE_BYTES]).toEqual([
      50 * 1024 ** 2,
      25 * 1024 ** 2,
    ]);
    // The local runner starts a service in its own folder: its media still land in the repository's .tessera.
    const repo = path.resolve(import.meta.dirname, '../../..');
    expect(defaultMediaDir(path.join(repo, 'services/submissions'))).toBe(path.join(repo, '.tessera/media'));
    expect(loadSubmissionsConfig({ ...base, MEDIA_DIR: 'data/media' }).MEDIA_DIR).toBe(
      path.resolve('data/media'),
    );
  });

  it('needs a bucket for S3, and credentials outside development', () => {
    const s3 = { ...base, MEDIA_STORAGE: 's3' };
    expect(() => loadSubmissionsConfig(s3)).toThrow(/MEDIA_S3_BUCKET: is required when MEDIA_STORAGE=s3/);
    const development = loadSubmissionsConfig({ ...s3, MEDIA_S3_BUCKET: 'media' });
    expect([development.MEDIA_S3_ACCESS_KEY_ID, development.MEDIA_S3_FORCE_PATH_STYLE]).toEqual([
      undefined,
      true,
    ]);
    for (const NODE_ENV of ['production', 'test']) {
      expect(() => loadSubmissionsConfig({ ...s3, MEDIA_S3_BUCKET: 'media', NODE_ENV })).toThrow(
        /MEDIA_S3_ACCESS_KEY_ID: is required when MEDIA_STORAGE=s3 outside development[\s\S]*MEDIA_S3_SECRET_ACCESS_KEY/,
      );
    }
    expect(() =>
      loadSubmissionsConfig({ ...s3, MEDIA_S3_BUCKET: 'media', MEDIA_S3_ACCESS_KEY_ID: 'only-half' }),
    ).toThrow(ConfigError);
    const production = loadSubmissionsConfig({
      ...s3,
      NODE_ENV: 'production',
      SUBMISSIONS_PSEUDONYM_KEY: Buffer.alloc(32, 7).toString('base64'),
      MEDIA_S3_BUCKET: 'media',
      MEDIA_S3_ACCESS_KEY_ID: 'AKIA',
      MEDIA_S3_SECRET_ACCESS_KEY: 'secret',
      MEDIA_S3_FORCE_PATH_STYLE: 'false',
    });
    expect(production.MEDIA_S3_FORCE_PATH_STYLE).toBe(false);
  });

  it('keeps uploads no submission holds for 8 days (longer than any claim), swept every 10 minutes, within bounds', () => {
    const config = loadSubmissionsConfig(base);
    expect([config.SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS, config.SUBMISSIONS_MEDIA_SWEEP_INTERVAL_MS]).toEqual([
      192, 600_000,
    ]);
    const set = loadSubmissionsConfig({
      ...base,
      SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS: '72',
      SUBMISSIONS_MEDIA_SWEEP_INTERVAL_MS: '60000',
    });
    expect([set.SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS, set.SUBMISSIONS_MEDIA_SWEEP_INTERVAL_MS]).toEqual([
      72, 60_000,
    ]);
    for (const hours of ['0', '1.5', '721', 'a day']) {
      expect(() => loadSubmissionsConfig({ ...base, SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS: hours })).toThrow(
        /SUBMISSIONS_MEDIA_ORPHAN_TTL_HOURS/,
      );
    }
    for (const interval of ['0', '49', '100.5']) {
      expect(() => loadSubmissionsConfig({ ...base, SUBMISSIONS_MEDIA_SWEEP_INTERVAL_MS: interval })).toThrow(
        /SUBMISSIONS_MEDIA_SWEEP_INTERVAL_MS/,
      );
    }
  });

  it('refuses size limits that are not whole byte counts in range', () => {
    expect(() => loadSubmissionsConfig({ ...base, MEDIA_MAX_IMAGE_BYTES: '12.5' })).toThrow(ConfigError);
    expect(() => loadSubmissionsConfig({ ...base, MEDIA_MAX_AUDIO_BYTES: '10' })).toThrow(ConfigError);
  });
});
