import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { canConnect, waitUntil } from './ports.ts';

const fixture = new URL('./testing/hold-stack.ts', import.meta.url).pathname;

describe('servers started by devstack', () => {
  it('stop when their parent dies of SIGKILL', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', fixture], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: parent.stdout }).once('line', resolve);
      parent.once('exit', (code) => reject(new Error(`the fixture exited with code ${code}`)));
    });
    const urls = Object.values(JSON.parse(line) as Record<string, string | null>);
    const ports = urls.flatMap((url) => (url ? [Number(new URL(url).port)] : []));
    for (const port of ports) expect(await canConnect('127.0.0.1', port)).toBe(true);

    parent.kill('SIGKILL');
    for (const port of ports) {
      await waitUntil(async () => !(await canConnect('127.0.0.1', port)), `port ${port} still answers`, {
        timeoutMs: 10_000,
      });
    }
  });
});
