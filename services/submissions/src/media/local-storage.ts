import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  assertMediaKey,
  ByteCounter,
  type ByteRange,
  MediaObjectMissing,
  type MediaStorage,
} from './storage.ts';

/**
 * Media on the local filesystem under `root` (`.tessera/media` by default): the default of
 * `npm start` and of the tests. A file is written to a hidden temporary name in its final folder
 * and renamed once complete, so a reader never sees half an upload; a failed write removes it.
 */
export async function openLocalMediaStorage(root: string): Promise<MediaStorage> {
  const base = path.resolve(root);
  await mkdir(base, { recursive: true });
  const fileOf = (key: string) => {
    assertMediaKey(key);
    return path.join(base, ...key.split('/'));
  };

  return {
    kind: 'local',

    async put(key, body) {
      const target = fileOf(key);
      const folder = path.dirname(target);
      await mkdir(folder, { recursive: true });
      // Same folder, so the rename is atomic; keys never start a segment with a dot, so no clash.
      const partial = path.join(folder, `.${path.basename(target)}.${randomUUID()}.part`);
      const counter = new ByteCounter();
      // Created before anything is written, so that the clean-up below always finds it.
      const file = await open(partial, 'wx');
      try {
        await pipeline(body, counter, file.createWriteStream({ flush: true }));
        await rename(partial, target);
        return { bytes: counter.bytes };
      } catch (error) {
        await file.close().catch(() => undefined);
        await rm(partial, { force: true });
        throw error;
      }
    },

    async get(key, range?: ByteRange) {
      const file = fileOf(key);
      let handle;
      try {
        handle = await open(file, 'r');
      } catch (error) {
        if (isNotFound(error)) throw new MediaObjectMissing(key);
        throw error;
      }
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    },

    async stat(key) {
      try {
        const info = await stat(fileOf(key));
        return info.isFile() ? { bytes: info.size } : null;
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },

    async delete(key) {
      await rm(fileOf(key), { force: true });
    },
  };
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
