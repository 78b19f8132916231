import { ConfigError, type ServiceConfig } from '../config.ts';
import type { BusOptions } from './bus.ts';

/**
 * How a service connects to NATS. In production the bus is part of the trust boundary: a service
 * without its own credentials would connect anonymously (to a server that allows it, with every
 * permission), so it refuses to start. Checked here rather than in the schema, which services extend.
 */
export function busOptionsFor(
  name: string,
  config: Pick<
    ServiceConfig,
    'NODE_ENV' | 'NATS_URL' | 'NATS_PREFIX' | 'NATS_USER' | 'NATS_PASSWORD' | 'NATS_TLS_CA'
  >,
): BusOptions {
  if (config.NODE_ENV === 'production' && !(config.NATS_USER && config.NATS_PASSWORD)) {
    throw new ConfigError(
      'Invalid configuration:\n  NATS_USER, NATS_PASSWORD: required in production (the service’s own NATS credentials)',
    );
  }
  if (config.NATS_PASSWORD && !config.NATS_USER) {
    throw new ConfigError('Invalid configuration:\n  NATS_USER: required with NATS_PASSWORD');
  }
  return {
    url: config.NATS_URL,
    name,
    prefix: config.NATS_PREFIX,
    ...(config.NATS_USER ? { user: config.NATS_USER, password: config.NATS_PASSWORD ?? '' } : {}),
    ...(config.NATS_TLS_CA ? { tlsCa: config.NATS_TLS_CA } : {}),
  };
}
