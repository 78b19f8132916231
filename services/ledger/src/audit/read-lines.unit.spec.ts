import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLines } from './verify-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'read-lines-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function both(name: string, content: string): Promise<{ ours: string[]; readline: string[] }> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  const ours: string[] = [];
  const lines = readLines(file);
  for await (const page of lines) ours.push(...page);
  expect(lines.bytesRead).toBe(Buffer.byteLength(content));
  const readline: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    readline.push(line);
  }
  return { ours, readline };
}

describe('readLines', () => {
  it('splits as readline does: LF, CRLF, a lone CR, no final newline', async () => {
    const { ours, readline } = await both('small', 'a\nb\r\nc\rd\n\ne');
    expect(ours).toEqual(['a', 'b', 'c', 'd', '', 'e']);
    expect(ours).toEqual(readline);
  });

  it('keeps multi-byte characters and CRLFs whole across the chunks it reads', async () => {
    // Lines of varying length so that chunk boundaries fall inside characters and between CR and LF.
    const content =
      Array.from({ length: 60_000 }, (_, i) => `${'é€😀'.repeat(i % 7)}${i}`).join('\r\n') + '\n';
    const { ours, readline } = await both('large', content);
    expect(ours).toHaveLength(60_000);
    expect(ours).toEqual(readline);
  });
});
