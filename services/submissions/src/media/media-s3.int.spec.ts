// The service with MEDIA_STORAGE=s3, against s3rver: uploads land in the bucket, content is a
// redirect to a presigned URL, and a refused upload leaves no object behind.
import { createHash, randomUUID } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { fileUpload, png, wav, zip } from '../testing/media.ts';
import { startTestS3, type TestS3 } from '../testing/s3.ts';

let s3: TestS3;
let t: TestSubmissions;
let token: string;

beforeAll(async () => {
  s3 = await startTestS3('tessera-media');
  t = await startTestSubmissions({
    MEDIA_STORAGE: 's3',
    MEDIA_S3_BUCKET: s3.options.bucket,
    MEDIA_S3_ENDPOINT: s3.endpoint,
    MEDIA_S3_ACCESS_KEY_ID: s3.options.accessKeyId,
    MEDIA_S3_SECRET_ACCESS_KEY: s3.options.secretAccessKey,
    MEDIA_PRESIGN_TTL_S: 60,
    MEDIA_MAX_IMAGE_BYTES: 64 * 1024,
  });
  token = await t.token({ sub: randomUUID(), role: 'contributor' });
});

afterAll(async () => {
  await t?.stop();
  await s3?.stop();
});

async function upload(file: { body: Buffer; contentType: string }) {
  const response = await t.service.app.inject({
    method: 'POST',
    url: '/api/v1/media',
    headers: { authorization: `Bearer ${token}`, 'content-type': file.contentType },
    payload: file.body,
  });
  return { status: response.statusCode, body: response.json() };
}

async function objects(): Promise<string[]> {
  const client = new S3Client({
    region: s3.options.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.options.accessKeyId, secretAccessKey: s3.options.secretAccessKey },
  });
  const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.options.bucket }));
  client.destroy();
  return (listed.Contents ?? []).map((object) => object.Key!).sort();
}

describe('media in S3', () => {
  it('stores an upload in the bucket and redirects reads to a short-lived presigned URL', async () => {
    const audio = wav(3);
    const uploaded = await upload(fileUpload(audio));
    expect(uploaded.status).toBe(201);
    const { id, sha256 } = uploaded.body.media;
    expect(sha256).toBe(createHash('sha256').update(audio).digest('hex'));
    expect(await objects()).toContain(`media/${id.slice(0, 2)}/${id}`);

    const read = await t.service.app.inject({
      url: `/api/v1/media/${id}/content`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect([read.statusCode, read.headers['cache-control']]).toEqual([302, 'no-store']);
    const location = String(read.headers.location);
    expect(location.startsWith(`${s3.endpoint}/${s3.options.bucket}/media/`)).toBe(true);
    expect(location).toMatch(/X-Amz-Expires=60&/);
    const fetched = await fetch(location);
    expect(fetched.headers.get('content-type')).toBe('audio/wav');
    // Nor does the store let a browser keep it past the read this service checked.
    expect(fetched.headers.get('cache-control')).toBe('private, no-store');
    expect(Buffer.from(await fetched.arrayBuffer()).equals(audio)).toBe(true);
  });

  it('leaves no object for a refused upload', async () => {
    const before = await objects();
    expect((await upload(fileUpload(zip(), 'a.png', 'image/png'))).status).toBe(415);
    const big = await upload(fileUpload(await png(200, 200, true), 'b.png', 'image/png'));
    expect([big.status, big.body.code]).toEqual([413, 'MEDIA_TOO_LARGE']);
    const whole = fileUpload(wav(2));
    const cut = await upload({ ...whole, body: whole.body.subarray(0, whole.body.length - 100) });
    expect([cut.status, cut.body.code]).toEqual([400, 'MALFORMED_MULTIPART']);
    expect(await objects()).toEqual(before);
  });
});
