import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '../engine/ledger.ts';
import { createMemoryEventStore } from '../store/memory-store.ts';
import { defaultDatabaseUrl, runCli } from './cli.ts';
import { parseLine } from './export-format.ts';
import { publicKeyPem } from './seal.ts';
import { createSigner } from './seal-keys.ts';
import { driveLedger, manualClock } from './testing/activity.ts';
import { exportLines } from './testing/export.ts';

const signer = createSigner(generateKeyPairSync('ed25519').privateKey);
let dir: string;
let file: string;
let tampered: string;
let keyFile: string;
let user: string;

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
    env: {},
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  const store = createMemoryEventStore();
  const clock = manualClock();
  const summary = await driveLedger(createLedger(store, { clock: clock.now }), { clock, rounds: 1 });
  user = [...summary.accounts].find((a) => a.startsWith('user:'))!;
  const lines = await exportLines(store.all(), signer, { sealEvery: 10 });
  dir = await mkdtemp(path.join(tmpdir(), 'audit-cli-'));
  file = path.join(dir, 'export.ndjson');
  await writeFile(file, `${lines.join('\n')}\n`);
  const edited = lines.map((line, i) => {
    const parsed = i === 5 ? parseLine(line) : undefined;
    if (parsed?.kind !== 'event') return line;
    return line.replace(
      `"revision":${parsed.line.event.revision}`,
      `"revision":${parsed.line.event.revision + 1}`,
    );
  });
  tampered = path.join(dir, 'tampered.ndjson');
  await writeFile(tampered, `${edited.join('\n')}\n`);
  keyFile = path.join(dir, 'seal.pub');
  await writeFile(keyFile, publicKeyPem(signer.publicKey));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audit CLI', () => {
  it('prints usage with --help (exit 0) and on usage errors (exit 2)', async () => {
    expect(await cli('--help')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Usage:') as string,
    });
    for (const args of [
      [],
      ['frobnicate'],
      ['verify', 'extra'],
      ['verify', '--bogus'],
      ['export'],
      ['export', '--account', 'x', '--out', 'f'],
      ['balance', '--at', '5'],
      ['balance', '--account', 'world'],
      ['balance', '--account', 'world', '--at', 'yesterday'],
      ['balance', '--account', 'world', '--at', '2025-01-01T00:00:00'],
      ['verify', '--file', 'f', '--public-key', path.join(tmpdir(), 'does-not-exist.pem')],
    ]) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^error: [\s\S]*Usage:/);
    }
  });

  it('verify --file exits 0 on an intact export and 1 on a tampered one', async () => {
    const ok = await cli('verify', '--file', file, '--public-key', keyFile);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/PASSED: 0 failed checks, 0 warnings/);
    const bad = await cli('verify', '--file', tampered, '--public-key', keyFile);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ chain broken: \d+ problems?/);
    expect(bad.stdout).toMatch(/seq 5 .*hash does not match the event/);
  });

  it('balance --file prints the balance at a seq or a time', async () => {
    const result = await cli('balance', '--file', file, '--account', user, '--at', '2999-01-01T00:00:00Z');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/credits_posted\s+\d+/);
    expect(result.stdout).toContain('✓ entries and transfer replay agree');
    const before = await cli('balance', '--file', file, '--account', user, '--at', '1');
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(`no account ${user} at that point`);
  });

  it('defaults to the local runner’s ledger database', () => {
    expect(defaultDatabaseUrl({})).toBe('postgres://postgres:postgres@127.0.0.1:54329/tessera_ledger');
    expect(defaultDatabaseUrl({ PG_PORT: '6000' })).toContain(':6000/tessera_ledger');
    expect(defaultDatabaseUrl({ DATABASE_URL: 'postgres://x/y' })).toBe('postgres://x/y');
  });
});
