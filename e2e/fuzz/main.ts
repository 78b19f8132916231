/**
 * The long form of the API fuzzer: every operation of the gateway's merged OpenAPI document, as
 * every role, with generated well-formed and hostile requests; fails on any 5xx, any request left
 * unanswered, a refused request that changed an outbox or the ledger, or a forged token let in.
 *
 *   npm run fuzz -- --requests 10000 [--seed 1]
 *       starts its own platform (embedded Postgres, the local runner) and fuzzes it;
 *   npm run fuzz -- --gateway http://127.0.0.1:8080 --database-url postgres://…/postgres
 *       fuzzes a running platform (the database URL is the server's, as the runner got it).
 *
 * Admin credentials: ADMIN_EMAIL / ADMIN_PASSWORD (the ones the platform bootstrapped).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { discoverServices, databaseName, databaseUrl } from '../../infra/local/src/services.ts';
import { gatewayClient } from '../client.ts';
import { scriptPlatform } from '../platform.ts';
import { fuzzCast, SESSION_ENDING } from './fixture.ts';
import { operationsOf } from './operations.ts';
import { formatReport, fuzz } from './run.ts';
import { stateProbe } from './state.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    requests: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    gateway: { type: 'string' },
    'database-url': { type: 'string' },
    /** Where to write the whole report as JSON. */
    report: { type: 'string' },
  },
});

const stopAfter: (() => Promise<unknown>)[] = [];
try {
  const script = await scriptPlatform({ gateway: values.gateway, databaseUrl: values['database-url'] });
  stopAfter.push(() => script.stop());
  const { platform, serverUrl, admin } = script;
  const client = gatewayClient(() => platform);
  const document = (await (await fetch(`${platform.baseUrl}/docs/json`)).json()) as Parameters<
    typeof operationsOf
  >[0];
  const operations = operationsOf(document);
  const services = await discoverServices(path.join(repoRoot, 'services'));
  const state = stateProbe(
    Object.fromEntries(services.map((s) => [s.name, databaseUrl(serverUrl, databaseName(s.name))])),
  );
  stopAfter.unshift(() => state.close());
  const cast = await fuzzCast(client, () => platform.baseUrl, admin);
  const perCell = Math.max(1, Math.ceil(Number(values.requests) / (operations.length * cast.roles.length)));
  console.log(
    `fuzzing ${operations.length} operations × ${cast.roles.length} roles × ${perCell} requests (seed ${values.seed})`,
  );
  const report = await fuzz({
    baseUrl: platform.baseUrl,
    operations,
    ...cast,
    state,
    perCell,
    seed: Number(values.seed),
    sessionEnding: SESSION_ENDING,
    onProgress: (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} cells`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(formatReport(report));
  if (values.report) await writeFile(values.report, JSON.stringify(report, null, 2));
  process.exitCode = report.findings.length === 0 ? 0 : 1;
} finally {
  for (const stop of stopAfter) await stop().catch(() => undefined);
}
