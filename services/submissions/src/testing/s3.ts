// Test support: a real S3-compatible server (s3rver) in this process, on a random port, with one
// bucket, for the S3 adapter's contract tests and the service in S3 mode.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import type { S3StorageOptions } from '../media/s3-storage.ts';

export interface TestS3 {
  endpoint: string;
  /** What `s3MediaStorage` needs to reach it. */
  options: S3StorageOptions;
  stop(): Promise<void>;
}

export async function startTestS3(bucket = 'media'): Promise<TestS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'tessera-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    options: {
      bucket,
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      // s3rver's fixed credentials: it checks the signatures made with them.
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    },
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
