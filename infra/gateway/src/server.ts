import { createServer } from 'node:http';
import { createServiceMetrics } from '@tessera/service-kit';
import { buildGateway } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

/** Process entry: load config, build, listen, shut down gracefully on SIGINT/SIGTERM. */

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const metrics = createServiceMetrics('gateway', { processMetrics: true });
const app = await buildGateway(config, { metrics });
// Prometheus scrapes its own port: the public one routes API prefixes only.
const metricsServer =
  config.metricsPort === undefined
    ? undefined
    : createServer((request, response) => {
        if (request.url !== '/metrics') return void response.writeHead(404).end();
        metrics.registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
          (err: unknown) => {
            app.log.error({ err }, 'metrics failed');
            response.writeHead(500).end();
          },
        );
      });

let shuttingDown = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (shuttingDown) {
    app.log.warn({ signal }, 'second signal, exiting now');
    process.exit(1);
  }
  shuttingDown = true;
  app.log.info({ signal }, 'shutting down');
  // Never hang forever on a stuck connection.
  setTimeout(() => {
    app.log.error('graceful shutdown timed out');
    process.exit(1);
  }, 10_000).unref();
  try {
    metricsServer?.close();
    await app.close();
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'error while shutting down');
    process.exit(1);
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, (s: NodeJS.Signals) => void shutdown(s));
}

try {
  const url = await app.listen({ port: config.port, host: config.host });
  if (metricsServer && config.metricsPort !== undefined) {
    const server = metricsServer;
    const port = config.metricsPort;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.host, resolve);
    });
  }
  app.log.info(
    { url, routes: config.routes.map((r) => `${r.prefix} -> ${r.service} (${r.upstream})`) },
    `gateway listening on ${url} (docs at ${url}/docs)`,
  );
} catch (err) {
  app.log.fatal({ err }, 'failed to start the gateway');
  process.exit(1);
}
