import { inflateRawSync } from 'node:zlib';

/**
 * The files of a zip archive (stored or deflated), read from its central directory: enough to look
 * into a dataset bundle without another dependency.
 */
export function unzip(bytes: Buffer): Map<string, Buffer> {
  let end = bytes.length - 22;
  while (end >= 0 && bytes.readUInt32LE(end) !== 0x06054b50) end -= 1;
  if (end < 0) throw new Error('not a zip archive: no end of central directory');
  const entries = bytes.readUInt16LE(end + 10);
  let at = bytes.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < entries; i++) {
    if (bytes.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = bytes.readUInt16LE(at + 10);
    const compressed = bytes.readUInt32LE(at + 20);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const local = bytes.readUInt32LE(at + 42);
    const name = bytes.toString('utf8', at + 46, at + 46 + nameLength);
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    const data = bytes.subarray(start, start + compressed);
    files.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

/** The submissions a dataset bundle holds (its manifest, in order), and its media files. */
export function bundleContents(zip: Buffer): { submissionIds: string[]; media: string[] } {
  const files = unzip(zip);
  const manifest = files.get('manifest.jsonl');
  if (!manifest) throw new Error('the bundle has no manifest.jsonl');
  const submissionIds = manifest
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { submission_id: string }).submission_id);
  return { submissionIds, media: [...files.keys()].filter((name) => name.startsWith('media/')) };
}
