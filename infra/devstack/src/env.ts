import { MissingDependencyError } from './errors.ts';
import { canConnect } from './ports.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Env variables consulted by tests, first match wins. */
export const TEST_POSTGRES_ENV = ['TEST_DATABASE_URL', 'DATABASE_URL'] as const;
export const TEST_NATS_ENV = ['TEST_NATS_URL', 'NATS_URL'] as const;

export interface EnvUrl {
  name: string;
  url: string;
}

/** The first non-empty variable among `names`, in that order. */
export function urlFromEnv(names: readonly string[], env: Env): EnvUrl | undefined {
  for (const name of names) {
    const url = env[name]?.trim();
    if (url) return { name, url };
  }
  return undefined;
}

/** The URL with its password masked, fit for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@/]+@/, '//$1:***@');
  }
}

/**
 * Fails fast, with a message naming the variable, when an env URL points at nothing: better than
 * every test or service timing out on its own. A NATS URL may list several servers; one answering
 * is enough. URLs without a TCP host (a Unix socket) are not checked.
 */
export async function assertReachable(
  dependency: 'postgres' | 'nats',
  { name, url }: EnvUrl,
  defaultPort: number,
): Promise<void> {
  const targets = url.split(',').flatMap((part) => {
    try {
      const parsed = new URL(part.includes('://') ? part.trim() : `${dependency}://${part.trim()}`);
      return parsed.hostname
        ? [{ host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || defaultPort) }]
        : [];
    } catch {
      return [];
    }
  });
  if (targets.length === 0) return;
  const answers = await Promise.all(targets.map(({ host, port }) => canConnect(host, port, 3_000)));
  if (answers.some(Boolean)) return;
  throw new MissingDependencyError(
    dependency,
    `${name} is set to ${redactUrl(url)} but nothing accepts connections there. ` +
      `Start that server, or unset ${name} to let devstack start one.`,
  );
}
