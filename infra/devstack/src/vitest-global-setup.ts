import type { TestProject } from 'vitest/node';
import { TEST_NATS_ENV, TEST_POSTGRES_ENV, redactUrl } from './env.ts';
import { resolveNats } from './nats.ts';
import { resolvePostgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL to the `postgres` database; each test file creates its own database. */
    postgresUrl: string;
    natsUrl: string;
  }
}

/**
 * One Postgres and one NATS for a whole test run. A missing dependency throws, which fails the
 * run: integration tests never skip silently.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [postgres, nats] = await Promise.allSettled([
    resolvePostgres({ envNames: TEST_POSTGRES_ENV }),
    resolveNats({ envNames: TEST_NATS_ENV }),
  ]);
  if (postgres.status === 'rejected' || nats.status === 'rejected') {
    const errors: Error[] = [];
    for (const result of [postgres, nats]) {
      if (result.status === 'fulfilled') await result.value.stop();
      else errors.push(result.reason instanceof Error ? result.reason : new Error(String(result.reason)));
    }
    const [only] = errors;
    throw errors.length === 1 && only
      ? only
      : new AggregateError(errors, errors.map((e) => e.message).join('\n\n'));
  }

  console.log(
    `[devstack] ${project.name}: Postgres from ${postgres.value.source} (${redactUrl(postgres.value.url)}), ` +
      `NATS from ${nats.value.source} (${nats.value.url})`,
  );
  project.provide('postgresUrl', postgres.value.url);
  project.provide('natsUrl', nats.value.url);

  return async () => {
    await Promise.all([nats.value.stop(), postgres.value.stop()]);
  };
}
