import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ServiceDefinition } from '../../../packages/service-kit/src/service.ts';
import { engagementDefinition } from '../../../services/engagement/src/service.ts';
import { identityDefinition } from '../../../services/identity/src/service.ts';
import { ledgerDefinition } from '../../../services/ledger/src/service.ts';
import { payoutsDefinition } from '../../../services/payouts/src/service.ts';
import { qcDefinition } from '../../../services/qc/src/service.ts';
import { submissionsDefinition } from '../../../services/submissions/src/service.ts';
import { tasksDefinition } from '../../../services/tasks/src/service.ts';
import { natsConfPath } from './generate.ts';
import { READS, SERVICES, permissionsFor, withGeneratedBlock, type ServiceName } from './permissions.ts';

/** Anything a consumers factory may touch while building its specs: callable, any property, any depth. */
function stub(): unknown {
  const target = function () {};
  const proxy: unknown = new Proxy(target, {
    get: (_, key) => (key === Symbol.toPrimitive ? () => 1 : key === 'then' ? undefined : proxy),
    apply: () => proxy,
  });
  return proxy;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const definitions: Record<ServiceName, ServiceDefinition<any, any, any>> = {
  identity: identityDefinition(),
  tasks: tasksDefinition,
  submissions: submissionsDefinition,
  qc: qcDefinition,
  ledger: ledgerDefinition(),
  payouts: payoutsDefinition,
  engagement: engagementDefinition,
};

/**
 * The producers whose streams a service's consumers read, from its real definition, plus identity's
 * for the kit's own revocation consumer, which every service that verifies tokens over JWKS runs
 * (startService).
 */
function consumedProducers(service: ServiceName): string[] {
  const definition = definitions[service];
  const specs = definition.consumers?.(stub() as never) ?? [];
  const kit = definition.tokens ? [] : ['identity'];
  return [...new Set([...specs.map((spec) => spec.producer), ...kit])].filter((p) => p !== service).sort();
}

describe('the NATS permissions table', () => {
  it.each(SERVICES)('grants %s exactly the streams its consumers read', (service) => {
    expect(definitions[service].name).toBe(service);
    expect([...READS[service]].sort()).toEqual(consumedProducers(service));
  });

  it('lets a service publish only its own events and manage only its own stream', () => {
    const { publish, subscribe } = permissionsFor('tasks');
    expect(publish.allow.filter((s) => !s.startsWith('$JS'))).toEqual(['tasks.>', 'signals.tasks.>']);
    expect(publish.allow.filter((s) => /STREAM\.(CREATE|UPDATE|DELETE)/.test(s))).toEqual([
      '$JS.API.STREAM.CREATE.TASKS',
      '$JS.API.STREAM.UPDATE.TASKS',
    ]);
    expect(subscribe.allow).toEqual(['_INBOX.tasks.>', 'signals.tasks.>']);
  });

  it('namespaces subjects and streams with the prefix', () => {
    const { publish } = permissionsFor('tasks', { prefix: 't1' });
    expect(publish.allow).toContain('t1.tasks.>');
    expect(publish.allow).toContain('t1.signals.tasks.>');
    expect(publish.allow).toContain('$JS.API.STREAM.CREATE.T1_TASKS');
    expect(publish.allow).toContain('$JS.API.CONSUMER.MSG.NEXT.T1_IDENTITY.>');
  });

  it('is what the checked-in infra/nats/nats.conf says (regenerate: pnpm --filter @tessera/local nats:permissions)', async () => {
    const conf = await readFile(natsConfPath, 'utf8');
    expect(conf).toBe(withGeneratedBlock(conf));
  });
});
