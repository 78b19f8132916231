/**
 * Where a server's CPU went, from the V8 CPU profile `node --cpu-prof` writes at exit: each sample
 * inside the given time windows is charged to the nearest frame on its stack whose code we can name
 * (a library, a folder of ours), so that `crypto.verify` called by jose counts as JWT verification
 * and a JSON.stringify inside pino as logging. Samples are timed on the monotonic clock that
 * process.hrtime reads, so windows measured in the benchmark select them.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What a piece of code is, by its file; the first match wins. */
const CATEGORIES: [RegExp, string][] = [
  [/\/node_modules\/jose\//, 'auth: JWT verify (jose)'],
  [/service-kit\/src\/read-models\/revocations/, 'auth: revocation check'],
  [/service-kit\/src\/http\/auth/, 'auth: kit'],
  [/\/node_modules\/(zod|fastify-type-provider-zod)\//, 'zod (validation, serialisation)'],
  [/\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|pg-connection-string)\//, 'pg driver'],
  [/\/node_modules\/kysely\//, 'kysely'],
  [/\/node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact)\//, 'logging (pino)'],
  [/\/node_modules\/@nats-io\//, 'nats client'],
  [/\/node_modules\/undici\//, 'undici (proxying upstream)'],
  [
    /\/node_modules\/(fastify|@fastify\/[^/]+|find-my-way|avvio|fast-json-stringify|light-my-request|toad-cache|proxy-addr)\//,
    'fastify',
  ],
  [/\/node_modules\/(tsx|esbuild)\//, 'tsx loader'],
  [/services\/ledger\/src\/engine\//, 'ledger engine'],
  [/services\/ledger\/src\/store\//, 'ledger event store'],
  [/services\/ledger\/src\/projections\//, 'ledger projections'],
  [/services\/ledger\/src\/messaging\//, 'ledger outcome publisher'],
  [/services\/ledger\/src\/audit\//, 'ledger audit sealer'],
  [/services\/ledger\/src\/domain\//, 'ledger domain rules'],
  [/services\/ledger\/src\/routes\//, 'ledger routes'],
  [/service-kit\/src\/messaging\//, 'kit outbox relay, consumers'],
  [/service-kit\/src\/http\//, 'kit http'],
  [/service-kit\/src\//, 'kit (other)'],
  [/packages\/contracts\//, 'contracts'],
  [/infra\/gateway\/src\//, 'gateway code'],
];

function categoryOf(frame: ProfileNode['callFrame']): string | undefined {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    return undefined;
  }
  if (url.startsWith('node:')) return undefined;
  for (const [pattern, name] of CATEGORIES) if (pattern.test(url)) return name;
  // Any other service's code, by its folder (the load run profiles every service).
  const ours = /\/services\/([a-z-]+)\/src\/([a-z-]+)/.exec(url);
  if (ours) return `${ours[1]} ${ours[2]}`;
  const pkg = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return pkg ? `node_modules: ${pkg[1]}` : 'other code';
}

export interface Breakdown {
  /** Busy (not idle) CPU ms in the windows. */
  busyMs: number;
  /** ms by category, largest first. */
  categories: [string, number][];
}

export async function profileBreakdown(
  file: string,
  windows: readonly { startUs: number; endUs: number }[],
): Promise<Breakdown> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const leafCategory = new Map<number, string>();
  const categorise = (id: number): string => {
    const known = leafCategory.get(id);
    if (known) return known;
    let name: string | undefined;
    for (let at: number | undefined = id; at !== undefined && !name; at = parent.get(at)) {
      name = categoryOf(byId.get(at)!.callFrame);
    }
    const leaf = byId.get(id)!.callFrame;
    name ??= leaf.url.startsWith('node:') ? 'node core (net, http, streams)' : 'V8 / native';
    leafCategory.set(id, name);
    return name;
  };

  const totals = new Map<string, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (!windows.some((w) => at >= w.startUs && at < w.endUs)) continue;
    // A sample stands for the time until the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const name = categorise(profile.samples[i]!);
    totals.set(name, (totals.get(name) ?? 0) + ms);
  }
  totals.delete('idle');
  const categories = [...totals].sort((a, b) => b[1] - a[1]);
  return { busyMs: categories.reduce((sum, [, ms]) => sum + ms, 0), categories };
}
