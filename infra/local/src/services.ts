import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { findFreePort, freePortBesides } from '@tessera/devstack';

/** A service as declared by the "tessera" field of services/<name>/package.json. */
export interface ServiceSpec {
  /** The folder name. */
  name: string;
  dir: string;
  port: number;
  /** Path prefixes the gateway forwards to this service, e.g. "/auth". */
  routes: string[];
}

export interface GatewayRoute {
  service: string;
  prefix: string;
  upstream: string;
}

export class ServiceConfigError extends Error {
  override readonly name = 'ServiceConfigError';
}

/** The entry point every service has; started with `node --import tsx`. */
export const SERVICE_ENTRY = path.join('src', 'server.ts');

/**
 * Every services/<name>/package.json having a "tessera": { "port", "routes" } field, sorted by name.
 * Folders without that field (shared code, work in progress) are not services and are skipped.
 */
export async function discoverServices(servicesDir: string): Promise<ServiceSpec[]> {
  const entries = await readdir(servicesDir, { withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  const services: ServiceSpec[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = path.join(servicesDir, entry.name);
    const manifestPath = path.join(dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { tessera?: unknown };
    if (manifest.tessera !== undefined) services.push(parseService(entry.name, dir, manifest.tessera));
  }
  assertNoClashes(services);
  return services;
}

function parseService(name: string, dir: string, declared: unknown): ServiceSpec {
  const where = `services/${name}/package.json "tessera"`;
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new ServiceConfigError(
      `services/${name}: a service folder name is lowercase letters, digits and dashes`,
    );
  }
  const { port, routes } = (declared ?? {}) as { port?: unknown; routes?: unknown };
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ServiceConfigError(`${where}: "port" must be an integer between 1 and 65535`);
  }
  if (
    !Array.isArray(routes) ||
    !routes.every((r): r is string => typeof r === 'string' && /^\/\S*$/.test(r))
  ) {
    throw new ServiceConfigError(`${where}: "routes" must be an array of path prefixes such as "/auth"`);
  }
  if (!existsSync(path.join(dir, SERVICE_ENTRY))) {
    throw new ServiceConfigError(`services/${name} declares "tessera" but has no ${SERVICE_ENTRY}`);
  }
  return { name, dir, port, routes };
}

function assertNoClashes(services: ServiceSpec[]): void {
  const ports = new Map<number, string>();
  const prefixes = new Map<string, string>();
  for (const { name, port, routes } of services) {
    const portOwner = ports.get(port);
    if (portOwner)
      throw new ServiceConfigError(`services ${portOwner} and ${name} both declare port ${port}`);
    ports.set(port, name);
    for (const prefix of routes) {
      const routeOwner = prefixes.get(prefix);
      if (routeOwner) throw new ServiceConfigError(`services ${routeOwner} and ${name} both route ${prefix}`);
      prefixes.set(prefix, name);
    }
  }
}

/**
 * The services on ports free right now instead of the ports they declare, so that a second runner
 * (the e2e tests) works beside `npm start`. Ports come from the OS one at a time while the previous
 * ones are still free, so they are distinct, and none is in `taken` (ports already given out, e.g.
 * the gateway's): each port added to it.
 */
export async function withFreePorts(
  services: readonly ServiceSpec[],
  taken: Set<number> = new Set(),
  pick: () => Promise<number> = () => findFreePort(),
): Promise<ServiceSpec[]> {
  const moved: ServiceSpec[] = [];
  for (const service of services) moved.push({ ...service, port: await freePortBesides(taken, pick) });
  return moved;
}

/** Each service owns one database: tessera_<name>, dashes turned into underscores. */
export function databaseName(service: string): string {
  return `tessera_${service.replaceAll('-', '_')}`;
}

/** The admin URL pointed at another database on the same server. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Where every service fetches the keys that verify access tokens: the identity service. */
export function jwksUrl(services: readonly ServiceSpec[]): string | undefined {
  const identity = services.find((service) => service.name === 'identity');
  return identity && `http://127.0.0.1:${identity.port}/.well-known/jwks.json`;
}

export interface Infrastructure {
  /** Superuser URL of the Postgres server. */
  postgresUrl: string;
  natsUrl: string;
  logLevel: string;
  /** Each service's NATS password (its user is its name), when the runner configured the server. */
  natsPasswords?: Readonly<Record<string, string>>;
}

export function serviceEnv(
  service: ServiceSpec,
  services: readonly ServiceSpec[],
  infra: Infrastructure,
): Record<string, string> {
  const jwks = jwksUrl(services);
  return {
    SERVICE_NAME: service.name,
    PORT: String(service.port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl(infra.postgresUrl, databaseName(service.name)),
    NATS_URL: infra.natsUrl,
    ...(infra.natsPasswords?.[service.name]
      ? { NATS_USER: service.name, NATS_PASSWORD: infra.natsPasswords[service.name] }
      : {}),
    ...(jwks ? { JWKS_URL: jwks } : {}),
    NODE_ENV: 'development',
    LOG_LEVEL: infra.logLevel,
  };
}

/** One route per path prefix of each service, in the shape of the gateway's GATEWAY_ROUTES. */
export function gatewayRoutes(services: readonly ServiceSpec[]): GatewayRoute[] {
  return services.flatMap(({ name, port, routes }) =>
    routes.map((prefix) => ({ service: name, prefix, upstream: `http://127.0.0.1:${port}` })),
  );
}

export interface GatewaySettings {
  port: number;
  host: string;
  logLevel: string;
  /** Where the gateway serves /metrics (never on its public port); absent: no metrics server. */
  metricsPort?: number;
  /** Requests per client address per minute (GATEWAY_RATE_LIMIT_MAX); absent: 6000. */
  rateLimitMax?: string;
}

export function gatewayEnv(
  services: readonly ServiceSpec[],
  settings: GatewaySettings,
): Record<string, string> {
  const jwks = jwksUrl(services);
  return {
    SERVICE_NAME: 'gateway',
    GATEWAY_PORT: String(settings.port),
    GATEWAY_HOST: settings.host,
    ...(settings.metricsPort !== undefined ? { GATEWAY_METRICS_PORT: String(settings.metricsPort) } : {}),
    // Locally every user is one address (this machine): the per-address limit of a deployment
    // (600 a minute) would throttle a demo of fifty users as if they were one.
    GATEWAY_RATE_LIMIT_MAX: settings.rateLimitMax ?? '6000',
    GATEWAY_ROUTES: JSON.stringify(gatewayRoutes(services)),
    ...(jwks ? { JWKS_URL: jwks } : {}),
    NODE_ENV: 'development',
    LOG_LEVEL: settings.logLevel,
  };
}
