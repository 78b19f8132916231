import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileBreakdown } from './cpu-profile.ts';

const frame = (functionName: string, url = '') => ({ functionName, url });
const jose = 'file:///repo/node_modules/.pnpm/jose@6.1.0/node_modules/jose/dist/webapi/jwt/verify.js';
const engine = 'file:///repo/services/ledger/src/engine/ledger.ts';

// root ─┬─ (idle)
//       ├─ (garbage collector)
//       ├─ jwtVerify (jose) ── verify (node:crypto)     a node builtin counts as its caller
//       └─ transfer (engine) ── stringify (no url)       native code too
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 6] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('(garbage collector)') },
    { id: 4, callFrame: frame('jwtVerify', jose), children: [5] },
    { id: 5, callFrame: frame('verify', 'node:internal/crypto/sig') },
    { id: 6, callFrame: frame('transfer', engine), children: [7] },
    { id: 7, callFrame: frame('stringify') },
  ],
  startTime: 1_000_000,
  // One sample a millisecond: 1 001 000, 1 002 000, ... µs.
  samples: [5, 5, 7, 3, 2, 5, 7, 7],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cpu-profile-spec-'));
  file = path.join(dir, 'CPU.cpuprofile');
  await writeFile(file, JSON.stringify(profile));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('profileBreakdown', () => {
  it('charges each sample to the nearest frame it can name, idle left out', async () => {
    // The first seven samples; the last has no following delta, so it weighs nothing.
    const breakdown = await profileBreakdown(file, [{ startUs: 1_001_000, endUs: 1_008_000 }]);
    expect(Object.fromEntries(breakdown.categories)).toEqual({
      'auth: JWT verify (jose)': 3,
      'ledger engine': 2,
      GC: 1,
    });
    expect(breakdown.busyMs).toBe(6);
  });

  it('counts only the samples inside the windows', async () => {
    const breakdown = await profileBreakdown(file, [
      { startUs: 1_001_000, endUs: 1_002_500 },
      { startUs: 1_006_500, endUs: 1_007_500 },
    ]);
    expect(breakdown.categories).toEqual([
      ['auth: JWT verify (jose)', 2],
      ['ledger engine', 1],
    ]);
  });

  it("names another service's code by its service and folder", async () => {
    const qc = path.join(dir, 'qc.cpuprofile');
    await writeFile(
      qc,
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: frame('(root)'), children: [2] },
          {
            id: 2,
            callFrame: frame('decide', 'file:///repo/services/qc/src/reviews/decide.ts'),
            children: [3],
          },
          { id: 3, callFrame: frame('parse') },
        ],
        startTime: 0,
        samples: [2, 3, 3],
        timeDeltas: [1000, 1000, 1000],
      }),
    );
    const breakdown = await profileBreakdown(qc, [{ startUs: 0, endUs: 10_000 }]);
    expect(breakdown.categories).toEqual([['qc reviews', 2]]);
  });
});
