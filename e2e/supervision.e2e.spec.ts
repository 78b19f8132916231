import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIDS_FILE, type RunnerPids } from '../infra/local/src/supervision.ts';
import { type Platform, startPlatform } from './platform.ts';
import { alive } from './processes.ts';

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform(120_000);
});

afterAll(async () => {
  await platform?.stop();
});

async function pids(): Promise<Record<string, number>> {
  const file = JSON.parse(await readFile(path.join(platform.dataDir!, PIDS_FILE), 'utf8')) as RunnerPids;
  return file.processes;
}

/** Whoever answers GET /api/v1/campaigns without a token: the tasks service (401) or the gateway (502). */
async function probe(): Promise<{ status: number; code?: string }> {
  try {
    const reply = await fetch(`${platform.baseUrl}/api/v1/campaigns`, { signal: AbortSignal.timeout(5_000) });
    const body = (await reply.json().catch(() => ({}))) as { code?: string };
    return { status: reply.status, ...(body.code ? { code: body.code } : {}) };
  } catch {
    return { status: 0 };
  }
}

describe('the runner supervises its children', () => {
  it('restarts a service killed with SIGKILL on the same port, and the gateway reaches it again', async () => {
    const answer = await probe();
    expect(answer.status, 'tasks answers an anonymous caller itself').toBe(401);
    const before = await pids();
    const victim = before.tasks!;
    expect(alive(victim)).toBe(true);

    process.kill(victim, 'SIGKILL');

    let seenDown = false;
    let restarted: number | undefined;
    // Within the test's own timeout, so that a failure shows the runner's output.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const now = await probe();
      if (now.status === 502 || now.status === 0) seenDown = true;
      const current = (await pids()).tasks;
      if (current !== victim && now.status === 401) {
        restarted = current;
        break;
      }
      if (Date.now() > deadline) throw new Error(`tasks did not come back:\n${platform.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seenDown, 'the gateway saw tasks gone before it came back').toBe(true);
    expect(alive(victim)).toBe(false);
    expect(alive(restarted!)).toBe(true);
    expect(platform.output()).toMatch(/tasks was killed by SIGKILL: restarting it in 250 ms/);
    expect(platform.output()).toContain(`tasks restarted (pid ${restarted})`);
    // Every other child is the one it was.
    const after = await pids();
    for (const [name, pid] of Object.entries(before)) if (name !== 'tasks') expect(after[name]).toBe(pid);
    const ready = await fetch(`${platform.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
  }, 90_000);
});
