// The MediaStorage contract, run against each adapter: the local filesystem and S3 (s3rver, a real
// S3-compatible server in this process).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3, type TestS3 } from '../testing/s3.ts';
import { openLocalMediaStorage } from './local-storage.ts';
import { s3MediaStorage } from './s3-storage.ts';
import { MediaObjectMissing, type MediaStorage } from './storage.ts';

interface Adapter {
  storage: MediaStorage;
  /** Every file or object the store holds, to prove that nothing was left behind. */
  everything(): Promise<string[]>;
  stop(): Promise<void>;
}

const adapters: Record<string, () => Promise<Adapter>> = {
  local: async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-media-contract-'));
    return {
      storage: await openLocalMediaStorage(dir),
      everything: async () =>
        (await readdir(dir, { recursive: true, withFileTypes: true }))
          .filter((entry) => entry.isFile())
          .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name))),
      stop: () => rm(dir, { recursive: true, force: true }),
    };
  },
  s3: async () => {
    const s3: TestS3 = await startTestS3();
    const storage = s3MediaStorage(s3.options);
    return {
      storage,
      everything: async () => {
        const { S3Client, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
        const client = new S3Client({
          region: s3.options.region,
          endpoint: s3.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: s3.options.accessKeyId, secretAccessKey: s3.options.secretAccessKey },
        });
        const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.options.bucket }));
        client.destroy();
        return (listed.Contents ?? []).map((object) => object.Key!);
      },
      async stop() {
        await storage.close?.();
        await s3.stop();
      },
    };
  },
};

const MiB = 1024 * 1024;
const key = () => `media/${randomUUID().slice(0, 2)}/${randomUUID()}`;

/** `size` bytes in chunks of at most 64 KiB, as an upload arrives. */
function chunked(bytes: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024);
    })(),
  );
}

/** A body that sends `bytes` and then breaks off with `error`. */
function breaking(bytes: number, error: Error): Readable {
  return Readable.from(
    (async function* () {
      for (let sent = 0; sent < bytes; sent += 64 * 1024)
        yield randomBytes(Math.min(64 * 1024, bytes - sent));
      throw error;
    })(),
  );
}

describe.each(Object.keys(adapters))('MediaStorage contract: %s', (name) => {
  let adapter: Adapter;
  let storage: MediaStorage;

  beforeAll(async () => {
    adapter = await adapters[name]!();
    storage = adapter.storage;
  });

  afterAll(async () => {
    await adapter?.stop();
  });

  it('stores a stream, answers the bytes written, and gives the same bytes back', async () => {
    const bytes = randomBytes(300 * 1024 + 17);
    const at = key();
    expect(await storage.put(at, chunked(bytes), { contentType: 'audio/wav' })).toEqual({
      bytes: bytes.length,
    });
    expect(await storage.stat(at)).toEqual({ bytes: bytes.length });
    expect((await buffer(await storage.get(at))).equals(bytes)).toBe(true);
  });

  it('streams a body larger than one upload part without knowing its length', async () => {
    const bytes = randomBytes(12 * MiB + 5);
    const at = key();
    expect(await storage.put(at, chunked(bytes))).toEqual({ bytes: bytes.length });
    const back = await buffer(await storage.get(at));
    expect(createHash('sha256').update(back).digest('hex')).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
  });

  it('reads a byte range, both ends included', async () => {
    const bytes = randomBytes(10_000);
    const at = key();
    await storage.put(at, chunked(bytes));
    for (const [start, end] of [
      [0, 0],
      [0, 99],
      [1234, 5678],
      [9_999, 9_999],
    ] as const) {
      const part = await buffer(await storage.get(at, { start, end }));
      expect(part.equals(bytes.subarray(start, end + 1))).toBe(true);
    }
  });

  it('leaves nothing behind when the body breaks off, small or past a part, and rejects with its error', async () => {
    const before = await adapter.everything();
    for (const size of [10 * 1024, 6 * MiB]) {
      const at = key();
      const broken = new Error(`broke after ${size}`);
      await expect(storage.put(at, breaking(size, broken))).rejects.toBe(broken);
      expect(await storage.stat(at)).toBeNull();
      await expect(storage.get(at)).rejects.toBeInstanceOf(MediaObjectMissing);
    }
    expect(await adapter.everything()).toEqual(before);
  });

  it('replaces what was under a key, and deletes, also what is not there', async () => {
    const at = key();
    await storage.put(at, chunked(Buffer.from('first version')));
    await storage.put(at, chunked(Buffer.from('second')));
    expect((await buffer(await storage.get(at))).toString()).toBe('second');
    await storage.delete(at);
    expect(await storage.stat(at)).toBeNull();
    await storage.delete(at);
    await storage.delete(key());
  });

  it('knows nothing of a key never written', async () => {
    const at = key();
    expect(await storage.stat(at)).toBeNull();
    await expect(storage.get(at)).rejects.toBeInstanceOf(MediaObjectMissing);
    await expect(storage.get(at, { start: 0, end: 10 })).rejects.toBeInstanceOf(MediaObjectMissing);
  });

  it('refuses keys that could leave its root', async () => {
    for (const bad of [
      '../escape',
      'media/../../etc/passwd',
      '/absolute',
      'a//b',
      'media/.hidden',
      'A/B',
      '',
    ]) {
      await expect(storage.put(bad, chunked(Buffer.from('x')))).rejects.toThrow(/not a media key/);
      await expect(storage.get(bad)).rejects.toThrow(/not a media key/);
    }
  });

  it('signs a short-lived URL that reads the object (S3 only)', async () => {
    if (!storage.presignedGetUrl) {
      expect(storage.kind).toBe('local');
      return;
    }
    const bytes = randomBytes(2048);
    const at = key();
    await storage.put(at, chunked(bytes), { contentType: 'image/png' });
    const url = await storage.presignedGetUrl(at, { expiresInSeconds: 60, contentType: 'image/png' });
    expect(url).toMatch(/X-Amz-Signature=/);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    // (s3rver does not verify SigV4 signatures, so a forged URL is not refused here as by S3.)
  });
});

describe('S3 storage against a store that never answers', () => {
  it('fails each request after the idle limit instead of waiting for ever', async () => {
    // Accepts connections, reads what comes, and never writes a byte back.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const storage = s3MediaStorage({
      bucket: 'tessera-media',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      accessKeyId: 'test',
      secretAccessKey: 'test-secret',
      idleTimeoutMs: 200,
    });
    try {
      const started = Date.now();
      await expect(storage.stat(key())).rejects.toMatchObject({ name: 'TimeoutError' });
      await expect(storage.delete(key())).rejects.toMatchObject({ name: 'TimeoutError' });
      // Three attempts of 200 ms each, with the SDK's backoff between them, for both calls.
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await storage.close?.();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 20_000);
});
