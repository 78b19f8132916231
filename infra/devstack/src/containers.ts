import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/*
 * testcontainers is only imported when some container runtime is plausible: the import alone costs
 * more than half a second, and on machines without Docker we want no delay at all.
 */
function containerRuntimeHinted(env: NodeJS.ProcessEnv): boolean {
  if (process.platform === 'win32' || env.DOCKER_HOST || env.TESTCONTAINERS_HOST_OVERRIDE) return true;
  const home = os.homedir();
  const candidates = [
    path.join(home, '.testcontainers.properties'),
    '/var/run/docker.sock',
    path.join(home, '.docker', 'run', 'docker.sock'),
    path.join(home, '.docker', 'desktop', 'docker.sock'),
    `/run/user/${os.userInfo().uid}/docker.sock`,
    ...(env.XDG_RUNTIME_DIR ? [path.join(env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
  ];
  return candidates.some((candidate) => existsSync(candidate));
}

let runtimeAnswers: Promise<boolean> | undefined;

/**
 * Whether testcontainers finds a container runtime that answers, decided within `timeoutMs`
 * (a runtime that hangs counts as absent). Cached for the life of the process.
 * `TESSERA_NO_CONTAINERS=1` turns containers off.
 */
export function containerRuntimeAnswers(timeoutMs = 3_000): Promise<boolean> {
  return (runtimeAnswers ??= (async () => {
    if (process.env.TESSERA_NO_CONTAINERS === '1' || !containerRuntimeHinted(process.env)) return false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const probe = import('testcontainers').then(({ getContainerRuntimeClient }) =>
      getContainerRuntimeClient().then(() => true),
    );
    try {
      return await Promise.race([probe.catch(() => false), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  })());
}

export interface StartedContainer {
  url: string;
  stop(): Promise<void>;
}

export async function startPostgresContainer(): Promise<StartedContainer> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:18-alpine')
    .withDatabase('postgres')
    .withUsername('postgres')
    .withPassword('postgres')
    .withCommand(['postgres', '-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'])
    .start();
  return { url: container.getConnectionUri(), stop: async () => void (await container.stop()) };
}

export async function startNatsContainer(): Promise<StartedContainer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('nats:2.10')
    .withCommand(['-js'])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  return {
    url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
    stop: async () => void (await container.stop()),
  };
}
