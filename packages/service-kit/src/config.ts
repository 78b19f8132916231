import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once, failing fast with a message that names every
 * offending variable, so a misconfigured process never half-starts.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const problem =
      issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    return `  ${variable}: ${problem}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** What every service reads; a service extends it with its own variables. */
export const serviceConfigSchema = z.object({
  SERVICE_NAME: z.string().regex(/^[a-z][a-z0-9-]*$/),
  /**
   * Required: a process that forgot it must not fall back to development (dev keys, dev mailbox,
   * open defaults). The local runner, the harnesses, the image and compose all set it.
   */
  NODE_ENV: z.enum(['development', 'test', 'production'], {
    error: (issue) =>
      issue.input === undefined
        ? 'is required: development, test or production (no default, so production never starts as development)'
        : 'must be development, test or production',
  }),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535),
  LOG_LEVEL: logLevel.default('info'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  NATS_URL: z.string().min(1),
  /** Namespaces streams and subjects (tests, sandboxes); empty in production. */
  NATS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_]*$/)
    .default(''),
  /** Replicas of each stream this service provisions: 3 on the production cluster. */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** The service's own NATS user and password (required in production: infra/nats/README.md). */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  /** A CA file: connect to NATS over TLS, verifying the server against it. */
  NATS_TLS_CA: z.string().min(1).optional(),
  JWKS_URL: z.url().optional(),
  JWT_ISSUER: z.string().min(1).default('tessera-identity'),
  JWT_AUDIENCE: z.string().min(1).default('tessera'),
  RATE_LIMIT_MAX: z.coerce.number().int().positive().default(1000),
  /**
   * Requests get 503 OVERLOADED while the event loop's mean delay over the last second exceeds this.
   * Tests raise it: a test process stalled two seconds on a busy CI machine is not overloaded.
   */
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().positive().default(2_000),
  /**
   * Which peers may set X-Forwarded-For (proxy-addr syntax): the gateway alone, so that per-IP
   * limits count clients, not the gateway. Loopback by default (the local runner); a deployment
   * names the gateway's address (docker-compose.yml). Never a whole private range: any container
   * there could claim any client address.
   */
  TRUST_PROXY: z.string().min(1).default('loopback'),
  /** How often the kit prunes its own tables (outbox, inbox, idempotency keys). */
  KIT_PRUNE_INTERVAL_MS: z.coerce.number().int().min(50).default(3_600_000),
  /** Published outbox rows are kept this long (to diagnose and re-publish by hand). */
  OUTBOX_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .positive()
    .default(7 * 24),
  /**
   * Inbox rows de-duplicate redeliveries; keep them longer than any consumer reset could replay
   * (an older event replayed after its row is gone would be applied again).
   */
  INBOX_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .positive()
    .default(90 * 24),
  /** Client retries of an Idempotency-Key come within minutes or hours. */
  IDEMPOTENCY_KEY_RETENTION_HOURS: z.coerce.number().int().positive().default(24),
});

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;
