import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findFreePort } from '@tessera/devstack';
import { beforeAll, describe, expect, it } from 'vitest';
import { e2eAdmin, type Platform, sharedPlatform } from './platform.ts';

// `npm run demo` against a running platform (here the e2e one, at a small size), twice: the second
// run adds more data and breaks nothing. And its clear refusal when no platform runs.

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

async function demo(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'infra/demo/src/demo.ts', ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        maxBuffer: 16 * 2 ** 20,
        timeout: 280_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run demo without a platform', () => {
  it('says clearly that none is running, and exits 1', async () => {
    const port = await findFreePort();
    const result = await demo(['--gateway', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no platform is running at http://127.0.0.1:${port}`);
    expect(result.stderr).toContain('npm start');
  });
});

describe('npm run demo against a running platform', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await sharedPlatform();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const ready = await fetch(`${platform.baseUrl}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
  it('fills it through the gateway and reports what it made, and a second run adds more', async () => {
    const args = ['--gateway', platform.baseUrl, '--contributors', '4'];
    const env = { ADMIN_EMAIL: e2eAdmin.email, ADMIN_PASSWORD: e2eAdmin.password };
    for (const round of [1, 2]) {
      const result = await demo(args, env);
      expect(result.code, `round ${round}:\n${result.stderr}\n${result.stdout}`).toBe(0);
      expect(result.stdout).toContain('Demo data created through the gateway');
      expect(result.stdout).toContain('each with a viewer, an API key');
      expect(result.stdout).toContain('a private campaign with 3 invited writers');
      expect(result.stdout).toContain(
        '4 contributors, 8 judges; 5 recordings reviewed, 0 refused at screening',
      );
      expect(result.stdout).toContain(
        '1 rejected by the judges, 11 pieces of other work approved, golden answers 3 right / 1 wrong',
      );
      expect(result.stdout).toContain(
        '1 revision approved, 1 split escalated and approved by the admin, 1 appeal overturned, 2 withdrawals paid out',
      );
      // The first company's mixed campaign: two contributors' two pieces each and their golden answers.
      const bundle = /dataset bundle: (\d+) submissions, (\d+) media files, saved to (\S+)/.exec(
        result.stdout,
      );
      expect(bundle?.slice(1, 3)).toEqual(['6', '2']);
      expect((await stat(bundle![3]!)).size).toBeGreaterThan(0);
      expect(result.stdout).toMatch(/reviser now has \d+ XP, level [2-9], badges: first_task/);
      expect(result.stdout).toMatch(/contributor +e2e\.journey\.contributor-1\.[0-9a-f]+@example\.test/);
      expect(result.stdout).toMatch(/ledger balanced +true/);
      process.stdout.write(`demo round ${round}: ${/Done in \d+ s/.exec(result.stdout)?.[0]}\n`);
    }
  }, 600_000);

  it('asks for an admin when it has none', async () => {
    const result = await demo(['--gateway', platform.baseUrl], { ADMIN_EMAIL: '', ADMIN_PASSWORD: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the demo needs an admin');
  });
});
