import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Row } from '../infra/load/src/measure.ts';

// The short form of `npm run load`: the script starts its own platform and runs every scenario at a
// tiny size (2,000 tasks, 200 contributors, 8 workers, 3 s each; the paced end to end at 10/s). Each scenario ran, produced
// figures and met no error; the targets are not asserted (CI machines vary).

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describe('npm run load, short form', () => {
  it('runs every scenario and reports figures without errors', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-load-spec-'));
    const report = path.join(dir, 'report.json');
    try {
      const args = ['--seconds', '3', '--tasks', '2000', '--contributors', '200', '--workers', '8'];
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', 'infra/load/src/main.ts', ...args, '--connections', '4', '--report', report],
        { cwd: repoRoot, env: process.env, maxBuffer: 32 * 2 ** 20, timeout: 280_000 },
      ).catch((error: { stdout?: string; stderr?: string }) => {
        throw new Error(`npm run load failed:\n${error.stderr ?? ''}\n${error.stdout ?? ''}`);
      });
      process.stdout.write(stdout);
      const { rows, breakdowns } = JSON.parse(await readFile(report, 'utf8')) as {
        rows: Row[];
        breakdowns: { label: string; lines: string[] }[];
      };
      const names = rows.map((r) => r.scenario);
      for (const prefix of [
        'feed (',
        'feed at',
        'claims',
        'submissions',
        'end to end:',
        'end to end, paced at 10/s',
        'GET /.well-known/jwks.json on',
      ]) {
        expect(
          names.some((n) => n.startsWith(prefix)),
          `${prefix} in ${names.join(', ')}`,
        ).toBe(true);
      }
      expect(names.filter((n) => n.includes('through the gateway'))).toHaveLength(1);
      // The paced run always says where its time went: every step measured on every hand-in.
      const paced = breakdowns.find((b) => b.label.startsWith('end to end, paced'));
      expect(paced?.lines.filter((line) => /p50 +-?\d+ +p99 +-?\d+ +\(\d+\)$/.test(line))).toHaveLength(7);
      expect(paced?.lines.at(-1)).toMatch(/^CPU per approval/);
      for (const row of rows) {
        expect(row.errors, `${row.scenario}: ${row.note ?? ''}`).toBe(0);
        expect(row.requests, row.scenario).toBeGreaterThan(0);
        expect(row.rps, row.scenario).toBeGreaterThan(0);
        expect(Number.isFinite(row.p50) && Number.isFinite(row.p99), row.scenario).toBe(true);
        expect(row.cpuPct, row.scenario).toBeGreaterThan(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
