import { pino, type Logger, type LoggerOptions } from 'pino';
import { traceLogFields } from './tracing/tracing.ts';

export type { Logger };

/** Paths never written to logs: credentials and the personal data we hold. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  '*.password',
  '*.new_password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.otp',
  '*.email',
];

/**
 * Pretty lines for a person, JSON for machines (log shippers parse it).
 * `LOG_FORMAT=pretty|json` decides; without it, pretty in a terminal outside production.
 * The local runner sets it for its children, whose output is a pipe.
 */
export function loggerOptions(options: { name: string; level?: string; pretty?: boolean }): LoggerOptions {
  const format = process.env.LOG_FORMAT;
  const pretty =
    options.pretty ??
    (format ? format === 'pretty' : process.stdout.isTTY && process.env.NODE_ENV !== 'production');
  return {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Every line written while a span is active names its trace (src/tracing/tracing.ts).
    mixin: traceLogFields,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,name' } } }
      : {}),
  };
}

export function createLogger(options: { name: string; level?: string; pretty?: boolean }): Logger {
  return pino(loggerOptions(options));
}
