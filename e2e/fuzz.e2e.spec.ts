import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseName, databaseUrl, discoverServices } from '../infra/local/src/services.ts';
import { gatewayClient } from './client.ts';
import { fuzzCast, SESSION_ENDING } from './fuzz/fixture.ts';
import { operationsOf } from './fuzz/operations.ts';
import { formatReport, fuzz } from './fuzz/run.ts';
import { stateProbe } from './fuzz/state.ts';
import { e2eAdmin, type Platform, sharedPlatform } from './platform.ts';

// The short form of the API fuzzer (the long form: `npm run fuzz -- --requests 10000`): every
// operation of the merged OpenAPI document as every role, one generated request each (well-formed
// or hostile), and every secured one with forged tokens. Nothing answers 5xx or fails to answer, a
// refused request leaves every outbox and the ledger's log as they were, and no forged token gets in.

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
let platform: Platform;

beforeAll(async () => {
  platform = await sharedPlatform();
});

describe('the API under fuzzing', () => {
  it('answers every generated and hostile request without a 5xx, and a refusal changes nothing', async () => {
    const client = gatewayClient(() => platform);
    const document = (await (await fetch(`${platform.baseUrl}/docs/json`)).json()) as Parameters<
      typeof operationsOf
    >[0];
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThan(100);
    const services = await discoverServices(path.join(repoRoot, 'services'));
    const state = stateProbe(
      Object.fromEntries(
        services.map((s) => [s.name, databaseUrl(inject('postgresUrl'), databaseName(s.name))]),
      ),
    );
    try {
      const cast = await fuzzCast(client, () => platform.baseUrl, e2eAdmin);
      // A new seed each run covers more ground over time; a failure names it (FUZZ_SEED reruns it).
      const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
      const report = await fuzz({
        baseUrl: platform.baseUrl,
        operations,
        ...cast,
        state,
        perCell: 1,
        seed,
        sessionEnding: SESSION_ENDING,
      });
      const text = `seed ${seed}\n${formatReport(report)}`;
      console.log(text);
      expect(report.findings, text).toEqual([]);
      // Every cell ran: each operation as each role (less the session-ending ones as session holders).
      expect(report.requests).toBeGreaterThan(operations.length * cast.roles.length - 20);
      expect(report.refusalsChecked).toBeGreaterThan(report.requests / 4);
    } finally {
      await state.close();
    }
  }, 600_000);
});
