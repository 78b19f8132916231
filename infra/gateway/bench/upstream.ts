/**
 * The upstream of the gateway benchmark, run as its own process: `GET /bench/ping` answering
 * `{"pong":true}`, plus the `/healthz` and `/docs/json` every service has.
 * - `UPSTREAM=kit` (default): a service as every Tessera service is built, by the service kit's
 *   `createHttpApp` (helmet, under-pressure, zod, problem+json, request logs at LOG_LEVEL), its own
 *   rate limit off as behind the gateway;
 * - `UPSTREAM=bare`: a plain fastify server without logging, the cheapest upstream there is.
 * Sends `{ url }` to its parent over IPC once listening.
 */
import Fastify from 'fastify';
import { createHttpApp, createLogger } from '@tessera/service-kit';

async function build() {
  if ((process.env.UPSTREAM ?? 'kit') === 'kit') {
    const logger = createLogger({
      name: 'bench-upstream',
      level: process.env.LOG_LEVEL ?? 'info',
      pretty: false,
    });
    const app = await createHttpApp({ name: 'bench-upstream', logger, rateLimitMax: false });
    app.get('/bench/ping', () => ({ pong: true }));
    return app;
  }
  const app = Fastify({ logger: false });
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/docs/json', () => ({ openapi: '3.1.0', info: { title: 'bench', version: '1' }, paths: {} }));
  app.get('/bench/ping', () => ({ pong: true }));
  return app;
}

const app = await build();
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ url });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
